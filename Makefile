# Two commands: `make run` (the main job) and `make test` (the test suite).
# Each creates the virtual environment .venv and installs the pinned requirements first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: run test clean

$(VENV)/installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Fetch what is missing (weights ~80 MB, sample inputs), then run with the original's defaults.
# Extra flags: make run ARGS="--gpu -1 --max-num-epochs 200"
run: $(VENV)/installed
	./download.sh
	$(PY) nstyle.py $(ARGS)

test: $(VENV)/installed
	$(PY) -m pytest

clean:
	rm -rf $(VENV)

# make run: set up and start the app.  make test: set up and run every test.
# make test-fast: the library and app tests without a browser, for the edit-run loop.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test test-fast lint benchmark assets

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/streamlit run app.py

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest --ignore=tests/e2e

lint: install
	$(BIN)/ruff check resnet_core ui app_pages tests benchmarks app.py
	$(BIN)/ruff format --check resnet_core ui app_pages tests benchmarks app.py

benchmark: install
	$(BIN)/python -m benchmarks.pipeline
	$(BIN)/python -m benchmarks.cpu_precision
	$(BIN)/python -m benchmarks.latency
	$(BIN)/python -m benchmarks.live_plotting
	$(BIN)/python -m benchmarks.residual_lab

# The starter models the app opens with (assets/README.md says how they were made and what they score).
# Both train on the 55,000 training digits that are not held out; about 20 minutes each on a 2-core CPU.
STARTER := --recipe fast --arch resnet20 --epochs 4 --seed 0 --device cpu --no-resume-state
# Then the Residual Lab's results measured in advance: twins at 8, 20 and 56 layers on all 60,000 digits,
# with their lesions and loss slices; about 15 minutes on a 2-core CPU.
assets: install
	$(BIN)/python -m resnet_core train $(STARTER) --out assets/starter-resnet20.pt
	$(BIN)/python -m resnet_core train $(STARTER) --no-residual --out assets/starter-plain20.pt
	$(BIN)/python -m resnet_core.depth_study.reference --out assets/lab-reference.pt

# make run: set up and start the app.  make test: set up and run every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint benchmark

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

lint: install
	$(BIN)/ruff check resnet_core ui app_pages tests benchmarks app.py
	$(BIN)/ruff format --check resnet_core ui app_pages tests benchmarks app.py

benchmark: install
	$(BIN)/python -m benchmarks.pipeline
	$(BIN)/python -m benchmarks.cpu_precision
	$(BIN)/python -m benchmarks.latency
	$(BIN)/python -m benchmarks.live_plotting
	$(BIN)/python -m benchmarks.residual_lab

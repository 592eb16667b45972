# Gig Rights Assistant. `make run` starts the app; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run index test install install-dev bench coverage clean

run: install index
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) \
	  --server.headless true --browser.gatherUsageStats false

index: install
	@$(VENV)/bin/gigrights ingest --manifest corpus/manifest.yaml --prune \
	  || echo "Some documents failed (listed above); the app starts with the rest."

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

install-dev: $(VENV)/.installed-dev
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

test: install-dev
	$(PY) -m pytest -q -p no:cacheprovider

bench: install-dev
	$(PY) scripts/benchmark.py --write docs/benchmarks.md

coverage: install
	$(PY) scripts/corpus_coverage.py --write docs/corpus-coverage.md

clean:
	rm -rf $(VENV) data

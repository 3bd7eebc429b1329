# nnviz: `make run` launches the app on a demo, `make test` runs the whole suite.
# Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: run test test-torch lint bench bench-gui fuzz hostile qt-libs clean help

help:
	@echo "make run        set up .venv and launch nnviz on the spiral demo"
	@echo "make test       set up .venv and run the whole test suite headless"
	@echo "make lint       ruff and the import-layer contracts (lint-imports)"
	@echo "make bench      engine benchmark: nnviz vs a minimal NumPy loop (and PyTorch if installed)"
	@echo "make bench-gui  GUI benchmark (offscreen window at full speed)"
	@echo "make test-torch the PyTorch agreement tests (installs torch 2.13.0 CPU)"
	@echo "make fuzz       the long fuzz runs: corrupted network files and every hostile-input case"
	@echo "make hostile    every hostile-input case in its own process, with the report (counts, slowest, largest)"
	@echo "make package    PyInstaller bundle, tarball and .deb in dist/"
	@echo "make package-test  smoke-test the bundle and the .deb (offscreen and under Xvfb)"

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	touch $@

$(VENV)/.installed-app: $(VENV)/.created pyproject.toml
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-app pyproject.toml
	$(PIP) install --quiet -e ".[test,dev,onnx,images]"
	touch $@

qt-libs:
	@scripts/qt-system-libs.sh

run: $(VENV)/.installed-app qt-libs
	$(VENV)/bin/nnviz

test: $(VENV)/.installed-test
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider

lint: $(VENV)/.installed-test
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache

bench: $(VENV)/.installed-app
	$(VENV)/bin/nnviz bench

bench-gui: $(VENV)/.installed-app
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/nnviz bench --gui

# The agreement tests against PyTorch skip without torch; this installs the CPU build and
# runs them (pip takes torch 2.13.0 from this project's machines' local wheel store).
test-torch: $(VENV)/.installed-test
	$(PIP) install --quiet "torch==2.13.0"
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider tests/core/test_core_optim.py tests/io/test_onnx.py

fuzz: $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -m fuzz -o addopts=""

hostile: $(VENV)/.installed-test
	$(PY) tests/hostile/hostile_run.py --json hostile-report.json

clean:
	rm -rf $(VENV) build dist *.egg-info

# Installer (packaging/README.md): `make package` builds dist/nnviz/ (PyInstaller one-folder
# bundle), the .tar.gz and the .deb in a clean venv; `make package-test` smoke-tests them.
.PHONY: package package-test

package:
	packaging/build.sh

package-test:
	packaging/smoke_test.sh

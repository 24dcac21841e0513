# One command each: `make run` (set up and run on the bundled sample), `make test`, `make ui`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/data/.dagster

.PHONY: install run test lint ui

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: install
	$(BIN)/segmentation-pipeline run --data-dir data

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# `dg dev` finds the project by [tool.dg] in pyproject.toml; it warns unless the project's .venv is the active one.
ui: install
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg dev

# One command each: `make run` (set up and run on the bundled sample), `make test`, `make ui` (`make ui-postgres`
# for the production instance on PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/data/.dagster

.PHONY: install install-test run test lint ui ui-postgres

# `make run` installs the project alone; the tests add their extras (PySpark among them: 400 MB, and imported by
# Great Expectations on every run once installed).
install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: install
	$(BIN)/segmentation-pipeline run --data-dir data

test: install-test
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# `dg dev` finds the project by [tool.dg] in pyproject.toml; it warns unless the project's .venv is the active one.
ui: install
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg dev

# The same on the production instance (README: Production deployment): run, event-log and schedule storage in
# PostgreSQL, connected through DAGSTER_PG_USERNAME, DAGSTER_PG_PASSWORD, DAGSTER_PG_HOST, DAGSTER_PG_DB and
# DAGSTER_PG_PORT from the environment. Its DAGSTER_HOME gets a copy of the shipped dagster.yaml once (edit the
# copy).
PG_INSTANCE_YAML := segmentation_pipeline/instance/postgres/dagster.yaml
PG_ENV := DAGSTER_PG_USERNAME DAGSTER_PG_PASSWORD DAGSTER_PG_HOST DAGSTER_PG_DB DAGSTER_PG_PORT
ui-postgres: export DAGSTER_HOME := $(CURDIR)/data/.dagster-postgres
ui-postgres: install
	@for name in $(PG_ENV); do printenv $$name >/dev/null || \
	  { echo "make ui-postgres: $$name is not set (the instance reads $(PG_ENV))" >&2; exit 1; }; done
	@test -f "$(DAGSTER_HOME)/dagster.yaml" || install -D -m 644 $(PG_INSTANCE_YAML) "$(DAGSTER_HOME)/dagster.yaml"
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg dev

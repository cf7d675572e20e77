# The one place that knows the project's commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000
# Like its SECRET_KEY, the test run's log signing key is for tests only (supportpin genlogkey).
TEST_LOG_KEY := PRIVATE+KEY+test.supportpin.invalid/log+bc620e70+AbpitEK/TyCXmPd3qqRFE/29MC6DbRIrJmooB5H7LElw

.PHONY: run test lint format clean

$(BIN)/supportpin: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Start the service with demo data on SQLite (http://127.0.0.1:8000).
run: $(BIN)/supportpin
	DEBUG=1 $(BIN)/supportpin migrate --no-input
	DEBUG=1 $(BIN)/supportpin demo
	DEBUG=1 $(BIN)/supportpin runserver $(HOST)

## Run the whole suite (DATABASE_URL=postgres://… runs it on PostgreSQL).
test: $(BIN)/supportpin
	SECRET_KEY=test-only-secret-key SUPPORTPIN_LOG_SIGNING_KEY=$(TEST_LOG_KEY) $(BIN)/pytest $(PYTEST_ARGS)

lint: $(BIN)/supportpin
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=lint-only-secret-key $(BIN)/mypy

format: $(BIN)/supportpin
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache

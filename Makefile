# The one place that knows the project's commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000
# Like its SECRET_KEY, the test run's log signing key is for tests only (supportpin genlogkey).
TEST_LOG_KEY := PRIVATE+KEY+test.supportpin.invalid/log+bc620e70+AbpitEK/TyCXmPd3qqRFE/29MC6DbRIrJmooB5H7LElw

.PHONY: run test drill lint format clean

$(BIN)/supportpin: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The demo's settings: webhooks to the local receiver, e-mails printed, a worker pass every second.
DEMO_ENV := DEBUG=1 EMAIL_URL=consolemail:// \
	SUPPORTPIN_ACTION_WEBHOOK_URL=http://127.0.0.1:8025/actions \
	SUPPORTPIN_ACTION_WEBHOOK_SECRET=demo-webhook-secret \
	SUPPORTPIN_EVENTS_WEBHOOK_URL=http://127.0.0.1:8025/events \
	SUPPORTPIN_EVENTS_WEBHOOK_SECRET=demo-webhook-secret

## Start the demo on SQLite: web server on HOST (127.0.0.1:8000), worker, webhook receiver.
## Ctrl-C stops all three.
run: $(BIN)/supportpin
	$(DEMO_ENV) $(BIN)/supportpin migrate --no-input
	$(DEMO_ENV) $(BIN)/supportpin demo --address $(HOST)
	$(DEMO_ENV) $(BIN)/supportpin demo-receiver --port 8025 & receiver=$$!; \
	$(DEMO_ENV) $(BIN)/supportpin worker --interval 1 & worker=$$!; \
	trap 'kill $$receiver $$worker 2>/dev/null; wait' EXIT; \
	trap 'exit 130' INT TERM; \
	$(DEMO_ENV) $(BIN)/supportpin runserver $(HOST)

## Run the whole suite (DATABASE_URL=postgres://… runs it on PostgreSQL).
test: $(BIN)/supportpin
	SECRET_KEY=test-only-secret-key SUPPORTPIN_LOG_SIGNING_KEY=$(TEST_LOG_KEY) $(BIN)/pytest $(PYTEST_ARGS)

## Two app nodes and two workers behind nginx under load and faults, then the promises are
## checked (PostgreSQL, nginx and Redis on this machine; docs/deploy.md "The multi-node drill").
drill: $(BIN)/supportpin
	$(BIN)/python drill/drill.py $(DRILL_ARGS)

lint: $(BIN)/supportpin
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=lint-only-secret-key $(BIN)/mypy

format: $(BIN)/supportpin
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache

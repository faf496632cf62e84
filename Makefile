# statusmsg — `make run` runs the whole system, `make test` runs every test.
PYTHON := $(shell ./scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest

.PHONY: run test test-fast test-services install migrate lint clean

$(BIN)/.installed: requirements.txt
	@test -n "$(PYTHON)" || (echo "no Python 3.12+ found; see the message above" >&2; exit 1)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python -m statusmsg.run

migrate: install
	$(BIN)/python manage.py migrate

# The fast suite on SQLite and the in-memory layer, then the tests that need the real
# PostgreSQL and Redis (they skip with a reason when those are down, and fail under CI=true).
test: lint test-fast test-services

test-fast: install
	$(PYTEST) -m "not services" -q

test-services: install
	STATUSMSG_TEST_SERVICES=1 $(PYTEST) -m services -q

# Style, then the layer rules of DESIGN.md (.importlinter): CI fails when a contract breaks.
lint: install
	$(BIN)/python -m ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache

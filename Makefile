# The README's two set-up commands, and the checks CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
TEST_PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

run: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/bountybox demo
	$(BIN)/bountybox serve

# The two databases' suites run side by side (each in its own schema or file); each prints its
# output when it finishes.
test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(MAKE) lint
	$(MAKE) -j2 --output-sync=target test-sqlite test-postgres

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

test-sqlite:
	$(BIN)/pytest

test-postgres:
	BOUNTYBOX_TEST_DATABASE_URL=$(TEST_PG_URL) $(BIN)/pytest

# The two commands of the README:
#   make run    set up (venv, install, migrate), create a demo account on first run, serve on 127.0.0.1:8000
#   make test   set up, lint, install the test peers (Debian: chromium, nodejs, kannel,
#               faketime), and run the whole test suite (what .ci/run calls)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n auto

.PHONY: run test lint format bench clean test-peers

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/centauro db upgrade
	$(BIN)/centauro serve --host $(HOST) --port $(PORT) --demo

lint: $(VENV)/.installed
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test-peers:
	bash scripts/test-system-packages.sh

test: lint test-peers
	$(BIN)/pytest $(PYTEST_ARGS)

format: $(VENV)/.installed
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(VENV)/.installed
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

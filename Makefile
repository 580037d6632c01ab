# `make run`: install and run Marquee on the embedded defaults. `make test`: install and run the checks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench

$(BIN)/marquee: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/marquee
	$(BIN)/marquee run

lint: $(BIN)/marquee
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: $(BIN)/marquee
	$(BIN)/python -m bench.run

# `make run`: install and run Marquee on the embedded defaults. `make test`: install and run the checks.
# Both install from requirements-test.lock (exact versions with hashes, the ones the tests passed
# with); the image installs requirements.lock, the same versions without the test tools.
# After changing dependencies in pyproject.toml: `make lock`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench lock

$(BIN)/marquee: pyproject.toml requirements-test.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

run: $(BIN)/marquee
	$(BIN)/marquee run

lint: $(BIN)/marquee
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

test: lint
	$(BIN)/pytest -q

bench: $(BIN)/marquee
	$(BIN)/python -m bench.run

lock: $(BIN)/marquee
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--strip-extras -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--extra test --strip-extras -c requirements.lock -o requirements-test.lock pyproject.toml

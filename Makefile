# `make run`: install and run Marquee on the embedded defaults. `make test`: install and run the checks.
# Both install from requirements-test.lock (exact versions with hashes, the ones the tests passed
# with); the image installs requirements.lock, the same versions without the test tools.
# After changing dependencies in pyproject.toml: `make lock`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The Kubernetes manifests' checks run in their own virtualenv (checkov's pins are its own).
K8S_VENV ?= .venv-k8s
K8S_BIN := $(K8S_VENV)/bin
KUBERNETES_VERSION := 1.32.0
RENDERED := build/kubernetes

.PHONY: run test lint lint-k8s bench lock

$(BIN)/marquee: pyproject.toml requirements-test.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

run: $(BIN)/marquee
	$(BIN)/marquee run

$(K8S_BIN)/checkov: requirements-k8s.lock
	$(PYTHON) -m venv $(K8S_VENV)
	$(K8S_BIN)/pip install --quiet --require-hashes -r requirements-k8s.lock
	touch $@

lint: $(BIN)/marquee lint-k8s
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

# The manifests as `kubectl apply -k` renders them: yamllint on the sources, then the rendered
# objects against Kubernetes $(KUBERNETES_VERSION)'s schemas and checkov's Kubernetes policies.
lint-k8s: $(K8S_BIN)/checkov
	$(K8S_BIN)/yamllint --strict -c deploy/kubernetes/.yamllint deploy/kubernetes
	mkdir -p $(RENDERED)
	kubectl kustomize deploy/kubernetes > $(RENDERED)/marquee.yaml
	kubectl kustomize deploy/kubernetes/migrate > $(RENDERED)/migrate.yaml
	$(K8S_BIN)/kubernetes-validate --kubernetes-version $(KUBERNETES_VERSION) --strict --quiet $(RENDERED)/*.yaml
	$(K8S_BIN)/checkov --directory $(RENDERED) --framework kubernetes --compact --quiet --skip-download

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
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--strip-extras -o requirements-k8s.lock requirements-k8s.in

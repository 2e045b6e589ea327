# One entry point per job; every target works on a fresh Debian machine as root.
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= examples/config/executor.yaml
PACKAGES := src/executor_core src/executor_adapters src/executor_app src/hourglass_performer

.PHONY: setup env image k8s demo test test-unit lint proto

setup:  ## .venv with the project and its dev tools, the native BN254 library, anvil and solc
	bash scripts/setup-python.sh
	bash scripts/build-native.sh
	bash scripts/install-chain-tools.sh

env:  ## Docker engine, debootstrap and registry; start dockerd
	bash scripts/setup-env.sh

k8s: env  ## CNI plugins, the Kubernetes control plane, kubelet and etcd built from the Go module proxy (cached)
	bash scripts/setup-k8s.sh

image: env setup  ## base image and example performer image (cached)
	PYTHON=$(PY) bash examples/performer/build-image.sh

demo: setup image  ## run the executor on the example AVS and send it a few tasks
	$(PY) scripts/demo.py --config $(CONFIG)

test: setup image k8s  ## the whole suite against real Docker and a local Kubernetes cluster, then lint
	$(PY) -m pytest -q -p no:cacheprovider
	$(MAKE) --no-print-directory lint

test-unit: setup  ## unit tests only (no Docker needed)
	$(PY) -m pytest -q tests/unit

lint: setup  ## ruff over everything, mypy --strict over the packages
	$(PY) -m ruff check src tests examples scripts bench
	$(PY) -m ruff format --check src tests examples scripts bench
	$(PY) -m mypy --strict $(PACKAGES)
	@if command -v gofmt >/dev/null 2>&1; then test -z "$$(gofmt -l native)" || { gofmt -l native; exit 1; }; fi

proto: setup  ## regenerate src/hourglass_proto from proto/
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH PYTHON=$(PY) bash scripts/gen-proto.sh

# One entry point per job; every target works on a fresh Debian machine as root.
PYTHON ?= python3
CONFIG ?= examples/config/executor.yaml

.PHONY: setup env image demo test test-unit lint proto clean-docker

setup:  ## install the project and its dev tools into the current Python
	$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[dev]'

env:  ## Docker engine, debootstrap and registry; start dockerd
	bash scripts/setup-env.sh

image: env  ## base image and example performer image (cached)
	bash examples/performer/build-image.sh

demo: setup image  ## run the executor on the example AVS and send it a few tasks
	$(PYTHON) scripts/demo.py --config $(CONFIG)

test: setup image  ## the whole suite: unit, contract and end to end, against real Docker
	$(PYTHON) -m pytest -q

test-unit: setup  ## unit tests only (no Docker needed)
	$(PYTHON) -m pytest -q tests/unit

lint:  ## ruff over everything, mypy --strict over the packages
	$(PYTHON) -m ruff check src tests examples scripts bench
	$(PYTHON) -m ruff format --check src tests examples scripts bench
	$(PYTHON) -m mypy --strict src/executor_core src/executor_adapters src/executor_app src/hourglass_performer

proto:  ## regenerate src/hourglass_proto from proto/
	bash scripts/gen-proto.sh

# One entry point for people and CI. `make demo` and `make test` do all set-up on a fresh
# Debian machine as root: venv, dependencies, Docker engine, loopback registry, stand-in images.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv engine swarm swarm-worker swarm-teardown bench-swarm bench-scale demo test unit integration lint bench clean-demo

venv: $(STAMP)
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

engine:
	bash scripts/engine-setup.sh

# The engine as a single-node Swarm manager (idempotent; plain-engine tests keep working on it),
# and a second node in a network namespace for the two-node tests (docs/swarm-nodes.md).
swarm: engine
	bash scripts/swarm-setup.sh manager

swarm-worker: swarm
	bash scripts/swarm-setup.sh worker

swarm-teardown:
	bash scripts/swarm-setup.sh teardown-worker

demo: venv engine
	bash scripts/demo.sh

# Style, the architecture's one-way rule (import-linter contracts in pyproject.toml) and types.
MYPY_PATHS := reconciler/model reconciler/plan reconciler/execute reconciler/reconcile.py \
              reconciler/engine tests/unit/fake_engine.py

lint: venv
	$(BIN)/ruff check reconciler tests benchmarks
	$(BIN)/ruff format --check reconciler tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy $(MYPY_PATHS)

unit: venv
	$(BIN)/pytest -q tests/unit

integration: venv engine swarm
	RECONCILER_REQUIRE_ENGINE=1 $(BIN)/pytest -q tests/integration

# The whole suite, as CI runs it: lint (style, architecture, types), then unit and integration
# tests against the real engine.
test: venv engine swarm lint
	RECONCILER_REQUIRE_ENGINE=1 $(BIN)/pytest -q -p no:cacheprovider tests

# The benchmark runs reconciler on the interpreter docker-compose 1.29 runs on (Debian's
# /usr/bin/python3: its #! line), so that two Python programs are compared on one interpreter
# build; a venv of its own, with the working tree installed editable like .venv.
BENCH_PYTHON ?= $(shell $(BIN)/python -m benchmarks.machine docker-compose)
BENCH_VENV := .venv-bench
BENCH_BIN  := $(BENCH_VENV)/bin

$(BENCH_VENV)/.installed: pyproject.toml | $(STAMP)
	$(or $(BENCH_PYTHON),$(PYTHON)) -m venv $(BENCH_VENV)
	$(BENCH_BIN)/pip install -q --upgrade pip
	$(BENCH_BIN)/pip install -q -e .
	touch $@

bench: venv engine $(BENCH_VENV)/.installed
	$(BENCH_BIN)/python -m benchmarks.run

# target swarm: no-op apply of 50 services and an env change of one vs docker stack deploy
# issue 14 at scale: 500 containers (docker-compose 1.29 stalls from ~200: not run), watch of 500
bench-scale: venv engine $(BENCH_VENV)/.installed
	$(BENCH_BIN)/python -m benchmarks.run --sizes 500 --repeat 3 --tools reconciler,limit \
		--watch-size 500 --watch-minutes 2 --watch-samples 5 --out docs/benchmarks-scale.md

bench-swarm: venv swarm
	$(BIN)/python -m benchmarks.swarmbench

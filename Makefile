# claude-assets: every target creates .venv on first use, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WORLD  ?= demo
PORT   ?= 8787
# the FinOps Foundation's FOCUS validator (tests of the FOCUS export): Python 3.12, its own environment
FOCUS_VENV    := .venv-focus
FOCUS_PYTHON  ?= 3.12.1
FOCUS_PINS    := "focus-validator==2.2.1" "numpy<2" "pyarrow<18"
FOCUS_STAMP   := $(FOCUS_VENV)/.installed-focus-validator-2.2.1

.PHONY: demo test chaos bad-inputs ui bench lint format simulator clean focus-validator docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(FOCUS_STAMP):
	test -x $(FOCUS_VENV)/bin/python || PYENV_VERSION=$(FOCUS_PYTHON) python3 -m venv $(FOCUS_VENV)
	$(FOCUS_VENV)/bin/python -m pip install -qq --disable-pip-version-check --upgrade pip
	$(FOCUS_VENV)/bin/python -m pip install -qq --disable-pip-version-check $(FOCUS_PINS)
	touch $(FOCUS_STAMP)

## focus-validator: install the FOCUS validator in .venv-focus (Python 3.12; make test needs it)
focus-validator: $(FOCUS_STAMP)

## demo: backfill the simulator's demo organizations (last 90 days) into data/warehouse.duckdb, print a summary
demo: $(STAMP)
	$(BIN)/python -m demo

## test: lint, the architecture contracts (docs/architecture.md), then the whole test suite (two workers; each test file runs whole on one worker, so its module fixtures are built once)
test: $(STAMP) $(FOCUS_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

## chaos: the chaos suite in full (30 days of the medium world, every fault kind, four SIGKILLs, then the secrets scan); prints its figures
chaos: $(STAMP)
	CHAOS_SCALE=full $(BIN)/python -m pytest -m chaos -p no:cacheprovider -q

## bad-inputs: the bad-input matrix alone (docs/reliability.md): one case per wrong shape, key, day, value, path or server answer
bad-inputs: $(STAMP)
	$(BIN)/python -m pytest -m bad_input -n 2 -q

## ui: the demo simulator on 127.0.0.1:8787 and Dagster (webserver + daemon) on the demo's warehouse and runs
ui: $(STAMP)
	$(BIN)/python -m demo.ui

## simulator: run the simulator in the foreground (WORLD=demo|small|medium|large, PORT=...)
simulator: $(STAMP)
	$(BIN)/python -m simulator --world $(WORLD) --port $(PORT)

## bench: benchmarks (print figures; not tests)
bench: $(STAMP)
	$(BIN)/python -m bench.simulator_latency
	$(BIN)/python -m bench.backfill --world large --days 90 --kinds console

## docs: regenerate the generated documents of docs/ (data dictionary, configuration reference) from the code
docs: $(STAMP)
	$(BIN)/python -m docgen

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(FOCUS_VENV) data .dagster_home

# claude-assets: every target creates .venv on first use, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WORLD  ?= demo
PORT   ?= 8787

.PHONY: demo test ui bench lint format simulator clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## demo: backfill the simulator's demo organizations (last 90 days) into data/warehouse.duckdb, print a summary
demo: $(STAMP)
	$(BIN)/python -m demo

## test: lint, the architecture contracts (docs/architecture.md), then the whole test suite (two workers)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --durations=15

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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) data .dagster_home

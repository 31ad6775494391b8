"""Benchmarks: run on purpose, they print figures (``python -m bench.backfill``, ``python -m bench.simulator_latency``)."""

"""The chaos harness: a backfill run as its own process against the simulator, with faults of every kind
and SIGKILLs at seeded points, compared table by table with a clean run; and the secrets scanner.

- ``scale``: the suite's size (bounded in ``make test``, full in ``make chaos``), from the environment.
- ``faults``: the simulator's fault plan, counted by kind, every kind injected at least once.
- ``run_process``: the run process itself (``python -m tests.chaos.run_process SPEC``).
- ``pipeline``: one warehouse, Dagster home and log folder; attempts of the run process, killed or not.
- ``tables``: table-by-table comparison with a clean warehouse, and the half-written-window check.
- ``secrets``: the scan of logs, the Dagster home, the warehouse and exports for keys and their parts.
"""

"""Benchmark: rebuild the facts (and the FOCUS export) over a range, from a raw layer already landed.

    .venv/bin/python -m bench.facts_rebuild --world large --days 365

Starts ``python -m simulator`` (rate limits lifted, clock frozen at ``--now``), lands the raw tables the
facts read (Console usage, cost and Claude Code; the Enterprise usage and cost reports; the inventory)
for every organization over the range into a DuckDB file (kept with ``--keep DIR`` and reused from
there by a later run), then times what the benchmark is about: one single-run backfill of every
``facts`` and ``exports`` asset over the whole range, as a yearly rebuild would run. Prints the raw and
facts wall times, rows per facts table, peak memory and whether every check passed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

import duckdb
import httpx

from bench.harness import free_port, mb, start_simulator

NOW = "2026-11-22T12:00:00Z"
RAW_GROUPS = ("console", "inventory")
RAW_REPORTS = ("enterprise_usage", "enterprise_cost", "enterprise_user_usage", "enterprise_user_cost")
DERIVED_GROUPS = ("facts", "exports")


def _key_env(slug: str) -> str:
    return f"BENCH_{slug.upper().replace('-', '_')}_KEY"


def _keys(defs, wanted) -> list:
    import dagster as dg

    return [
        k
        for a in defs.assets or []
        if isinstance(a, dg.AssetsDefinition)
        for k, group in a.group_names_by_key.items()
        if wanted(k, group)
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", default="large", help="simulator world (demo, small, medium, large)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=int, default=365, help="days ending the day before --now")
    ap.add_argument("--now", default=NOW, help=f"the simulator's frozen clock (default {NOW})")
    ap.add_argument("--keep", type=Path, help="folder for the raw warehouse: reused when it exists")
    args = ap.parse_args(argv)

    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    from claude_assets.config import OrgConfig, ProjectConfig
    from claude_assets.definitions import build_definitions
    from claude_assets.ingest.enterprise_reports.fetch import first_available_day
    from demo.backfill import QUIET, backfill
    from simulator.clock import parse_instant

    now = parse_instant(args.now)
    end = now.date()
    start = end - timedelta(days=args.days)
    enterprise_start = max(start, first_available_day(now)[0])
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-facts-"))
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "raw_layer.duckdb"
    proc, base = start_simulator(
        args.world, args.seed, args.now, free_port(), "console=1000000,enterprise=1000000"
    )
    try:
        world = httpx.get(f"{base}/_simulator/world").json()
        orgs = world["organizations"]
        for o in orgs:
            os.environ[_key_env(o["slug"])] = o["api_key"]
        config = ProjectConfig(
            organizations=tuple(
                OrgConfig(
                    slug=o["slug"],
                    kind=o["kind"],
                    key_env=_key_env(o["slug"]),
                    base_url=base,
                    rate_limit_per_minute=100_000,
                    history_start=start if o["kind"] == "console" else enterprise_start,
                )
                for o in orgs
            )
        )
        print(
            f"world {args.world}: {len(orgs)} organizations; range {start} -> {end - timedelta(days=1)} "
            f"({args.days} days; Enterprise from {enterprise_start})"
        )
        if raw.exists():
            print(f"raw layer: reusing {raw}")
        else:
            defs = build_definitions(config, str(raw))
            t0 = time.perf_counter()
            results = backfill(
                defs,
                start,
                end,
                selection=_keys(defs, lambda k, g: g in RAW_GROUPS or k.path[-1] in RAW_REPORTS),
                run_config=QUIET,
            )
            ok = all(r.success for r in results)
            print(f"raw layer: {time.perf_counter() - t0:.1f} s ({'ok' if ok else 'FAILED'})")
            if not ok:
                return 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    warehouse = folder / "warehouse.duckdb"
    shutil.copy(raw, warehouse)
    defs = build_definitions(config, str(warehouse))
    t0 = time.perf_counter()
    results = backfill(
        defs, start, end, selection=_keys(defs, lambda k, g: g in DERIVED_GROUPS), run_config=QUIET
    )
    wall = time.perf_counter() - t0
    checks = [e for r in results for e in r.get_asset_check_evaluations()]
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in checks if not e.passed]
    print(f"facts and exports rebuilt over {args.days} days in one run: {wall:.1f} s")
    with duckdb.connect(str(warehouse)) as con:  # the same configuration as the run's connections
        for schema in DERIVED_GROUPS:
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1", [schema]
            ).fetchall():
                rows = con.execute(f"SELECT count(*) FROM {schema}.{name}").fetchone()[0]
                print(f"  {schema}.{name}: {rows:,} rows")
    print(f"checks: {len(checks) - len(failed)} passed, {len(failed)} failed {failed or ''}")
    print(f"runs: {'ok' if all(r.success for r in results) else 'FAILED'}")
    print(f"peak RSS (this process): {mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}")
    print(f"machine: {os.cpu_count()} cores; warehouse kept in {folder}" if args.keep else "")
    return 0 if all(r.success for r in results) and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: does insights.cost_anomalies find every spike the simulator injects, and how many false ones?

    .venv/bin/python -m bench.anomalies --world demo --keep /tmp/anomalies-demo
    .venv/bin/python -m bench.anomalies --world medium --keep /tmp/anomalies-medium

Lands the raw layer and rebuilds the facts with ``bench.facts_rebuild`` (the simulator's clock frozen at
``--now``), then materializes ``insights.cost_anomalies`` through the code location over ``--days`` (90)
judged days, and compares its rows with the spikes the ground truth lists (``/_simulator/truth``, kind
``anomalies``). Enterprise report days are settled only 30 days after they end, so the judged days end
``--settle-days`` (31) before the clock: every judged day is settled, none is left out; the raw range
starts the baseline weeks before the judged days, so the first judged day has its full baseline.

Per organization it prints the injected spikes, those found with the right top driver (a cost row of
that day whose slice is the spiked one, or whose top driver is), the material ones (the spike added at
least the dollar floor to its slice) and the org-days flagged with no spike (false anomalies, per 90 days).
``--set key=value`` overrides a threshold of the ``anomalies`` configuration.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import httpx

from bench import facts_rebuild
from bench.harness import free_port, get_truth, start_simulator

NOW = facts_rebuild.NOW


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", default="demo", help="simulator world (demo, small, medium, large)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=int, default=90, help="days judged")
    ap.add_argument("--settle-days", type=int, default=31, help="days between the last judged day and --now")
    ap.add_argument("--now", default=NOW, help=f"the simulator's frozen clock (default {NOW})")
    ap.add_argument("--keep", type=Path, required=True, help="folder of the warehouse: reused when it exists")
    ap.add_argument("--set", action="append", default=[], help="an anomalies threshold, e.g. min_usd=100")
    args = ap.parse_args(argv)

    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    from claude_assets.config import AnomalySettings, OrgConfig, ProjectConfig
    from claude_assets.definitions import build_definitions
    from claude_assets.insights.anomalies.tables import COST_ANOMALIES
    from demo.backfill import QUIET, backfill
    from simulator.clock import parse_instant

    settings = AnomalySettings(**dict(s.split("=", 1) for s in args.set))
    today = parse_instant(args.now).date()
    end = today - timedelta(days=args.settle_days)
    start = end - timedelta(days=args.days)
    raw_start = start - timedelta(days=7 * settings.baseline_weeks)
    warehouse = args.keep / "warehouse.duckdb"
    if not warehouse.exists():
        code = facts_rebuild.main(
            [
                "--world",
                args.world,
                "--seed",
                str(args.seed),
                "--now",
                args.now,
                "--keep",
                str(args.keep),
                "--days",
                str((today - raw_start).days),
            ]
        )
        if code:
            return code
    proc, base = start_simulator(
        args.world, args.seed, args.now, free_port(), "console=1000000,enterprise=1000000"
    )
    try:
        orgs = httpx.get(f"{base}/_simulator/world").json()["organizations"]
        spikes = [s for o in orgs for s in get_truth(base, o["slug"], "anomalies", start, end)["anomalies"]]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for o in orgs:
        os.environ.setdefault(f"BENCH_{o['slug'].upper().replace('-', '_')}_KEY", "unused")
    config = ProjectConfig(
        organizations=tuple(
            OrgConfig(
                slug=o["slug"],
                kind=o["kind"],
                key_env=f"BENCH_{o['slug'].upper().replace('-', '_')}_KEY",
                base_url=base,
                history_start=raw_start,
            )
            for o in orgs
        ),
        anomalies=settings,
    )
    defs = build_definitions(config, str(warehouse))
    t0 = time.perf_counter()
    results = backfill(defs, start, end, selection=[COST_ANOMALIES.asset_key], run_config=QUIET)
    wall = time.perf_counter() - t0
    if not all(r.success for r in results):  # the table would still hold an earlier run's rows
        print("insights.cost_anomalies FAILED: see the run's error above")
        return 1
    checks = [e for r in results for e in r.get_asset_check_evaluations()]
    print(
        f"world {args.world} (seed {args.seed}), clock {args.now}: judged {start} -> {end - timedelta(days=1)} "
        f"({args.days} days, all settled), baseline from {raw_start}; insights.cost_anomalies in {wall:.1f} s, "
        f"checks {'all passed' if all(e.passed for e in checks) else 'FAILED'}"
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"SELECT org_id, usage_date, measure, slice_kind, slice, top_driver_kind, top_driver, severity "
            f"FROM {COST_ANOMALIES.qualified} WHERE usage_date >= ? AND usage_date < ?",
            [start, end],
        ).fetchall()
        sizes = {id(s): _spike_usd(con, s) for s in spikes}
    return _report(args.days, orgs, spikes, rows, sizes, settings.min_usd)


def _spike_usd(con: duckdb.DuckDBPyConnection, spike: dict) -> Decimal:
    """What the spike added to its slice's billed cost that day: its cost x (1 - 1 / multiplier)."""
    if spike["slice_kind"] == "product":
        sql = (
            "SELECT sum(amount_usd) FROM raw.enterprise_cost WHERE grouping = 'product_model' AND org_id = ? "
            "AND usage_date = ? AND product = ?"
        )
    else:
        column = "api_key_id" if spike["slice_kind"] == "api_key" else "user_id"
        sql = f"SELECT sum(allocated_cost_usd) FROM facts.cost_allocation WHERE org_id = ? AND usage_date = ? AND {column} = ?"
    cost = (
        con.execute(sql, [spike["org"], date.fromisoformat(spike["day"]), spike["slice"]]).fetchone()[0] or 0
    )
    return Decimal(cost) * (1 - 1 / Decimal(str(spike["multiplier"])))


def _report(days, orgs, spikes, rows, sizes, floor) -> int:
    by_day = defaultdict(list)
    for r in rows:
        by_day[(r[0], r[1])].append(r)
    spike_days = {(s["org"], date.fromisoformat(s["day"])) for s in spikes}
    totals = defaultdict(int)
    for o in orgs:
        slug = o["slug"]
        mine = [s for s in spikes if s["org"] == slug]
        found = [s for s in mine if _found(s, by_day)]
        material = [s for s in mine if sizes[id(s)] >= floor]
        flagged = {d for (org, d) in by_day if org == slug}
        false_days = sorted(d for d in flagged if (slug, d) not in spike_days)
        print(
            f"  {slug}: {len(mine)} spikes injected, {len(found)} found with the right top driver "
            f"({sum(1 for s in material if s in found)}/{len(material)} of those adding >= ${floor}); "
            f"{len(flagged)} org-days flagged, {len(false_days)} with no spike "
            f"({len(false_days) * 90 / days:.1f} per 90 days)"
        )
        for s in mine:
            print(
                f"      {'found ' if s in found else 'MISSED'} {s['day']} {s['slice_kind']} {s['slice']} "
                f"x{s['multiplier']:.2f} (+${sizes[id(s)]:.2f})"
            )
        if false_days:
            print(f"      false: {', '.join(str(d) for d in false_days)}")
        totals["spikes"] += len(mine)
        totals["found"] += len(found)
        totals["material"] += len(material)
        totals["material_found"] += sum(1 for s in material if s in found)
        totals["flagged"] += len(flagged)
        totals["true"] += len(flagged) - len(false_days)
        totals["false"] += len(false_days)
    recall = totals["found"] / totals["spikes"] if totals["spikes"] else float("nan")
    precision = totals["true"] / totals["flagged"] if totals["flagged"] else float("nan")
    print(
        f"recall {totals['found']}/{totals['spikes']} = {recall:.0%} (material spikes "
        f"{totals['material_found']}/{totals['material']}); precision by org-day {totals['true']}/"
        f"{totals['flagged']} = {precision:.0%}; false anomalies {totals['false'] * 90 / days / len(orgs):.2f} "
        f"per organization per 90 days"
    )
    return 0


def _found(spike: dict, by_day) -> bool:
    target = (spike["slice_kind"], spike["slice"])
    return any(
        r[2] == "cost_usd" and ((r[3], r[4]) == target or (r[5], r[6]) == target)
        for r in by_day.get((spike["org"], date.fromisoformat(spike["day"])), [])
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: a full backfill of a date range, through Dagster, against a simulator process.

    .venv/bin/python -m bench.backfill --world large --days 90 --kinds console

Starts ``python -m simulator`` (its default per-organization rate limits, the clock frozen at
``--now``), configures every organization of the chosen kinds at the simulator's rate limit, and
materializes the range ``[now - days, now)`` in one run per partitioning (a single-run partition
range across all organizations) into a temporary DuckDB. Prints the requests issued (the assets'
``api_requests`` metadata) against the simulator's minimum for a complete pull (its ground truth
``min_requests_console``), the wall time against the rate-limit bound (minimum requests / rate
limit per minute), and the peak memory of this process and of the simulator.

Kinds: ``console`` (usage, cost and Claude Code reports: group ``console``) and ``inventory``
(the inventory snapshot: group ``inventory``). The range must end no later than today (Dagster's
daily partitions stop at the last complete real day).
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

NOW = "2026-11-22T12:00:00Z"
#: the asset group of each kind, and the endpoints of the simulator's minimum that belong to it
KINDS = {
    "console": ("console", ("usage_report_messages", "cost_report", "usage_report_claude_code")),
    "inventory": (
        "inventory",
        ("organization", "users", "workspaces", "workspace_members", "api_keys", "invites"),
    ),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(world: str, seed: int, now: str, port: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--world",
            world,
            "--seed",
            str(seed),
            "--port",
            str(port),
            "--now",
            now,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the simulator exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/_simulator/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.terminate()
    raise SystemExit("the simulator did not start within 60 s")


def mb(kilobytes: int) -> str:
    return f"{kilobytes / 1024:,.0f} MB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", default="large", help="simulator world (demo, small, medium, large)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=int, default=90, help="days to backfill, ending the day before --now")
    ap.add_argument("--kinds", default="console", help=f"comma-separated: {', '.join(KINDS)}")
    ap.add_argument("--now", default=NOW, help=f"the simulator's frozen clock (default {NOW})")
    ap.add_argument(
        "--client-rate-limit",
        type=int,
        help="client requests per minute per organization "
        "(default: the simulator's limit for the organization)",
    )
    args = ap.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        ap.error(f"unknown kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")

    warnings.filterwarnings("ignore")
    import dagster as dg

    from claude_assets.backfill import QUIET, backfill, groups
    from claude_assets.config import OrgConfig, ProjectConfig
    from claude_assets.definitions import build_definitions
    from simulator.clock import parse_instant

    now = parse_instant(args.now)
    end = min(now.date(), datetime.now(UTC).date())
    if end < now.date():
        print(
            f"note: the range ends at today ({end}), not at --now ({now.date()}): Dagster has no later partition"
        )
    start = end - timedelta(days=args.days)

    proc, base = start_simulator(args.world, args.seed, args.now, free_port())
    try:
        world = httpx.get(f"{base}/_simulator/world").json()
        orgs = [o for o in world["organizations"] if o["kind"] == "console"]
        env_names = {}
        for o in orgs:
            env_names[o["slug"]] = f"BENCH_{o['slug'].upper().replace('-', '_')}_KEY"
            os.environ[env_names[o["slug"]]] = o["api_key"]
        rate = {o["slug"]: args.client_rate_limit or o["rate_limit_per_minute"] for o in orgs}
        config = ProjectConfig(
            organizations=tuple(
                OrgConfig(
                    slug=o["slug"],
                    kind="console",
                    key_env=env_names[o["slug"]],
                    base_url=base,
                    rate_limit_per_minute=rate[o["slug"]],
                    history_start=start,
                )
                for o in orgs
            )
        )

        # the ground truth walks every day of the range, so the simulator's data is generated (and cached)
        # before the clock starts: the wall time measures the client against a warm API
        minimum: dict[str, dict[str, int]] = {}
        t0 = time.perf_counter()
        for o in orgs:
            truth = httpx.get(
                f"{base}/_simulator/truth",
                timeout=1800,
                params={
                    "org": o["slug"],
                    "kind": "min_requests_console",
                    "start": str(start),
                    "end": str(end),
                },
            ).json()
            minimum[o["slug"]] = {k: v for kind in kinds for k, v in truth.items() if k in KINDS[kind][1]}
        print(
            f"simulator: minimum requests computed (and its data warmed) in {time.perf_counter() - t0:.1f} s"
        )

        with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
            warehouse = str(Path(tmp) / "warehouse.duckdb")
            defs = build_definitions(config, warehouse)
            wanted = {KINDS[k][0] for k in kinds}
            selection = [
                key
                for a in defs.assets
                if isinstance(a, dg.AssetsDefinition)
                for key, spec_group in a.group_names_by_key.items()
                if spec_group in wanted
            ]
            names = sorted(k.to_user_string() for g in groups(defs, selection) for k in g.keys)
            print(
                f"world={args.world} seed={args.seed} now={args.now} range {start} -> {end} ({args.days} days), "
                f"orgs: {', '.join(f'{s} ({rate[s]}/min)' for s in rate)}"
            )
            print(f"assets: {', '.join(names)}")
            t0 = time.perf_counter()
            instance = dg.DagsterInstance.ephemeral()
            results = backfill(defs, start, end, selection=selection, run_config=QUIET, instance=instance)
            wall = time.perf_counter() - t0
            step_seconds: dict[str, float] = {}
            for r in results:
                began = {}
                for entry in instance.all_logs(
                    r.run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
                ):
                    if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
                        began[entry.step_key] = entry.timestamp
                    else:
                        step_seconds[entry.step_key] = entry.timestamp - began[entry.step_key]

            issued: dict[str, dict[str, float]] = defaultdict(dict)
            for r in results:
                for ev in r.get_asset_materialization_events():
                    meta = ev.event_specific_data.materialization.metadata
                    if (
                        "api_requests" in meta
                    ):  # a multi-asset reports its step's calls on each asset: count once
                        issued[ev.step_key] = {
                            k.removeprefix("api_"): v.value for k, v in meta.items() if k.startswith("api_")
                        }
            import duckdb

            with duckdb.connect(warehouse, read_only=True) as con:
                tables = con.execute(
                    "SELECT schema_name || '.' || table_name, estimated_size FROM duckdb_tables() ORDER BY 1"
                ).fetchall()
                rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t, _ in tables}
                size = os.path.getsize(warehouse)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    checks = [e for r in results for e in r.get_asset_check_evaluations()]
    total_min = sum(sum(v.values()) for v in minimum.values())
    total_req = sum(int(s.get("requests", 0)) for s in issued.values())
    bound = sum(sum(v.values()) / rate[slug] * 60 for slug, v in minimum.items())
    burst = sum(max(0, (sum(v.values()) - 1) // rate[slug]) * 60 for slug, v in minimum.items())
    print(
        f"runs: {len(results)} ({'all succeeded' if all(r.success for r in results) else 'FAILED'}); checks: "
        f"{sum(e.passed for e in checks)} passed, {sum(not e.passed for e in checks)} failed"
    )
    print(
        "rows: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()) + f"; DuckDB file {size / 2**20:,.1f} MB"
    )
    print(
        f"{'step (in run order)':28} {'seconds':>7} {'requests':>8} {'pages':>6} {'retries':>7} {'MB':>7} "
        f"{'waited s':>8}  (waited: summed over the concurrent requests)"
    )
    for step in step_seconds:
        s = issued.get(step, {})
        print(
            f"{step:28} {step_seconds[step]:>7.1f} {int(s.get('requests', 0)):>8} {int(s.get('pages', 0)):>6} "
            f"{int(s.get('retries', 0)):>7} {s.get('bytes', 0) / 2**20:>7.1f} {s.get('wait_seconds', 0):>8.1f}"
        )
    print(
        "simulator minimum: "
        + "; ".join(f"{slug}: " + ", ".join(f"{k} {v}" for k, v in m.items()) for slug, m in minimum.items())
    )
    print(f"requests issued: {total_req} vs minimum {total_min} ({total_req / max(1, total_min):.2f}x)")
    print(
        f"wall time: {wall:.1f} s vs rate-limit bound {bound:.1f} s (minimum requests / rate limit per minute; "
        f"with a full first minute of burst the floor is {burst:.0f} s) = {wall / max(bound, 1e-9):.2f}x the bound"
    )
    print(
        f"peak RSS: this process (Dagster, client, DuckDB) {mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}, "
        f"simulator {mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)}"
    )
    return 0 if all(r.success for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

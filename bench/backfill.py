"""Benchmark: a full backfill of a date range, through Dagster, against a simulator process.

    .venv/bin/python -m bench.backfill --world large --days 90 --kinds console
    .venv/bin/python -m bench.backfill --world demo --days 7 --kinds console,inventory,enterprise \\
        --simulator-rate-limit console=120,enterprise=600 --client-rate-limit 600 --analytics-api

Starts ``python -m simulator`` (its default per-organization rate limits unless
``--simulator-rate-limit console=N,enterprise=M``, the clock frozen at ``--now``), configures every
organization of the chosen kinds at the simulator's rate limit (or ``--client-rate-limit``), and
materializes the range ``[now - days, now)`` in one run per partitioning (a single-run partition
range across all organizations) into a temporary DuckDB. Prints the requests issued (the assets'
``run_requests`` metadata, per step and per endpoint of the simulator's minimum) against the
simulator's minimum for a complete pull (its ground truth ``min_requests_console``, or
``min_requests_engagement`` + ``min_requests_reports`` for Enterprise), the wall time against the
rate-limit bound (minimum requests / rate limit per minute), and the peak memory of this process and
of the simulator.

Kinds: ``console`` (usage, cost and Claude Code reports: group ``console``), ``inventory`` (the
inventory snapshot: group ``inventory``) and ``enterprise`` (the Enterprise engagement, usage and
cost tables: group ``enterprise``; ``--analytics-api`` also reads the Usage and Cost Analytics API for the
Enterprise organizations, group ``analytics``; without it no organization reads that API).
The range must end no later than today (Dagster's daily partitions stop at the last complete real
day); the Enterprise range also ends at the latest engagement day the simulator has published
(``simulator.freshness.latest_engagement_day``) + 1, since a run asking for a newer day fails by
design, and starts no earlier than the first day the Enterprise Analytics API serves.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.harness import free_port, get_truth, mb, start_simulator

NOW = "2026-11-22T12:00:00Z"
#: the API client's counters of a step, as its materializations name them (the run's, not a partition's)
CALL_FIGURES = ("run_requests", "run_pages", "run_retries", "run_restarts", "run_bytes", "run_wait_seconds")


@dataclass(frozen=True)
class Kind:
    org_kind: str  # the organizations it reads (console | enterprise)
    group: str  # its asset group
    #: per step (the op of an asset or multi-asset), the endpoints of the simulator's minimum it issues
    steps: dict[str, tuple[str, ...]]

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(e for es in self.steps.values() for e in es)


KINDS = {
    "console": Kind(
        "console",
        "console",
        {
            "raw__console_usage": ("usage_report_messages",),
            "raw__console_cost": ("cost_report",),
            "raw__claude_code": ("usage_report_claude_code",),
        },
    ),
    "inventory": Kind(
        "console",
        "inventory",
        {
            "inventory__console": (
                "organization",
                "users",
                "workspaces",
                "workspace_members",
                "api_keys",
                "invites",
            )
        },
    ),
    "enterprise": Kind(
        "enterprise",
        "enterprise",
        {  # min_requests_engagement ...
            "raw__enterprise_summary": ("summaries",),
            "raw__enterprise_user_activity": ("users",),
            "raw__enterprise_project_activity": ("projects",),
            "raw__enterprise_skill_activity": ("skills",),
            "raw__enterprise_connector_activity": ("connectors",),
            "raw__enterprise_plugin_activity": ("plugins",),
            "raw__enterprise_artifact_activity": ("artifacts",),
            # ... and min_requests_reports
            "raw__enterprise_reports": (
                "usage_report",
                "cost_report",
                "user_usage_report",
                "user_cost_report",
            ),
            "raw__analytics_usage_cost": ("usage", "cost"),
        },
    ),
}
BETA_ENDPOINTS = ("usage", "cost")  # read only with --analytics-api


def plan_requests(meta: dict) -> dict[str, int]:
    """Pages requested per endpoint, from an Enterprise report step's ``request_plan`` metadata."""
    out: dict[str, int] = defaultdict(int)
    plan = meta.get("request_plan")
    for line in (plan.value if plan is not None else "").splitlines():
        key, _, value = line.removeprefix("- ").rpartition(": ")
        if key.endswith(": requests") and value.isdigit():
            out[key.split(" ")[0].removesuffix(":")] += int(value)
    return dict(out)


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
    ap.add_argument(
        "--simulator-rate-limit",
        help="the simulator's requests per minute per organization, e.g. console=120,enterprise=600 "
        "(passed as its --rate-limit; default: the simulator's defaults, 120 Console and 60 Enterprise)",
    )
    ap.add_argument(
        "--analytics-api",
        action="store_true",
        help="Enterprise organizations also read the Usage and Cost Analytics API (analytics_api: true; "
        "without it no organization reads that API)",
    )
    args = ap.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        ap.error(f"unknown kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
    from simulator.__main__ import parse_rate_limits

    try:
        parse_rate_limits(args.simulator_rate_limit)
    except ValueError as exc:
        ap.error(str(exc).replace("--rate-limit", "--simulator-rate-limit"))

    warnings.filterwarnings("ignore")
    import dagster as dg

    from claude_assets.config import OrgConfig, ProjectConfig
    from claude_assets.definitions import build_definitions
    from claude_assets.ingest.enterprise_reports.fetch import first_available_day
    from demo.backfill import QUIET, backfill
    from simulator.clock import parse_instant
    from simulator.freshness import latest_engagement_day

    now = parse_instant(args.now)
    end = min(now.date(), datetime.now(UTC).date())
    if end < now.date():
        print(
            f"note: the range ends at today ({end}), not at --now ({now.date()}): Dagster has no later partition"
        )
    start = end - timedelta(days=args.days)
    org_kinds = {KINDS[k].org_kind for k in kinds}
    # Enterprise: from the first day the API serves (2026-01-01 or the 365-day lookback, by this
    # process's clock, which the assets use, and by the simulator's), to the latest published engagement day
    latest = latest_engagement_day(now, 1)
    spans = {
        "console": (start, end),
        "enterprise": (
            max(start, first_available_day()[0], first_available_day(now)[0]),
            min(end, latest + timedelta(days=1)),
        ),
    }
    if "enterprise" in org_kinds:
        e0, e1 = spans["enterprise"]
        print(
            f"enterprise range {e0} -> {e1} ({max(0, (e1 - e0).days)} days; latest published engagement day "
            f"{latest}{', clamped' if (e0, e1) != (start, end) else ''})"
        )

    proc, base = start_simulator(args.world, args.seed, args.now, free_port(), args.simulator_rate_limit)
    try:
        world = httpx.get(f"{base}/_simulator/world").json()
        orgs = [o for o in world["organizations"] if o["kind"] in org_kinds]
        env_names = {}
        for o in orgs:
            env_names[o["slug"]] = f"BENCH_{o['slug'].upper().replace('-', '_')}_KEY"
            os.environ[env_names[o["slug"]]] = o["api_key"]
        rate = {o["slug"]: args.client_rate_limit or o["rate_limit_per_minute"] for o in orgs}
        org_kind = {o["slug"]: o["kind"] for o in orgs}
        config = ProjectConfig(
            organizations=tuple(
                OrgConfig(
                    slug=o["slug"],
                    kind=o["kind"],
                    key_env=env_names[o["slug"]],
                    base_url=base,
                    rate_limit_per_minute=rate[o["slug"]],
                    history_start=start,
                    analytics_api=args.analytics_api and o["kind"] == "enterprise",
                )
                for o in orgs
            )
        )

        # the ground truth walks every day of the range, so the simulator's data is generated (and cached)
        # before the clock starts: the wall time measures the client against a warm API
        minimum: dict[str, dict[str, int]] = {}
        t0 = time.perf_counter()
        for o in orgs:
            slug = o["slug"]
            s, e = spans[o["kind"]]
            if o["kind"] == "console":
                truth = get_truth(base, slug, "min_requests_console", s, e)
                wanted = {ep for k in kinds if KINDS[k].org_kind == "console" for ep in KINDS[k].endpoints}
                minimum[slug] = {k: v for k, v in truth.items() if k in wanted}
            elif e <= s:
                minimum[slug] = {}
            else:
                engagement = get_truth(base, slug, "min_requests_engagement", s, e)
                reports = get_truth(base, slug, "min_requests_reports", s, e)["endpoints"]
                minimum[slug] = {k: v for k, v in engagement.items() if k != "total"} | {
                    k: v["requests"]
                    for k, v in reports.items()
                    if args.analytics_api or k not in BETA_ENDPOINTS
                }
        print(
            f"simulator: minimum requests computed (and its data warmed) in {time.perf_counter() - t0:.1f} s"
        )

        with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
            warehouse = str(Path(tmp) / "warehouse.duckdb")
            defs = build_definitions(config, warehouse)
            selection: dict[str, list[dg.AssetKey]] = defaultdict(list)  # org kind -> asset keys
            for a in defs.assets:
                if isinstance(a, dg.AssetsDefinition):
                    for key, group in a.group_names_by_key.items():
                        for k in kinds:
                            if KINDS[k].group == group:
                                selection[KINDS[k].org_kind].append(key)
                        if group == "analytics" and "enterprise" in kinds:  # only Enterprise readers (above)
                            selection["enterprise"].append(key)
            print(
                f"world={args.world} seed={args.seed} now={args.now} range {start} -> {end} ({args.days} days), "
                f"orgs: {', '.join(f'{s} ({org_kind[s]}, {rate[s]}/min)' for s in rate)}"
                + (
                    f"; analytics_api {'on' if args.analytics_api else 'off'}"
                    if "enterprise" in kinds
                    else ""
                )
            )
            names = sorted(k.to_user_string() for keys in selection.values() for k in keys)
            print(f"assets: {', '.join(names)}")
            instance = dg.DagsterInstance.ephemeral()
            results = []
            wall: dict[str, float] = {}
            for kind_of_org, keys in selection.items():
                s, e = spans[kind_of_org]
                if e <= s:
                    print(f"note: no {kind_of_org} day to backfill in {s} -> {e}")
                    continue
                t0 = time.perf_counter()
                results += backfill(defs, s, e, selection=keys, run_config=QUIET, instance=instance)
                wall[kind_of_org] = time.perf_counter() - t0
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
            planned: dict[str, dict[str, int]] = {}
            for r in results:
                for ev in r.get_asset_materialization_events():
                    meta = ev.event_specific_data.materialization.metadata
                    if (
                        "run_requests" in meta
                    ):  # a multi-asset reports its step's calls on each asset: count once
                        issued[ev.step_key] = {
                            k.removeprefix("run_"): meta[k].value for k in CALL_FIGURES if k in meta
                        }
                        if "request_plan" in meta:
                            planned[ev.step_key] = plan_requests(meta)
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
    print(
        f"runs: {len(results)} ({'all succeeded' if all(r.success for r in results) else 'FAILED'}); checks: "
        f"{sum(e.passed for e in checks)} passed, {sum(not e.passed for e in checks)} failed"
    )
    print(
        "rows: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()) + f"; DuckDB file {size / 2**20:,.1f} MB"
    )

    # the minimum of a step: its endpoints' minimum, summed over the organizations it reads
    step_kind = {step: k for k in kinds for step in KINDS[k].steps}

    def step_minimum(step: str, endpoints: tuple[str, ...] | None = None) -> int | None:
        kind = KINDS[step_kind[step]] if step in step_kind else None
        if kind is None:
            return None
        eps = endpoints or kind.steps[step]
        return sum(
            m.get(ep, 0) for slug, m in minimum.items() if org_kind[slug] == kind.org_kind for ep in eps
        )

    print(
        f"{'step (in run order)':34} {'seconds':>7} {'requests':>8} {'minimum':>7} {'ratio':>6} {'pages':>6} "
        f"{'retries':>7} {'MB':>7} {'waited s':>8}  (waited: summed over the concurrent requests)"
    )
    for step in step_seconds:
        s = issued.get(step, {})
        req, low = int(s.get("requests", 0)), step_minimum(step)
        ratio = f"{req / low:.2f}x" if low else "-"
        print(
            f"{step:34} {step_seconds[step]:>7.1f} {req:>8} {'-' if low is None else low:>7} {ratio:>6} "
            f"{int(s.get('pages', 0)):>6} {int(s.get('retries', 0)):>7} {s.get('bytes', 0) / 2**20:>7.1f} "
            f"{s.get('wait_seconds', 0):>8.1f}"
        )
        for endpoint, pages in planned.get(step, {}).items():
            low = step_minimum(step, (endpoint,))
            ratio = f"{pages / low:.2f}x" if low else "-"
            print(f"  {endpoint + ' (request_plan)':32} {'':>7} {pages:>8} {low:>7} {ratio:>6}")
    if "enterprise" in kinds and any(org_kind[s] == "enterprise" for s in minimum):
        print(
            "  (Enterprise: the minimum is the fewest requests of a lossless pull of the same content: the "
            "activity endpoints grouped as the assets group them, every grouping of the usage/cost reports "
            "with the geo and hourly re-asks their top-100 cap needs. The first engagement step also sends one "
            "latest-day probe per organization, which the minimum does not count. request_plan counts pages, "
            "without retries)"
        )
    print(
        "simulator minimum: "
        + "; ".join(f"{slug}: " + ", ".join(f"{k} {v}" for k, v in m.items()) for slug, m in minimum.items())
    )
    print(f"requests issued: {total_req} vs minimum {total_min} ({total_req / max(1, total_min):.2f}x)")

    def bound(kind_of_org: str | None = None) -> tuple[float, float]:
        ms = {s: m for s, m in minimum.items() if kind_of_org in (None, org_kind[s])}
        return (
            sum(sum(v.values()) / rate[slug] * 60 for slug, v in ms.items()),
            sum(max(0, (sum(v.values()) - 1) // rate[slug]) * 60 for slug, v in ms.items()),
        )

    for label, seconds, (low, burst) in [
        *(
            (f"runs over {k} organizations", wall[k], bound(k))
            for k in ("console", "enterprise")
            if k in wall and len(wall) > 1
        ),
        ("wall time", sum(wall.values()), bound()),
    ]:
        print(
            f"{label}: {seconds:.1f} s vs rate-limit bound {low:.1f} s (minimum requests / rate limit per minute; "
            f"with a full first minute of burst the floor is {burst:.0f} s) = {seconds / max(low, 1e-9):.2f}x the bound"
        )
    print(
        f"peak RSS: this process (Dagster, client, DuckDB) {mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}, "
        f"simulator {mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)}"
    )
    return 0 if all(r.success for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""``make demo``: backfill the demo organizations from the simulator into DuckDB, then summarize.

No key and no network: the demo world of the simulator runs on loopback in this process (its clock
is the real time), the configuration in ``demo.settings`` points the project at it, and
Dagster materializes the last 90 complete days of every asset for every organization into
``data/warehouse.duckdb``, job by job (``claude_assets.jobs``), each job as a backfill recorded in
``.dagster_home`` (``demo.job_backfills``), so ``make ui`` lists them in its Backfills tab and can re-execute
them. Running it again replaces the same windows: the
tables come out the same.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console

from claude_assets.jobs import REBUILD_ENGAGEMENT_DAILY, REBUILD_FACTS, REBUILD_MONTHLY
from demo import settings as demo_config
from demo.summary import summarize
from simulator.app import Simulator
from simulator.clock import SimClock, parse_instant
from simulator.freshness import latest_engagement_day
from simulator.serve import serve_in_thread

DAYS = demo_config.DAYS
#: the exit code of a backfill stopped by Ctrl-C (128 + SIGINT, as a shell reports it)
INTERRUPTED = 130


def plan(start: date, end: date, engagement_end: date) -> list[tuple[str, date, date]]:
    """The named jobs the demo runs, in order, each over its days ``[from, to)``: the raw families first, then
    the layers built from them over the days every organization's raw data covers."""
    complete_end = min(end, engagement_end)
    return [
        ("backfill_console", start, end),
        ("backfill_inventory", start, end),
        # Enterprise data lags: asking the API for a day it has not published yet fails the run, as it should
        ("backfill_engagement", start, engagement_end),
        ("backfill_enterprise_reports", start, engagement_end),
        ("backfill_analytics", start, engagement_end),  # Console and Enterprise organizations alike
        (REBUILD_FACTS, start, complete_end),
        (REBUILD_ENGAGEMENT_DAILY, start, complete_end),
        (REBUILD_MONTHLY, start, complete_end),
    ]


def run_backfill(base_url: str, start: date, end: date, engagement_end: date, out: Console):
    """Backfill every demo organization over ``[start, end)`` job by job (``claude_assets.jobs``), each job as
    a backfill of the Dagster instance ``make ui`` reads; return the runs' results.

    Enterprise assets stop at ``engagement_end`` (exclusive): engagement data lags, and asking the
    API for a day it has not published yet fails the run, as it should.
    """
    from demo.backfill import QUIET, BackfillInterrupted
    from demo.job_backfills import backfiller

    run_config = None if os.environ.get("DEMO_VERBOSE") else QUIET
    tags = {"claude_assets/demo": "true"}
    results, backfills = [], []
    with backfiller(Path(os.environ["DAGSTER_HOME"]), demo_config.ROOT / "workspace.yaml") as jobs:
        pending = [(name, s, e) for name, s, e in plan(start, end, engagement_end) if jobs.has_job(name)]
        out.print(
            f"Backfilling {start} → {end - timedelta(days=1)} ({(end - start).days} days; Enterprise engagement "
            f"until {engagement_end - timedelta(days=1)}, the latest day published), job by job: "
            + ", ".join(name for name, _, _ in pending)
        )
        try:
            with out.status("Dagster is materializing…"):
                while pending:
                    name, job_start, job_end = pending[0]
                    backfill_id, runs = jobs.backfill(
                        name, job_start, job_end, tags=tags, run_config=run_config
                    )
                    results += runs
                    if backfill_id:
                        backfills.append((name, backfill_id, len(runs)))
                    pending.pop(0)
        except BackfillInterrupted as stopped:  # Ctrl-C during a job: no later job starts either
            later = [jobs.job_keys(name) for name, _, _ in pending[1:]]
            raise BackfillInterrupted([*results, *stopped.done], [*stopped.not_run, *later]) from None
        except KeyboardInterrupt:  # Ctrl-C between jobs
            raise BackfillInterrupted(results, [jobs.job_keys(name) for name, _, _ in pending]) from None
    out.print(
        "Backfills in the Dagster UI (Backfills tab, where each can be re-executed): "
        + ", ".join(
            f"{name} {backfill_id} ({n} run{'s' if n != 1 else ''})" for name, backfill_id, n in backfills
        )
    )
    return results


def report_interrupted(stopped, out: Console) -> None:
    """What a stopped backfill did and did not do, run by run."""
    from demo.backfill import interrupted, run_keys

    def names(keys) -> str:
        return ", ".join(k.to_user_string() for k in keys) or "(nothing)"

    out.print("[bold red]Interrupted[/bold red]: the backfill stopped; no further run was started.")
    for result, keys in zip(stopped.done, run_keys(stopped.done), strict=True):
        state = "interrupted" if interrupted(result) else "succeeded" if result.success else "failed"
        out.print(f"  {state}: run {result.run_id} ({names(keys)})")
    for keys in stopped.not_run:
        out.print(f"  not run: {names(keys)}")
    out.print(
        "Windows a run wrote are complete; the rest were left as they were. Run `make demo` again to "
        "backfill everything (it replaces the same windows)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = demo_config.command_line("python -m demo", __doc__)
    parser.add_argument(
        "--days", type=int, default=DAYS, help=f"days to backfill, ending yesterday (default {DAYS})"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="loopback port of the simulator (default: a free one)"
    )
    parser.add_argument(
        "--now",
        type=parse_instant,
        default=None,
        help="the simulator's clock at start, e.g. 2026-11-30T12:00:00Z (default: the real time); "
        "the same instant gives the same tables and totals",
    )
    parser.add_argument(
        "--hipaa-ready",
        action="append",
        default=[],
        metavar="ORG",
        help="an organization of the demo world with HIPAA readiness enabled: the Usage and Cost Analytics API "
        "refuses it, and its analytics days are skipped with the API's reason (repeatable)",
    )
    args = parser.parse_args(argv)
    out = Console()
    started = time.monotonic()
    sim = Simulator(demo_config.world(tuple(args.hipaa_ready)), SimClock(args.now or datetime.now(UTC)))
    end = sim.now().astimezone(UTC).date()  # the last partition is yesterday, the last complete day
    start = end - timedelta(days=args.days)  # the first partition: a finished demo fills every one
    with serve_in_thread(sim, port=args.port) as running:
        world, config, env = demo_config.prepare(running.base_url, start)
        os.environ.update(env)  # the keys live in this process's environment only
        out.print(
            f"Demo simulator (world [bold]{world.name}[/bold], clock {sim.now():%Y-%m-%d %H:%M} UTC) on "
            f"{running.base_url}; organizations: "
            + ", ".join(f"{o.slug} ({o.kind})" for o in config.organizations)
        )
        engagement_end = latest_engagement_day(sim.now(), sim.engagement_lag_days) + timedelta(days=1)
        facts_end = min(end, engagement_end)
        try:
            results = run_backfill(running.base_url, start, end, facts_end, out)
        except KeyboardInterrupt as stopped:
            from demo.backfill import BackfillInterrupted

            report_interrupted(
                stopped if isinstance(stopped, BackfillInterrupted) else BackfillInterrupted([]), out
            )
            return INTERRUPTED
    summarize(str(demo_config.WAREHOUSE), start, end, facts_end, results, out)
    out.print(
        f"Done in {time.monotonic() - started:.1f} s. Runs, assets, checks and lineage in the Dagster UI: "
        "[bold]make ui[/bold] (then http://127.0.0.1:3000)."
    )
    return 0 if all(r.success for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""``make demo``: backfill the demo organizations from the simulator into DuckDB, then summarize.

No key and no network: the demo world of the simulator runs on loopback in this process (its clock
is the real time), the configuration in ``demo.settings`` points the project at it, and
Dagster materializes the last 90 complete days of every asset for every organization into
``data/warehouse.duckdb`` (one single-run backfill per partitioning), recording the runs in
``.dagster_home`` so ``make ui`` shows them. Running it again replaces the same windows: the
tables come out the same.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import duckdb
from rich.console import Console
from rich.table import Table

from demo import settings as demo_config
from simulator.app import Simulator
from simulator.clock import SimClock, parse_instant
from simulator.freshness import latest_engagement_day
from simulator.serve import serve_in_thread

DAYS = 90


def usd(value: Decimal | None) -> str:
    """Exact Decimal to dollars and cents (half-even at the last cent, as Decimal formats)."""
    return f"${(value or Decimal(0)):,.2f}"


def run_backfill(base_url: str, start: date, end: date, engagement_end: date, out: Console):
    """Materialize every asset over ``[start, end)`` for every demo organization; return the results.

    Enterprise assets stop at ``engagement_end`` (exclusive): engagement data lags, and asking the
    API for a day it has not published yet fails the run, as it should.
    """
    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    from claude_assets.config import load_file
    from claude_assets.definitions import build_definitions
    from demo.backfill import QUIET, backfill, groups

    defs = build_definitions(load_file(demo_config.CONFIG_FILE), str(demo_config.WAREHOUSE))
    keys = [k for g in groups(defs) for k in g.keys]
    enterprise = {
        k
        for a in defs.assets or []
        if isinstance(a, dg.AssetsDefinition)
        for k, group in a.group_names_by_key.items()
        if group == "enterprise"
    }
    out.print(
        f"Backfilling {start} → {end - timedelta(days=1)} ({(end - start).days} days; Enterprise engagement "
        f"until {engagement_end - timedelta(days=1)}, the latest day published) of {len(keys)} assets: "
        + ", ".join(sorted(k.to_user_string() for k in keys))
    )
    run_config = None if os.environ.get("DEMO_VERBOSE") else QUIET
    tags = {"claude_assets/demo": "true"}
    with dg.DagsterInstance.get() as instance, out.status("Dagster is materializing…"):
        results = backfill(
            defs,
            start,
            end,
            instance=instance,
            run_config=run_config,
            tags=tags,
            selection=[k for k in keys if k not in enterprise],
        )
        if enterprise:
            results += backfill(
                defs,
                start,
                engagement_end,
                instance=instance,
                run_config=run_config,
                tags=tags,
                selection=enterprise,
            )
        return results


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, bool]]:
    return con.execute("""
        SELECT t.schema_name, t.table_name,
               EXISTS (SELECT 1 FROM duckdb_columns() c WHERE c.schema_name = t.schema_name
                       AND c.table_name = t.table_name AND c.column_name = 'usage_date')
        FROM duckdb_tables() t WHERE t.database_name = current_database() ORDER BY 1, 2""").fetchall()


def _has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
        ).fetchone()[0]
    )


def _has_columns(con: duckdb.DuckDBPyConnection, qualified: str, columns: set[str]) -> bool:
    schema, name = qualified.split(".")
    found = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
    }
    return columns <= found


def summarize(warehouse: str, start: date, end: date, results, out: Console) -> None:
    with duckdb.connect(warehouse, read_only=True) as con:
        rows = Table(title=f"Tables in {os.path.relpath(warehouse)}", title_justify="left")
        for col, justify in (
            ("table", "left"),
            ("rows", "right"),
            ("organizations", "right"),
            ("days", "left"),
        ):
            rows.add_column(col, justify=justify)
        for schema, name, daily in _tables(con):
            n, orgs = con.execute(
                f'SELECT count(*), count(DISTINCT org_id) FROM "{schema}"."{name}"'
            ).fetchone()
            span = ""
            if daily and n:
                first, last = con.execute(
                    f'SELECT min(usage_date), max(usage_date) FROM "{schema}"."{name}"'
                ).fetchone()
                span = f"{first} → {last}"
            rows.add_row(f"{schema}.{name}", f"{n:,}", str(orgs), span)
        out.print(rows)

        if _has_table(con, "raw.console_cost"):
            window = [start, end]
            cost = Table(
                title=f"Billed cost by organization and model, {start} → {end - timedelta(days=1)} "
                "(exact sums in DuckDB, shown to the cent)",
                title_justify="left",
            )
            for col, justify in (
                ("organization", "left"),
                ("model", "left"),
                ("cost (USD)", "right"),
                ("share", "right"),
            ):
                cost.add_column(col, justify=justify)
            by_model = con.execute(
                """
                SELECT org_id, coalesce(model, '(' || replace(cost_type, '_', ' ') || ')') AS model, sum(amount_usd) AS usd,
                       sum(amount_usd) / sum(sum(amount_usd)) OVER (PARTITION BY org_id) AS share
                FROM raw.console_cost WHERE usage_date >= ? AND usage_date < ?
                GROUP BY 1, 2 ORDER BY org_id, usd DESC, model""",
                window,
            ).fetchall()
            totals = dict(
                con.execute(
                    """SELECT org_id, sum(amount_usd) FROM raw.console_cost
                WHERE usage_date >= ? AND usage_date < ? GROUP BY ALL""",
                    window,
                ).fetchall()
            )
            for i, (org, model, amount, share) in enumerate(by_model):
                if i and by_model[i - 1][0] != org:
                    cost.add_section()
                cost.add_row(org, model, usd(amount), f"{share:.1%}")
                if i + 1 == len(by_model) or by_model[i + 1][0] != org:
                    cost.add_row(
                        f"[bold]{org}[/bold]",
                        "[bold]total[/bold]",
                        f"[bold]{usd(totals[org])}[/bold]",
                        f"exact {totals[org].normalize():f}",
                    )
            out.print(cost)

            top = Table(title="Top workspaces by billed cost", title_justify="left")
            for col, justify in (("organization", "left"), ("workspace", "left"), ("cost (USD)", "right")):
                top.add_column(col, justify=justify)
            names = "NULL"
            if _has_columns(con, "inventory.workspaces", {"org_id", "workspace_id", "name", "valid_from"}):
                # the workspace's latest name from the inventory history (made by the inventory assets)
                names = """(SELECT w.name FROM inventory.workspaces w WHERE w.org_id = c.org_id
                            AND w.workspace_id = c.workspace_id ORDER BY w.valid_from DESC LIMIT 1)"""
            for org, ws, name, amount in con.execute(
                f"""
                SELECT org_id, workspace_id, {names} AS name, sum(amount_usd) AS usd
                FROM raw.console_cost c WHERE usage_date >= ? AND usage_date < ?
                GROUP BY ALL ORDER BY usd DESC, org_id, workspace_id LIMIT 8""",
                window,
            ).fetchall():
                label = "(default workspace)" if ws is None else (name or ws)
                top.add_row(org, label, usd(amount))
            out.print(top)

    evaluations = [e for r in results for e in r.get_asset_check_evaluations()]
    outcome = Counter(e.passed for e in evaluations)
    runs_failed = [r for r in results if not r.success]
    line = (
        f"Checks: [green]{outcome[True]} passed[/green], "
        f"[{'red' if outcome[False] else 'green'}]{outcome[False]} failed[/]"
        f" ({len(results)} run{'s' if len(results) != 1 else ''}: "
        f"{', '.join(r.run_id[:8] for r in results)})"
    )
    out.print(line)
    for e in evaluations:
        if not e.passed:
            out.print(f"  [red]✗[/red] {e.asset_key.to_user_string()} · {e.check_name}")
    for r in runs_failed:
        out.print(f"  [red]run {r.run_id[:8]} failed[/red]: see it in the UI (make ui)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    args = parser.parse_args(argv)
    out = Console()
    started = time.monotonic()
    sim = Simulator(demo_config.world(), SimClock(args.now or datetime.now(UTC)))
    with serve_in_thread(sim, port=args.port) as running:
        world, config, env = demo_config.prepare(running.base_url)
        os.environ.update(env)  # the keys live in this process's environment only
        out.print(
            f"Demo simulator (world [bold]{world.name}[/bold], clock {sim.now():%Y-%m-%d %H:%M} UTC) on "
            f"{running.base_url}; organizations: "
            + ", ".join(f"{o.slug} ({o.kind})" for o in config.organizations)
        )
        end = sim.now().astimezone(UTC).date()  # the last partition is yesterday, the last complete day
        start = end - timedelta(days=args.days)
        engagement_end = latest_engagement_day(sim.now(), sim.engagement_lag_days) + timedelta(days=1)
        results = run_backfill(running.base_url, start, end, min(end, engagement_end), out)
    summarize(str(demo_config.WAREHOUSE), start, end, results, out)
    out.print(
        f"Done in {time.monotonic() - started:.1f} s. Runs, assets, checks and lineage in the Dagster UI: "
        "[bold]make ui[/bold] (then http://127.0.0.1:3000)."
    )
    return 0 if all(r.success for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Dagster definitions of the unit economics: the daily table (daily partitions) and the monthly table
(monthly partitions over the same range), both in group ``insights``."""

from datetime import date, timedelta

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from claude_assets.asset_defaults import KINDS, WAREHOUSE_POOL
from claude_assets.config import ProjectConfig
from claude_assets.facts.tables import FACTS_COST
from claude_assets.insights.unit_economics import checks
from claude_assets.insights.unit_economics.daily import lookback_start, rebuild_daily
from claude_assets.insights.unit_economics.days import usable_days, waiting_days
from claude_assets.insights.unit_economics.monthly import rebuild_monthly
from claude_assets.insights.unit_economics.sources import SETTLING
from claude_assets.insights.unit_economics.tables import UNIT_ECONOMICS_DAILY, UNIT_ECONOMICS_MONTHLY
from claude_assets.partitions import daily, day_ranges, from_daily_by_org
from claude_assets.warehouse import figures
from claude_assets.warehouse.contract import Table

GROUP = "insights"


def unit_economics_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """insights.unit_economics_daily and insights.unit_economics_monthly, for the organizations of ``config``."""
    return [daily_asset(config), monthly_asset(config)]


def _kinds(config: ProjectConfig) -> dict[str, str]:
    return {o.slug: o.kind for o in config.organizations}


def monthly_partitions(config: ProjectConfig) -> dg.MonthlyPartitionsDefinition:
    """Calendar months (UTC) from the month of the first daily partition, the current month included."""
    first = config.history_start.replace(day=1)
    return dg.MonthlyPartitionsDefinition(start_date=first.isoformat(), timezone="UTC", end_offset=1)


def _common(table: Table) -> dict:
    return {
        "key": table.asset_key,
        "description": table.description,
        "group_name": GROUP,
        "kinds": KINDS,
        "pool": WAREHOUSE_POOL,
        "backfill_policy": dg.BackfillPolicy.single_run(),
    }


def daily_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    """insights.unit_economics_daily: rebuilt per day range on the settled days of every organization."""
    kinds = _kinds(config)
    raw = [
        dg.AssetDep(t.asset_key, partition_mapping=from_daily_by_org())
        for kind in sorted(set(kinds.values()))
        for t in SETTLING[kind]
    ]

    # its days end with the engagement days it reads (a day maps to the same day of every raw table)
    reads_engagement = "enterprise" in kinds.values()
    published = config.day_published_after.enterprise_engagement if reads_engagement else timedelta(0)

    @dg.asset(
        **_common(UNIT_ECONOMICS_DAILY),
        partitions_def=daily(config, published),
        deps=[dg.AssetDep(FACTS_COST.asset_key), *raw],
        check_specs=checks.daily_specs(),
        metadata={"dagster/column_schema": UNIT_ECONOMICS_DAILY.dagster_schema()},
    )
    def unit_economics_daily(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        """What an active user, a seat and Claude Code work cost, per organization, settled day and product."""
        ranges = day_ranges(context)
        rows, waiting = 0, {}
        with duckdb.get_connection() as con:
            for start, end in ranges:
                usable = usable_days(con, kinds, lookback_start(start), end)
                rows += rebuild_daily(con, kinds, start, end, usable)
                for org, days in waiting_days(con, kinds, start, end, usable).items():
                    waiting.setdefault(org, []).extend(days)
            metadata = _metadata(con, UNIT_ECONOMICS_DAILY, "usage_date", ranges, rows, waiting)
            _partition_figures(context, con, UNIT_ECONOMICS_DAILY, "usage_date")
            results = checks.daily_results(con, ranges)
        yield dg.MaterializeResult(metadata=metadata, check_results=results)

    return unit_economics_daily


def monthly_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    """insights.unit_economics_monthly: the months of the run rebuilt from the daily table."""

    @dg.asset(
        **_common(UNIT_ECONOMICS_MONTHLY),
        partitions_def=monthly_partitions(config),
        # the current month reads the days of it that exist so far (its later days have no partition yet)
        deps=[
            dg.AssetDep(
                UNIT_ECONOMICS_DAILY.asset_key,
                partition_mapping=dg.TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True),
            )
        ],
        check_specs=checks.monthly_specs(),
        metadata={"dagster/column_schema": UNIT_ECONOMICS_MONTHLY.dagster_schema()},
    )
    def unit_economics_monthly(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        """The daily unit economics summed per calendar month, with how many of its days are settled."""
        window = context.partition_time_window
        first, end = window.start.date(), window.end.date()
        with duckdb.get_connection() as con:
            rows = rebuild_monthly(con, first, end)
            incomplete = con.execute(
                f"SELECT org_id, month_start, settled_days, days_in_month FROM {UNIT_ECONOMICS_MONTHLY.qualified} "
                "WHERE product = 'all' AND NOT complete AND month_start >= ? AND month_start < ? ORDER BY 1, 2",
                [first, end],
            ).fetchall()
            waiting = {
                org: [f"{month:%Y-%m}: {n} of {days} days settled"] for org, month, n, days in incomplete
            }
            metadata = _metadata(con, UNIT_ECONOMICS_MONTHLY, "month_start", [(first, end)], rows, waiting)
            _partition_figures(context, con, UNIT_ECONOMICS_MONTHLY, "month_start")
            results = checks.monthly_results(con, first, end)
        yield dg.MaterializeResult(metadata=metadata, check_results=results)

    return unit_economics_monthly


def _metadata(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    column: str,
    ranges: list[tuple[date, date]],
    rows: int,
    waiting: dict[str, list[str]],
) -> dict:
    """The table's row count, and the run's rows, organizations' billed totals, what waits to settle and a
    preview, named as the run's."""
    where = " OR ".join(f"({column} >= ? AND {column} < ?)" for _ in ranges) or "false"
    params = [d for r in ranges for d in r]
    meta: dict = {
        "dagster/row_count": rows,
        "window": dg.MetadataValue.md("\n".join(f"- {s} → {e}" for s, e in ranges)),
        "waiting_to_settle": dg.MetadataValue.md(
            "\n".join(
                f"- **{org}**: {', '.join(days[:31])}{' …' if len(days) > 31 else ''}"
                for org, days in sorted(waiting.items())
            )
            or "nothing: every day is settled"
        ),
        "days_waiting": sum(len(v) for v in waiting.values()),
    }
    for org, total in con.execute(
        f"SELECT org_id, sum(cost_usd) FROM {table.qualified} WHERE product = 'all' AND ({where}) GROUP BY 1 ORDER BY 1",
        params,
    ).fetchall():
        meta[f"cost_usd_{org}"] = dg.MetadataValue.float(float(total))  # to plot; exact below
        meta[f"cost_usd_{org}_exact"] = str(total)
    preview = con.execute(
        f"SELECT org_id, {column}, product, cost_usd, daily_active_users, seats, claude_code_sessions, "
        f"cost_per_seat_usd, cost_per_session_usd FROM {table.qualified} WHERE {where} ORDER BY 1, 2, 3 LIMIT 15",
        params,
    ).df()
    meta["preview"] = dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "(no rows)")
    return {**figures.table_rows(con, table), **figures.as_run(meta)}


def _partition_figures(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, table: Table, column: str
) -> None:
    """Each partition's (day's or month's) own rows and billed total, on that partition's materialization."""
    slots = figures.day_slots(context.partition_keys)
    figures.attach(context, table, figures.by_partition(con, table, slots, day_column=column))

"""``facts.cost_reconciliation``: why two cost figures of the same organization and day disagree.

Each comparison is a waterfall from one figure to another, per organization, day and line (product,
model, cost type, token type), split into named causes; its SQL is one ``sql/reconciliation_<comparison>.sql``
file beside this module. A comparison is built only where its raw tables exist (the Usage and Cost Analytics
API is read only for organizations with ``analytics_api``, the default).

=============================  =============================================  ==========================================
comparison                     from figure                                    to figure
=============================  =============================================  ==========================================
console_billed_vs_usage_list   raw.console_usage priced by facts.price_book   raw.console_cost (billed)
enterprise_amount_vs_list      raw.enterprise_cost list amount (token_type)   raw.enterprise_cost amount (token_type)
enterprise_users_vs_org        sum of raw.enterprise_user_cost                raw.enterprise_cost (product_model)
legacy_vs_analytics            raw.console_cost; raw.enterprise_cost          raw.analytics_cost (billing), per model and
                               (token_type), per model and cost type          cost type, Console and Enterprise
=============================  =============================================  ==========================================

For every line, ``from_figure_usd`` plus the sum of its causes' ``amount_usd`` equals ``to_figure_usd``
exactly; ``unexplained`` is what no named cause accounts for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import dagster as dg
import duckdb

from claude_assets.config import ProjectConfig
from claude_assets.facts.pricing import priced_sql
from claude_assets.facts.tables import COST_RECONCILIATION
from claude_assets.ingest.console.tables import CONSOLE_COST, CONSOLE_USAGE
from claude_assets.ingest.enterprise_reports.tables import (
    ANALYTICS_COST,
    ENTERPRISE_COST,
    ENTERPRISE_USER_COST,
)
from claude_assets.warehouse import figures
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.sql import sql_file
from claude_assets.warehouse.writes import ensure, rebuild_days

#: the usage rows of raw.console_usage in the shape priced_sql prices
CONSOLE_USAGE_ROWS = sql_file(__file__, "reconciliation_console_usage_rows")


@dataclass(frozen=True)
class Comparison:
    """One waterfall: its name, the tables it reads (all must exist) and its SQL ($1, $2: the days)."""

    name: str
    reads: tuple[str, ...]

    @property
    def sql(self) -> str:
        return SQL[self.name]


COMPARISONS = (
    Comparison("console_billed_vs_usage_list", ("raw.console_usage", "raw.console_cost", "facts.price_book")),
    Comparison("enterprise_amount_vs_list", ("raw.enterprise_cost",)),
    Comparison("enterprise_users_vs_org", ("raw.enterprise_user_cost", "raw.enterprise_cost")),
    Comparison("legacy_vs_analytics", ("raw.analytics_cost", "raw.ingest_log")),
)
#: each comparison's SELECT, read once from its file (the Console one with its usage priced at list)
SQL = {c.name: sql_file(__file__, f"reconciliation_{c.name}") for c in COMPARISONS}
SQL["console_billed_vs_usage_list"] = SQL["console_billed_vs_usage_list"].replace(
    "{priced_usage}", priced_sql(f"({CONSOLE_USAGE_ROWS})")
)


def raw_inputs(config: ProjectConfig) -> list[Table]:
    """The raw tables the configuration's organizations fill and the waterfalls read (the Usage and Cost
    Analytics table only where some organization reads that API)."""
    return [
        *((CONSOLE_USAGE, CONSOLE_COST) if config.of_kind("console") else ()),
        *((ENTERPRISE_COST, ENTERPRISE_USER_COST) if config.of_kind("enterprise") else ()),
        *((ANALYTICS_COST,) if config.reading_analytics_api() else ()),
    ]


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        f"{s}.{t}"
        for s, t in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    }


def available(con: duckdb.DuckDBPyConnection) -> list[Comparison]:
    """The comparisons whose every input table exists."""
    tables = existing_tables(con)
    return [c for c in COMPARISONS if set(c.reads) <= tables]


def reconciliation_sql(comparisons: list[Comparison]) -> str:
    """One SELECT of every comparison's rows (parameters $1, $2: the first day and the day after the last)."""
    if not comparisons:
        return f"SELECT {', '.join(f'NULL AS {c}' for c in COST_RECONCILIATION.column_names)} WHERE false"
    return " UNION ALL BY NAME ".join(f"({c.sql})" for c in comparisons)


def rebuild(con: duckdb.DuckDBPyConnection, start: date, end: date) -> tuple[int, list[str]]:
    """Replace the days ``[start, end)`` of facts.cost_reconciliation; returns (rows, comparisons built)."""
    if "raw.analytics_cost" in existing_tables(con):  # parity reads both legacy records, either may be empty
        for table in (CONSOLE_COST, ENTERPRISE_COST):
            ensure(con, table)
    comparisons = available(con)
    rows = rebuild_days(con, COST_RECONCILIATION, start, end, reconciliation_sql(comparisons), [start, end])
    return rows, [c.name for c in comparisons]


def cause_totals(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[tuple]:
    """(comparison, cause, exact amount as text) over ``[start, end)``: the money each cause moves."""
    return con.execute(
        f"SELECT comparison, cause, CAST(sum(amount_usd) AS VARCHAR) FROM {COST_RECONCILIATION.qualified} "
        "WHERE usage_date >= ? AND usage_date < ? GROUP BY ALL ORDER BY comparison, min(step)",
        [start, end],
    ).fetchall()


def metadata(con: duckdb.DuckDBPyConnection, ranges: list[tuple[date, date]], rows: int) -> dict:
    """The table's row count, and the run's rows, window, each cause's total per comparison (to the cent,
    exact and to plot) and the waterfall as a markdown table, named as the run's."""
    table = COST_RECONCILIATION
    meta: dict = {
        **figures.table_rows(con, table),
        "dagster/column_schema": table.dagster_schema(),
        "run_rows_written": dg.MetadataValue.int(rows),
        "run_window": dg.MetadataValue.md("\n".join(f"- {s} → {e} ({(e - s).days} d)" for s, e in ranges)),
    }
    causes: dict[str, Decimal] = {}
    for start, end in ranges:
        for comparison, cause, amount in cause_totals(con, start, end):
            key = f"{comparison}.{cause}"
            causes[key] = causes.get(key, Decimal(0)) + Decimal(amount)
    for key, exact in sorted(causes.items()):
        meta.update(figures.money(f"run_{key}", exact))
    meta["run_waterfall"] = dg.MetadataValue.md(_waterfall(causes))
    return meta


def day_metadata(con: duckdb.DuckDBPyConnection, day: date) -> dict:
    """One day's (one partition's) cause totals per comparison and its waterfall."""
    causes = {f"{c}.{cause}": Decimal(a) for c, cause, a in cause_totals(con, day, day + timedelta(days=1))}
    meta: dict = {}
    for key, exact in sorted(causes.items()):
        meta.update(figures.money(key, exact))
    meta["waterfall"] = dg.MetadataValue.md(_waterfall(causes))
    return meta


def _waterfall(causes: dict[str, Decimal]) -> str:
    lines = ["| comparison | cause | amount_usd |", "|---|---|---:|"]
    for key, exact in sorted(causes.items()):
        comparison, cause = key.split(".")
        lines.append(f"| {comparison} | {cause} | {exact} |")
    return "\n".join(lines)

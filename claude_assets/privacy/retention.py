"""Retention: rows older than their table family's limit (``privacy.retention_months``) are deleted, and
``raw.retention_log`` records what went.

A table family is a warehouse schema (raw, inventory, facts, insights, exports). Each table of a family with a
limit is read from the warehouse itself (so a table added later is covered without being listed here) and
dated by the first rule that fits:

- a ``usage_date`` column: the row's day;
- a history table (``valid_to`` and ``is_current``): the UTC day its version closed; current versions (no
  ``valid_to``) always stay, however old;
- ``DATED_BY``: a table's own day expression (alerts, budget crossings, monthly unit economics);
- else the table is kept whole (``facts.price_book``: prices; ``raw.organization_identity``: the organization
  pins), and the run says so.

A row is deleted when its day is before the cutoff: the as-of day minus the family's months (the first day
kept). Each table is one transaction: its log rows (per organization and day: rows deleted) and the delete
commit together, or neither. Running again deletes nothing more, and logs nothing.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import duckdb

from claude_assets.config import RETENTION_FAMILIES, RetentionMonths
from claude_assets.warehouse.contract import Column, Table
from claude_assets.warehouse.writes import ensure, transaction

RETENTION_LOG = Table(
    schema="raw",
    name="retention_log",
    description="What retention deleted (privacy.retention_months): one row per run, table, organization and "
    "day of the rows deleted, with the limit that deleted them. Never itself deleted.",
    columns=(
        Column("run_id", "VARCHAR", "the Dagster run that deleted the rows", False),
        Column("deleted_at", "TIMESTAMPTZ", "when the table's transaction ran", False),
        Column("table_name", "VARCHAR", "the table, e.g. raw.console_cost", False),
        Column("family", "VARCHAR", "the table family (schema) whose limit applied", False),
        Column("org_id", "VARCHAR", "organization slug; null for a table without one (insights.alert_log)"),
        Column(
            "usage_date",
            "DATE",
            "the day of the rows deleted (a history table: the UTC day their versions closed)",
            False,
        ),
        Column("dated_by", "VARCHAR", "the column (or expression) that dates the table's rows", False),
        Column("months", "INTEGER", "the family's limit in months", False),
        Column("cutoff", "DATE", "the first day kept: rows dated before it were deleted", False),
        Column("rows_deleted", "BIGINT", "rows of that table, organization and day deleted", False),
    ),
    grain=("run_id", "table_name", "org_id", "usage_date"),
    counts=("rows_deleted",),
)

#: tables dated by something other than usage_date or a history version's close: the day expression
DATED_BY = {
    "insights.alert_log": "alert_day",
    "insights.budget_crossings": "period_end",
    "insights.unit_economics_monthly": "CAST(month_start + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE)",
}
_HISTORY_DAY = "CAST(timezone('UTC', valid_to) AS DATE)"


@dataclass(frozen=True)
class Dated:
    """How one table's rows are dated: ``day`` (a SQL expression; None: the table is kept whole)."""

    table: str
    family: str
    day: str | None
    has_org: bool = True


@dataclass(frozen=True)
class Deleted:
    """What one table's transaction deleted: rows per (organization, day)."""

    table: str
    family: str
    cutoff: date
    by_org_day: dict[tuple[str, date], int]

    @property
    def rows(self) -> int:
        return sum(self.by_org_day.values())


def cutoff(as_of: date, months: int) -> date:
    """The first day kept: ``as_of`` minus ``months`` calendar months (the month's last day when shorter)."""
    index = as_of.year * 12 + as_of.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(as_of.day, calendar.monthrange(year, month + 1)[1]))


def dated_tables(
    con: duckdb.DuckDBPyConnection, families: tuple[str, ...] = RETENTION_FAMILIES
) -> list[Dated]:
    """Every base table of ``families`` in the warehouse (but the retention log) and how its rows are dated."""
    rows = con.execute(
        "SELECT c.table_schema, c.table_name, list(c.column_name) FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
        "WHERE t.table_type = 'BASE TABLE' AND c.table_catalog = current_database() "
        f"AND c.table_schema IN ({', '.join('?' for _ in families)}) GROUP BY ALL ORDER BY 1, 2",
        list(families),
    ).fetchall()
    out = []
    for schema, name, columns in rows:
        qualified = f"{schema}.{name}"
        if qualified == RETENTION_LOG.qualified:
            continue
        if "usage_date" in columns:
            day = "usage_date"
        elif {"valid_to", "is_current"} <= set(columns):
            day = _HISTORY_DAY
        else:
            day = DATED_BY.get(qualified)
        out.append(Dated(qualified, schema, day, "org_id" in columns))
    return out


def apply_retention(
    con: duckdb.DuckDBPyConnection, months: RetentionMonths, as_of: date, run_id: str
) -> tuple[list[Deleted], list[str]]:
    """Delete, table by table, the rows older than their family's limit, logging them in ``raw.retention_log``.
    Returns what each table lost (tables that lost nothing included) and the tables kept whole."""
    ensure(con, RETENTION_LOG)
    deleted, whole = [], []
    for dated in dated_tables(con):
        limit = months.of(dated.family)
        if limit is None:
            continue
        if dated.day is None:
            whole.append(dated.table)
            continue
        deleted.append(_delete_older(con, dated, limit, cutoff(as_of, limit), run_id))
    return deleted, whole


def _delete_older(
    con: duckdb.DuckDBPyConnection, dated: Dated, months: int, first_kept: date, run_id: str
) -> Deleted:
    older = f"({dated.day}) < ?"
    with transaction(con):
        counted = con.execute(
            f"SELECT {'org_id' if dated.has_org else 'NULL'}, {dated.day} AS day, count(*) FROM {dated.table} "
            f"WHERE {older} GROUP BY ALL ORDER BY 1, 2",
            [first_kept],
        ).fetchall()
        if not counted:
            return Deleted(dated.table, dated.family, first_kept, {})
        con.executemany(
            f"INSERT INTO {RETENTION_LOG.qualified} VALUES (?, now(), ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [run_id, dated.table, dated.family, org, day, dated.day, months, first_kept, n]
                for org, day, n in counted
            ],
        )
        gone = con.execute(f"DELETE FROM {dated.table} WHERE {older}", [first_kept]).fetchone()[0]
        expected = sum(n for _, _, n in counted)
        if gone != expected:  # the transaction rolls back: nothing deleted, nothing logged
            raise RuntimeError(
                f"retention of {dated.table}: counted {expected} rows before {first_kept} but deleted {gone}; "
                "nothing was deleted. Another writer changed the table during the run: run retention again."
            )
    return Deleted(dated.table, dated.family, first_kept, {(org, day): n for org, day, n in counted})

"""Restatements: what changed when a day already in the warehouse was pulled again.

Inside the transaction of a window write (``writes.write_windows``) the totals of each day are read
before the old rows are deleted and after the new ones are inserted: the row count and the sum of each
measure the table declares (``Table.money`` in exact USD, ``Table.counts`` as integers, over the rows of
``Table.totals_where``). A day that was logged before (``raw.ingest_log``) and whose totals differ gets
one row per measure in ``raw.restatements``, with both pulls' ``data_refreshed_at``, ``fetched_at`` and
runs. A pull that changes nothing records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pandas as pd

from claude_assets.warehouse.contract import MONEY, Column, Table

ROWS = "row_count"

RESTATEMENTS = Table(
    schema="raw",
    name="restatements",
    description="One row per measure of each (table, organization, day) whose totals changed when the day was "
    "pulled again: the old and new totals (money in exact USD, counts as integers; the measure row_count is "
    "the number of rows), and each pull's data_refreshed_at, fetched_at and run. Written in the transaction "
    "that replaced the day; a pull that changed nothing writes nothing.",
    columns=(
        Column("table_name", "VARCHAR", "the table restated, e.g. raw.enterprise_cost", False),
        Column("org_id", "VARCHAR", "organization slug", False),
        Column("usage_date", "DATE", "the UTC day restated", False),
        Column("measure", "VARCHAR", "row_count, or the column whose total is compared", False),
        Column(
            "unit", "VARCHAR", "usd (old_usd/new_usd are set) or count (old_count/new_count are set)", False
        ),
        Column("old_usd", MONEY, "the day's total before the new pull, exact USD (money measures)"),
        Column("new_usd", MONEY, "the day's total after it, exact USD (money measures)"),
        Column(
            "old_count",
            "HUGEINT",
            "the day's total before the new pull (row count, token and count measures)",
        ),
        Column("new_count", "HUGEINT", "the day's total after it (row count, token and count measures)"),
        Column("old_data_refreshed_at", "TIMESTAMPTZ", "the source's export watermark at the earlier pull"),
        Column("new_data_refreshed_at", "TIMESTAMPTZ", "the source's export watermark at the new pull"),
        Column("old_fetched_at", "TIMESTAMPTZ", "when the API answered the earlier pull", False),
        Column("new_fetched_at", "TIMESTAMPTZ", "when the API answered the new pull", False),
        Column("old_run_id", "VARCHAR", "the Dagster run of the earlier pull"),
        Column("new_run_id", "VARCHAR", "the Dagster run of the new pull"),
        Column(
            "old_status", "VARCHAR", "the day's status at the earlier pull (provisional, revisable, settled)"
        ),
        Column("new_status", "VARCHAR", "the day's status at the new pull"),
    ),
    grain=("table_name", "org_id", "usage_date", "new_fetched_at", "measure"),
)


@dataclass(frozen=True)
class Pull:
    """One logged pull of a day: when, by which run, at which export watermark, with which status."""

    fetched_at: datetime
    run_id: str | None
    data_refreshed_at: datetime | None
    status: str | None


#: day -> measure -> total
Totals = dict[date, dict[str, Decimal | int]]


def measures(table: Table) -> tuple[str, ...]:
    """The columns whose daily totals a restatement compares (the row count aside)."""
    return (*table.money, *table.counts)


def day_totals(
    con: duckdb.DuckDBPyConnection, table: Table, org_id: str, start: date, end: date, date_column: str
) -> Totals:
    """The row count and each measure's total per day of ``[start, end)`` for one organization."""
    only = f" FILTER (WHERE {table.totals_where})" if table.totals_where else ""
    sums = "".join(f', coalesce(sum("{m}"){only}, 0)' for m in measures(table))
    rows = con.execute(
        f'SELECT "{date_column}", count(*){sums} FROM {table.qualified} '
        f'WHERE org_id = ? AND "{date_column}" >= ? AND "{date_column}" < ? GROUP BY ALL',
        [org_id, start, end],
    ).fetchall()
    names = (ROWS, *measures(table))
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}


def logged_pulls(
    con: duckdb.DuckDBPyConnection, log: Table, table: Table, org_id: str, start: date, end: date
) -> dict[date, Pull]:
    """The pulls of ``table`` logged for the organization's days in ``[start, end)``."""
    rows = con.execute(
        f"SELECT usage_date, fetched_at, run_id, data_refreshed_at, status FROM {log.qualified} "
        "WHERE table_name = ? AND org_id = ? AND usage_date >= ? AND usage_date < ?",
        [table.qualified, org_id, start, end],
    ).fetchall()
    return {r[0]: Pull(*r[1:]) for r in rows}


def changes(
    table: Table,
    org_id: str,
    before: Totals,
    after: Totals,
    old: dict[date, Pull],
    new: dict[date, Pull],
) -> pd.DataFrame:
    """One row per measure of each day pulled before and again whose totals differ (none when equal)."""
    rows = []
    empty = dict.fromkeys((ROWS, *measures(table)), 0)
    for day in sorted(set(old) & set(new)):
        was, now = before.get(day, empty), after.get(day, empty)
        if all(was[m] == now[m] for m in empty):
            continue
        for m in empty:
            money = m in table.money
            rows.append(
                {
                    "table_name": table.qualified,
                    "org_id": org_id,
                    "usage_date": day.isoformat(),
                    "measure": m,
                    "unit": "usd" if money else "count",
                    "old_usd": str(was[m]) if money else None,
                    "new_usd": str(now[m]) if money else None,
                    "old_count": None if money else str(int(was[m])),
                    "new_count": None if money else str(int(now[m])),
                    "old_data_refreshed_at": _iso(old[day].data_refreshed_at),
                    "new_data_refreshed_at": _iso(new[day].data_refreshed_at),
                    "old_fetched_at": _iso(old[day].fetched_at),
                    "new_fetched_at": _iso(new[day].fetched_at),
                    "old_run_id": old[day].run_id,
                    "new_run_id": new[day].run_id,
                    "old_status": old[day].status,
                    "new_status": new[day].status,
                }
            )
    return pd.DataFrame(rows, columns=RESTATEMENTS.column_names, dtype=object)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# -- what a run restated, for its materializations' metadata ------------------------------------------------
@dataclass(frozen=True)
class Restated:
    """One restated day of a table: measure -> (old, new, unit)."""

    org_id: str
    usage_date: date
    totals: dict[str, tuple[Decimal | int, Decimal | int, str]]

    def describe(self) -> str:
        """e.g. ``amount_usd 12.30 -> 13.53 USD (+1.23); row_count 40 -> 41 (+1)``, changed measures only."""
        parts = []
        for m, (old, new, unit) in self.totals.items():
            if old != new:
                usd = " USD" if unit == "usd" else ""
                parts.append(f"{m} {_num(old)} -> {_num(new)}{usd} ({_signed(new - old)})")
        return "; ".join(parts)


def of_run(con: duckdb.DuckDBPyConnection, tables: list[Table], run_id: str) -> dict[str, list[Restated]]:
    """The days each table's pulls in run ``run_id`` restated (table name -> days)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [RESTATEMENTS.schema, RESTATEMENTS.name],
    ).fetchall()[0][0]
    if not exists or not tables:
        return {}
    marks = ", ".join("?" for _ in tables)
    rows = con.execute(
        f"SELECT table_name, org_id, usage_date, measure, unit, coalesce(old_usd, old_count), "
        f"coalesce(new_usd, new_count) FROM {RESTATEMENTS.qualified} "
        f"WHERE new_run_id = ? AND table_name IN ({marks}) ORDER BY table_name, org_id, usage_date, measure",
        [run_id, *(t.qualified for t in tables)],
    ).fetchall()
    days: dict[tuple[str, str, date], dict] = {}
    for table_name, org_id, day, measure, unit, old, new in rows:
        if unit == "count":
            old, new = int(old), int(new)
        days.setdefault((table_name, org_id, day), {})[measure] = (old, new, unit)
    out: dict[str, list[Restated]] = {}
    for (table_name, org_id, day), totals in days.items():
        out.setdefault(table_name, []).append(Restated(org_id, day, totals))
    return out


def summary(days: list[Restated]) -> dict:
    """Run-level metadata: how many days were restated and the net change of each measure that moved."""
    if not days:
        return {"restated_days": 0}
    net: dict[str, tuple[Decimal | int, str]] = {}
    for d in days:
        for m, (old, new, unit) in d.totals.items():
            total, _ = net.get(m, (0, unit))
            net[m] = (total + (new - old), unit)
    moved = [
        f"{m} {_signed(change)}{' USD' if unit == 'usd' else ''}"
        for m, (change, unit) in net.items()
        if change
    ]
    return {
        "restated_days": len(days),
        "restatements": f"restated: {len(days)} day{'s' if len(days) > 1 else ''}"
        + (f", {', '.join(moved)}" if moved else ""),
    }


def _num(value: Decimal | int) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value.normalize():,f}"


def _signed(value: Decimal | int) -> str:
    return ("+" if value >= 0 else "-") + _num(abs(value))

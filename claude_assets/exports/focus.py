"""The FOCUS 1.2 export: ``exports.focus_cost`` rebuilt from facts.cost day range by day range, and its
monthly Parquet and CSV files under the data directory.

Money stays exact end to end: DECIMAL(38, 12) in the table and in Parquet, the same decimals written
as plain strings in CSV. Files are written to a temporary name and renamed, so a reader sees a whole
month or the previous one, never half of one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from claude_assets.exports.tables import FILE_COLUMNS, FOCUS_COST
from claude_assets.inventory.tables import ORGANIZATION, WORKSPACES_TABLE
from claude_assets.warehouse.sql import sql_file
from claude_assets.warehouse.writes import ensure, rebuild_days

SQL = sql_file(__file__, "focus_cost")
FACTS_COST = "facts.cost"  # the source: its billed rows (charge_kind 'billed')
#: the folder under the data directory that holds the files
FOLDER = Path("exports") / "focus"
ALL_ORGS = "all"  # the folder of the files that hold every organization
FORMATS = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER"}
#: Date/time values as FOCUS writes them: ISO 8601 in UTC with the Z designator
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def rebuild(con: duckdb.DuckDBPyConnection, start: date, end: date) -> int:
    """Make the days ``[start, end)`` of exports.focus_cost equal to facts.cost's billed rows; the row count."""
    for table in (ORGANIZATION, WORKSPACES_TABLE):  # names, where the inventory is read; else empty
        ensure(con, table)
    return rebuild_days(con, FOCUS_COST, start, end, SQL, [start, end])


def months(ranges: Iterable[tuple[date, date]]) -> list[date]:
    """The first day of every month that a day range of ``ranges`` ([start, end)) touches."""
    touched = set()
    for start, end in ranges:
        month = start.replace(day=1)
        while month < end:
            touched.add(month)
            month = months_after(month)
    return sorted(touched)


@dataclass(frozen=True)
class MonthFiles:
    month: date
    folder: str  # an organization's slug, or ALL_ORGS
    rows: int
    paths: tuple[Path, ...]


def write_month(con: duckdb.DuckDBPyConnection, root: Path, month: date) -> list[MonthFiles]:
    """Rewrite every file of ``month``: one pair (Parquet, CSV) per organization with rows that month and
    one for all of them; an organization's files of that month that no longer have rows are removed."""
    end = months_after(month)
    counts = dict(
        con.execute(
            f"SELECT org_id, count(*) FROM {FOCUS_COST.qualified} "
            "WHERE usage_date >= ? AND usage_date < ? GROUP BY org_id",
            [month, end],
        ).fetchall()
    )
    written = []
    for folder, orgs in [*((org, [org]) for org in sorted(counts)), (ALL_ORGS, sorted(counts))]:
        rows = sum(counts[o] for o in orgs)
        paths = _write_files(con, root / FOLDER / folder, month, end, orgs) if rows else ()
        written.append(MonthFiles(month, folder, rows, paths))
    stale = [
        path
        for folder in (root / FOLDER).glob("*")
        if folder.name not in counts and folder.name != ALL_ORGS
        for path in folder.glob(f"{month:%Y-%m}.*")
    ]
    if not counts:
        stale += list((root / FOLDER / ALL_ORGS).glob(f"{month:%Y-%m}.*"))
    for path in stale:
        path.unlink()
    return written


def months_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _write_files(
    con: duckdb.DuckDBPyConnection, folder: Path, month: date, end: date, orgs: list[str]
) -> tuple[Path, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, options in FORMATS.items():
        target = folder / f"{month:%Y-%m}.{suffix}"
        partial = folder / f".{target.name}.partial"
        con.execute(
            f"COPY ({file_query(suffix)}) TO '{_quoted(partial)}' ({options})",
            [month, end, orgs],
        )
        os.replace(partial, target)
        paths.append(target)
    return tuple(paths)


def file_query(suffix: str) -> str:
    """The rows of one month and some organizations, as a file of format ``suffix`` carries them: Parquet
    keeps the table's types (DECIMAL money, UTC timestamps); CSV writes instants as ISO 8601 with Z."""
    timestamps = {c.name for c in FOCUS_COST.columns if c.type == "TIMESTAMPTZ"}
    select = ", ".join(
        f"strftime(\"{name}\" AT TIME ZONE 'UTC', '{ISO_UTC}') AS \"{name}\""
        if suffix == "csv" and name in timestamps
        else f'"{name}"'
        for name in FILE_COLUMNS
    )
    return (
        f"SELECT {select} FROM {FOCUS_COST.qualified} "
        "WHERE usage_date >= ? AND usage_date < ? AND list_contains(?, org_id) "
        "ORDER BY org_id, usage_date, x_Source, ChargeDescription, SubAccountId, x_Product, x_ApiKeyId, x_UserId"
    )


def _quoted(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")


def billed_differences(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[tuple]:
    """Per organization and day of ``[start, end)``, where the export's BilledCost total or row count
    differs from facts.cost's billed rows: ``(org_id, usage_date, export total, facts total, export rows,
    facts rows)``, exact decimals."""
    return con.execute(
        f"""
        WITH export AS (
            SELECT org_id, usage_date, sum("BilledCost") AS total, count(*) AS rows
            FROM {FOCUS_COST.qualified} WHERE usage_date >= $1 AND usage_date < $2 GROUP BY ALL
        ), facts AS (
            SELECT org_id, usage_date, sum(billed_cost_usd) AS total, count(*) AS rows
            FROM {FACTS_COST}
            WHERE usage_date >= $1 AND usage_date < $2 AND charge_kind = 'billed' GROUP BY ALL
        )
        SELECT org_id, usage_date, e.total, f.total, coalesce(e.rows, 0), coalesce(f.rows, 0)
        FROM export e FULL JOIN facts f USING (org_id, usage_date)
        WHERE e.total IS DISTINCT FROM f.total OR e.rows IS DISTINCT FROM f.rows
        ORDER BY ALL
        """,
        [start, end],
    ).fetchall()


def unpriced_rows(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, int]:
    """Rows of ``[start, end)`` whose ListCost stands in for a missing list price, per x_Model."""
    return dict(
        con.execute(
            f"SELECT coalesce(x_Model, '(none)'), count(*) FROM {FOCUS_COST.qualified} "
            "WHERE usage_date >= ? AND usage_date < ? AND x_ListCostUnpriced GROUP BY ALL ORDER BY ALL",
            [start, end],
        ).fetchall()
    )


def rows_as_text(con: duckdb.DuckDBPyConnection, start: date, end: date):
    """The rows of ``[start, end)`` as a pandas frame with money as exact decimal strings (for pandera)."""
    money = set(FOCUS_COST.money)
    select = ", ".join(
        f'CAST("{c}" AS VARCHAR) AS "{c}"' if c in money else f'"{c}"' for c in FOCUS_COST.column_names
    )
    return con.execute(
        f"SELECT {select} FROM {FOCUS_COST.qualified} WHERE usage_date >= ? AND usage_date < ?", [start, end]
    ).df()

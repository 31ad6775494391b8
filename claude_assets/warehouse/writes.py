"""Writing declared tables: created on first write, replaced window by window in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from claude_assets.warehouse.contract import Column, Table


def ensure(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.schema}")
    con.execute(table.ddl())


def _select_list(table: Table) -> str:
    # staging frames carry money and timestamps as exact strings; the cast happens in DuckDB
    return ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in table.columns)


INGEST_LOG = Table(
    schema="raw",
    name="ingest_log",
    description="One row per table, organization and day written: what was asked, when, and how many rows came back.",
    columns=(
        Column("table_name", "VARCHAR", "the table written, e.g. raw.console_cost", False),
        Column("org_id", "VARCHAR", "organization slug", False),
        Column("usage_date", "DATE", "the UTC day covered", False),
        Column("row_count", "BIGINT", "rows written for that day", False),
        Column("source_request", "VARCHAR", "the request (path and parameters) that produced the rows"),
        Column("run_id", "VARCHAR", "the Dagster run that wrote them"),
        Column("fetched_at", "TIMESTAMPTZ", "when the API answered", False),
    ),
    grain=("table_name", "org_id", "usage_date"),
)


@dataclass
class WindowWrite:
    """Everything fetched for one organization and window, written in one transaction."""

    org_id: str
    start: date
    end: date
    frames: dict[Table, pd.DataFrame]  # table -> staged rows (exact strings for money and instants)
    requests: dict[
        date, str
    ]  # day -> the request that answered for it (only these days are logged as covered)
    fetched_at: str  # ISO instant
    run_id: str = ""
    date_column: str = "usage_date"
    #: called first inside the transaction (e.g. the organization check of ``warehouse.identity``);
    #: raising rolls the whole write back
    guard: Callable[[duckdb.DuckDBPyConnection, dict[Table, pd.DataFrame]], None] | None = None

    def log_frame(self, table: Table) -> pd.DataFrame:
        frame = self.frames[table]
        counts = frame.groupby(self.date_column).size() if len(frame) else pd.Series(dtype="int64")
        days = sorted(d for d in self.requests if self.start <= d < self.end)
        return pd.DataFrame(
            {
                "table_name": table.qualified,
                "org_id": self.org_id,
                "usage_date": [d.isoformat() for d in days],
                "row_count": [int(counts.get(d, counts.get(d.isoformat(), 0))) for d in days],
                "source_request": [self.requests[d] for d in days],
                "run_id": self.run_id,
                "fetched_at": self.fetched_at,
            }
        )


def write_windows(con: duckdb.DuckDBPyConnection, write: WindowWrite) -> dict[Table, int]:
    """Atomically make ``[start, end)`` of one organization equal to the staged frames in every table,
    and record the days covered in ``raw.ingest_log``. Re-running leaves identical tables."""
    for table in (*write.frames, INGEST_LOG):
        ensure(con, table)
    written = {}
    with transaction(con):
        if write.guard is not None:
            write.guard(con, write.frames)
        for table, frame in write.frames.items():
            written[table] = _replace(
                con,
                table,
                f'org_id = ? AND "{write.date_column}" >= ? AND "{write.date_column}" < ?',
                [write.org_id, write.start, write.end],
                frame,
            )
            _replace(
                con,
                INGEST_LOG,
                "table_name = ? AND org_id = ? AND usage_date >= ? AND usage_date < ?",
                [table.qualified, write.org_id, write.start, write.end],
                write.log_frame(table),
            )
    return written


def replace_where(
    con: duckdb.DuckDBPyConnection, table: Table, where: str, params: Sequence, frame: pd.DataFrame
) -> int:
    """Delete the rows matching ``where`` and insert ``frame``, in one transaction."""
    ensure(con, table)
    with transaction(con):
        return _replace(con, table, where, params, frame)


def rebuild_days(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    start: date,
    end: date,
    select_sql: str,
    params: Sequence = (),
) -> int:
    """Make the days ``[start, end)`` of a derived table equal to a query's rows, in one transaction.

    ``select_sql`` returns the table's columns by name (any order). A row of another day, or with no
    day, fails the rebuild and nothing is written; readers see the old days or the new ones, never a mix.
    """
    ensure(con, table)
    names = ", ".join(f'"{c}"' for c in table.column_names)
    with transaction(con):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _rebuild AS SELECT {names} FROM ({select_sql})", list(params)
        )
        try:
            outside = con.execute(
                "SELECT count(*) FROM _rebuild WHERE usage_date IS NULL OR usage_date < ? OR usage_date >= ?",
                [start, end],
            ).fetchall()[0][0]
            if outside:
                raise ValueError(
                    f"{table.qualified}: the rebuild of {start}..{end} produced {outside} rows dated outside it"
                )
            con.execute(
                f"DELETE FROM {table.qualified} WHERE usage_date >= ? AND usage_date < ?", [start, end]
            )
            con.execute(f"INSERT INTO {table.qualified} ({names}) SELECT {names} FROM _rebuild")
            return con.execute("SELECT count(*) FROM _rebuild").fetchall()[0][0]
        finally:
            with suppress(duckdb.Error):  # an aborted transaction refuses it; the original error matters
                con.execute("DROP TABLE IF EXISTS _rebuild")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT, or ROLLBACK and re-raise."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _replace(
    con: duckdb.DuckDBPyConnection, table: Table, where: str, params: Sequence, frame: pd.DataFrame
) -> int:
    missing = set(table.column_names) - set(frame.columns)
    if missing:
        raise ValueError(f"{table.qualified}: staging frame lacks columns {sorted(missing)}")
    staged = frame[table.column_names]
    con.execute(f"DELETE FROM {table.qualified} WHERE {where}", list(params))
    if len(staged):
        con.register("_staging", staged)
        try:
            con.execute(f"INSERT INTO {table.qualified} SELECT {_select_list(table)} FROM _staging")
        finally:
            con.unregister("_staging")
    return len(staged)


def duplicate_grain_count(con: duckdb.DuckDBPyConnection, table: Table, where: str, params: Sequence) -> int:
    """Rows beyond the first at the same grain (NULLs compare equal) within ``where``."""
    keys = ", ".join(f'"{c}"' for c in table.grain)
    return con.execute(
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {table.qualified} WHERE {where} "
        f"GROUP BY {keys}) WHERE n > 1",
        list(params),
    ).fetchall()[0][0]

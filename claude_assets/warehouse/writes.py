"""Writing declared tables: created on first write, replaced window by window in one transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from claude_assets.warehouse import restatements
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
    description="One row per table, organization and day written: what was asked, when, how many rows came "
    "back, and whether the day was complete at the source (provisional until it is).",
    columns=(
        Column("table_name", "VARCHAR", "the table written, e.g. raw.console_cost", False),
        Column("org_id", "VARCHAR", "organization slug", False),
        Column("usage_date", "DATE", "the UTC day covered", False),
        Column("row_count", "BIGINT", "rows written for that day", False),
        Column("source_request", "VARCHAR", "the request (path and parameters) that produced the rows"),
        Column("run_id", "VARCHAR", "the Dagster run that wrote them"),
        Column("fetched_at", "TIMESTAMPTZ", "when the API answered", False),
        Column(
            "provisional",
            "BOOLEAN",
            "the source had not finished the day when it was pulled (by the API's clock, data_refreshed_at "
            "and the documented delays): pull it again after final_after",
            False,
        ),
        Column(
            "final_after",
            "TIMESTAMPTZ",
            "for a provisional day: the instant (API clock) from which a new pull gives the day as final; "
            "null when final, or when the API's clock was unknown",
        ),
        Column("api_time", "TIMESTAMPTZ", "the API's own clock (its Date header) when the day was pulled"),
        Column(
            "data_refreshed_at",
            "TIMESTAMPTZ",
            "the source's export watermark when the day was pulled (the oldest seen), where it gives one",
        ),
        Column(
            "status",
            "VARCHAR",
            "provisional (partial at the source), revisable (complete, but inside the source's documented "
            "revision window: a new pull may change it) or settled (outside it, by the API's clock and "
            "data_refreshed_at: it no longer changes)",
            False,
        ),
        Column(
            "settles_after",
            "TIMESTAMPTZ",
            "the instant (API clock) from which the source no longer revises the day: the day's end plus its "
            "revision window (day_revisable_for)",
        ),
    ),
    grain=("table_name", "org_id", "usage_date"),
)
STATUSES = ("provisional", "revisable", "settled")
#: A warehouse logged before days were marked provisional: a day pulled less than this after it ended may have
#: been partial (the longest documented delay, the Enterprise reports' "up to 24 h"); it is marked provisional.
LEGACY_COMPLETE_AFTER = timedelta(hours=24)
#: A warehouse logged before days were marked settled: a complete day pulled less than this after it ended
#: (the longest documented revision window, the Enterprise reports' "revised up to 30 days") is revisable.
LEGACY_REVISABLE_FOR = timedelta(days=30)


@dataclass(frozen=True)
class DayCompleteness:
    """Whether one pulled day was complete at the source, as logged in ``raw.ingest_log``."""

    provisional: bool = False
    final_after: datetime | None = None
    api_time: datetime | None = None
    data_refreshed_at: datetime | None = None
    #: complete and outside the source's revision window (a provisional day is never settled)
    settled: bool = True
    settles_after: datetime | None = None

    @property
    def status(self) -> str:
        return "provisional" if self.provisional else ("settled" if self.settled else "revisable")


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
    #: day -> whether the source had finished it (a day not listed is logged as final, with no API clock)
    completeness: dict[date, DayCompleteness] = field(default_factory=dict)
    #: called first inside the transaction (e.g. the organization check of ``warehouse.identity``);
    #: raising rolls the whole write back
    guard: Callable[[duckdb.DuckDBPyConnection, dict[Table, pd.DataFrame]], None] | None = None

    def log_frame(self, table: Table) -> pd.DataFrame:
        frame = self.frames[table]
        counts = frame.groupby(self.date_column).size() if len(frame) else pd.Series(dtype="int64")
        days = sorted(d for d in self.requests if self.start <= d < self.end)
        states = [self.completeness.get(d, DayCompleteness()) for d in days]
        return pd.DataFrame(
            {
                "table_name": table.qualified,
                "org_id": self.org_id,
                "usage_date": [d.isoformat() for d in days],
                "row_count": [int(counts.get(d, counts.get(d.isoformat(), 0))) for d in days],
                "source_request": [self.requests[d] for d in days],
                "run_id": self.run_id,
                "fetched_at": self.fetched_at,
                "provisional": pd.Series([s.provisional for s in states], dtype=object),
                "final_after": [_instant(s.final_after) for s in states],
                "api_time": [_instant(s.api_time) for s in states],
                "data_refreshed_at": [_instant(s.data_refreshed_at) for s in states],
                "status": [s.status for s in states],
                "settles_after": [_instant(s.settles_after) for s in states],
            }
        )


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def ensure_ingest_log(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``raw.ingest_log``, or add the columns a log written by an older version lacks.

    Days logged before completeness was recorded are marked provisional when they were pulled less than
    ``LEGACY_COMPLETE_AFTER`` after they ended (they may be partial), so they are pulled again. Days logged
    before settlement was recorded are settled when they were pulled at least ``LEGACY_REVISABLE_FOR``
    after they ended, revisable (until then) otherwise.
    """
    ensure(con, INGEST_LOG)
    present = dict(
        con.execute(
            "SELECT column_name, is_nullable FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [INGEST_LOG.schema, INGEST_LOG.name],
        ).fetchall()
    )
    missing = [c for c in INGEST_LOG.columns if c.name not in present]
    if missing:
        with transaction(con):
            for c in missing:
                con.execute(f'ALTER TABLE {INGEST_LOG.qualified} ADD COLUMN "{c.name}" {c.type}')
            if "provisional" in {c.name for c in missing}:
                day_end = "timezone('UTC', CAST(usage_date AS TIMESTAMP)) + INTERVAL 1 DAY"
                complete_at = f"{day_end} + to_seconds({int(LEGACY_COMPLETE_AFTER.total_seconds())})"
                con.execute(
                    f"UPDATE {INGEST_LOG.qualified} SET provisional = fetched_at < {complete_at}, "
                    f"final_after = CASE WHEN fetched_at < {complete_at} THEN {complete_at} END"
                )
            if "status" in {c.name for c in missing}:
                day_end = "timezone('UTC', CAST(usage_date AS TIMESTAMP)) + INTERVAL 1 DAY"
                settles_at = f"{day_end} + to_seconds({int(LEGACY_REVISABLE_FOR.total_seconds())})"
                con.execute(
                    f"UPDATE {INGEST_LOG.qualified} SET settles_after = {settles_at}, status = CASE "
                    f"WHEN provisional THEN 'provisional' WHEN fetched_at >= {settles_at} THEN 'settled' "
                    "ELSE 'revisable' END"
                )
    for name in ("provisional", "status"):
        if present.get(name, True) is not False:  # added above (or by an interrupted upgrade)
            # DuckDB sets NOT NULL only outside a transaction that updated the table
            con.execute(f'ALTER TABLE {INGEST_LOG.qualified} ALTER COLUMN "{name}" SET NOT NULL')


def write_windows(con: duckdb.DuckDBPyConnection, write: WindowWrite) -> dict[Table, int]:
    """Atomically make ``[start, end)`` of one organization equal to the staged frames in every table,
    record the days covered in ``raw.ingest_log`` and, for days pulled before whose totals changed, what
    changed in ``raw.restatements``. Re-running with the same answers leaves identical tables."""
    for table in write.frames:
        ensure(con, table)
    ensure_ingest_log(con)
    ensure(con, restatements.RESTATEMENTS)
    written = {}
    span = (write.org_id, write.start, write.end)
    with transaction(con), _naming_window(write):
        if write.guard is not None:
            write.guard(con, write.frames)
        for table, frame in write.frames.items():
            before = restatements.day_totals(con, table, *span, write.date_column)
            old = restatements.logged_pulls(con, INGEST_LOG, table, *span)
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
            changed = restatements.changes(
                table,
                write.org_id,
                before,
                restatements.day_totals(con, table, *span, write.date_column),
                old,
                restatements.logged_pulls(con, INGEST_LOG, table, *span),
            )
            _insert(con, restatements.RESTATEMENTS, changed)
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
    con.execute(f"DELETE FROM {table.qualified} WHERE {where}", list(params))
    return _insert(con, table, frame)


def _insert(con: duckdb.DuckDBPyConnection, table: Table, frame: pd.DataFrame) -> int:
    staged = frame[table.column_names]
    if len(staged):
        con.register("_staging", staged)
        try:
            con.execute(f"INSERT INTO {table.qualified} SELECT {_select_list(table)} FROM _staging")
        except duckdb.Error as exc:
            raise InsertError.of(table, exc) from exc
        finally:
            with suppress(duckdb.Error):  # an aborted transaction refuses it; the original error matters
                con.unregister("_staging")
    return len(staged)


class InsertError(RuntimeError):
    """Staged rows DuckDB refused (a value the column's type cannot hold, a null where none may be): the
    message names the table, the column and the value when DuckDB's error does."""

    @classmethod
    def of(cls, table: Table, exc: duckdb.Error) -> InsertError:
        said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        column = _COLUMN_IN_ERROR.search(said)
        name = column and (column.group("cast") or column.group("null"))
        value = _VALUE_IN_ERROR.search(said.split(" when casting")[0])
        types = {c.name: c.type for c in table.columns}
        what = (
            f"column {name} ({types.get(name, 'unknown type')})" if name else "a column DuckDB did not name"
        )
        if value and "NOT NULL" not in said:
            what += f", value {value.group('value')[:60]!r}"
        return cls(
            f"{table.qualified}: DuckDB refused the staged rows ({what}): {said}. Nothing of this write was "
            "kept (the transaction was rolled back). The value came from the API's answer for these days "
            "(the request is in source_request): re-run them; if the API keeps sending it, report the "
            "request, or widen the column's type in the table's declaration."
        )


_COLUMN_IN_ERROR = re.compile(
    r'source column "?(?P<cast>[^\s"]+)"?|NOT NULL constraint failed: [^.\s]+\.(?P<null>\S+)'
)
_VALUE_IN_ERROR = re.compile(r"(?P<quote>[\"'])(?P<value>.*?)(?P=quote)")


@contextmanager
def _naming_window(write: WindowWrite) -> Iterator[None]:
    """An insert DuckDB refused, named with the organization and window whose write it broke."""
    try:
        yield
    except InsertError as exc:
        last = write.end - timedelta(days=1)
        raise InsertError(f"{write.org_id}, days {write.start} to {last}: {exc}") from exc.__cause__


def duplicate_grain_count(con: duckdb.DuckDBPyConnection, table: Table, where: str, params: Sequence) -> int:
    """Rows beyond the first at the same grain (NULLs compare equal) within ``where``."""
    keys = ", ".join(f'"{c}"' for c in table.grain)
    return con.execute(
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {table.qualified} WHERE {where} "
        f"GROUP BY {keys}) WHERE n > 1",
        list(params),
    ).fetchall()[0][0]

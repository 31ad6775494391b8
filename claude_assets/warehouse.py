"""DuckDB tables: declared once, created on first write, replaced window by window in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import dagster as dg
import duckdb
import pandas as pd

MONEY = "DECIMAL(38, 12)"
OWNERS = ["team:data-platform"]  # the owner every asset of this project declares


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type
    description: str = ""
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    """A warehouse table: ``schema.name`` is also the asset key ``[schema, name]``."""

    schema: str
    name: str
    columns: tuple[Column, ...]
    grain: tuple[str, ...]  # the columns that identify a row (NULLs compare equal)
    description: str = ""
    money: tuple[str, ...] = field(default=())  # USD columns whose exact totals a materialization reports
    counts: tuple[str, ...] = field(default=())  # integer columns whose totals a materialization reports
    #: the rows whose sum is the table's total, for a table holding several groupings of the same facts
    totals_where: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey([self.schema, self.name])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self) -> str:
        cols = ",\n  ".join(f'"{c.name}" {c.type}{"" if c.nullable else " NOT NULL"}' for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.qualified} (\n  {cols}\n)"

    def dagster_schema(self) -> dg.TableSchema:
        return dg.TableSchema(
            columns=[
                dg.TableColumn(
                    c.name,
                    c.type,
                    description=c.description or None,
                    constraints=dg.TableColumnConstraints(nullable=c.nullable),
                )
                for c in self.columns
            ]
        )


def col(name: str, type_: str, description: str = "", nullable: bool = True) -> Column:
    return Column(name, type_, description, nullable)


ORG_ID = col("org_id", "VARCHAR", "organization slug (from the configuration)", False)
#: Every raw row says where it came from and keeps what it has no column for.
LINEAGE = (
    col("extra", "JSON", "fields the API returned that have no column (kept, never dropped)"),
    col("fetched_at", "TIMESTAMPTZ", "when the API answered", False),
    col("source_request", "VARCHAR", "the request that produced the row", False),
)


def cents_to_usd(cents: object) -> str | None:
    """The API's cents (decimal string or number) as an exact USD decimal string; None stays None."""
    return None if cents is None else str(Decimal(str(cents)).scaleb(-2))


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


# -- history tables (SCD type 2) ------------------------------------------------------------------
VALIDITY = ("valid_from", "valid_to", "is_current")


class HistoryOrderError(ValueError):
    """A snapshot is older than (or as old as, for a change) the history it should extend."""


@dataclass(frozen=True)
class SnapshotChange:
    """What one snapshot did to a history table."""

    opened: int  # versions inserted (new entities and new versions of changed ones)
    closed: int  # versions given a valid_to (changed or vanished entities)


def canonical_hash(values: dict) -> str:
    """A stable digest of a record's tracked attributes (key order and JSON spacing do not matter)."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def apply_snapshot(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    *,
    keys: Sequence[str],
    scope: dict[str, object],
    frame: pd.DataFrame,
    at: datetime,
    born: str | None = None,
) -> SnapshotChange:
    """Make the history ``table`` agree with one complete snapshot taken at instant ``at`` (SCD type 2).

    ``table`` has the columns ``row_hash``, ``valid_from``, ``valid_to`` (null = open) and
    ``is_current``; ``frame`` holds every other column, one row per entity present at ``at``, and
    ``keys`` identify an entity (they include the ``scope`` columns, e.g. ``org_id``). Within the
    ``scope`` rows only:

    - an entity never seen before opens its first version at ``born`` (its own creation instant,
      a column of ``frame``) when that is earlier than ``at``, else at ``at``;
    - an entity seen before whose open version has another ``row_hash``: the open version is closed
      at ``at`` and a new one opens at ``at`` (so does an entity that comes back after it vanished);
    - an entity with an open version that is not in ``frame`` is closed at ``at``;
    - an unchanged entity is left alone, so re-applying the same snapshot changes nothing.

    It does not manage a transaction: call it inside one (with the other tables of the snapshot).
    Raises ``HistoryOrderError`` rather than write a version that would end before it starts.
    """
    keys = list(keys)
    validity = set(VALIDITY)
    columns = [c for c in table.columns if c.name not in validity]
    missing = {c.name for c in columns} - set(frame.columns)
    if missing:
        raise ValueError(f"{table.qualified}: snapshot frame lacks columns {sorted(missing)}")
    if not set(keys) >= set(scope) or not {"row_hash", *validity} <= set(table.column_names):
        raise ValueError(
            f"{table.qualified}: keys must include the scope, and the table must be a history table"
        )
    for col, value in scope.items():
        if len(frame) and not (frame[col] == value).all():
            raise ValueError(f"{table.qualified}: snapshot rows outside the scope {col} = {value!r}")
    if frame.duplicated(keys).any():
        dupes = frame.loc[frame.duplicated(keys, keep=False), keys].drop_duplicates().head(5)
        raise ValueError(
            f"{table.qualified}: the snapshot has several rows per entity, e.g. {dupes.to_dict('records')}"
        )
    in_scope = " AND ".join(f'"{c}" = ?' for c in scope)
    params = list(scope.values())

    def same_entity(a: str, b: str) -> str:
        return " AND ".join(f'{a}."{k}" = {b}."{k}"' for k in keys)

    latest = con.execute(
        f"SELECT max(greatest(valid_from, coalesce(valid_to, valid_from))) FROM {table.qualified} "
        f"WHERE {in_scope}",
        params,
    ).fetchall()[0][0]
    if latest is not None and latest > at:
        raise HistoryOrderError(
            f"{table.qualified} ({', '.join(f'{k} = {v}' for k, v in scope.items())}) already has a change at "
            f"{latest.isoformat()}, after this snapshot's time {at.isoformat()}: history only moves forward "
            "(is the API's clock, the Date header, behind the one of an earlier snapshot?)"
        )
    staged = frame[[c.name for c in columns]]
    con.register("_snapshot", staged)
    try:
        changed = f"""
            {" AND ".join(f't."{c}" = ?' for c in scope)} AND t.is_current AND NOT EXISTS (
              SELECT 1 FROM _snapshot s WHERE {same_entity("s", "t")} AND s.row_hash = t.row_hash)"""
        same_instant = con.execute(
            f"SELECT count(*) FROM {table.qualified} t WHERE {changed} AND t.valid_from >= ?", [*params, at]
        ).fetchall()[0][0]
        if same_instant:
            raise HistoryOrderError(
                f"{table.qualified}: {same_instant} version(s) opened at {at.isoformat()} changed again in a snapshot "
                "taken at the same instant; run the snapshot again once the API's clock has moved on"
            )
        closed = con.execute(
            f"UPDATE {table.qualified} AS t SET valid_to = ?, is_current = false WHERE {changed}",
            [at, *params],
        ).fetchall()[0][0]
        first_from = "?"
        first_params: list = []
        if born is not None:
            first_from = (
                f'CASE WHEN s."{born}" IS NOT NULL AND CAST(s."{born}" AS TIMESTAMPTZ) < ? AND NOT EXISTS ('
                f"SELECT 1 FROM {table.qualified} h WHERE {same_entity('h', 's')}) "
                f'THEN CAST(s."{born}" AS TIMESTAMPTZ) ELSE ? END'
            )
            first_params = [at]
        select = ", ".join(f'CAST(s."{c.name}" AS {c.type})' for c in columns)
        names = ", ".join(f'"{c.name}"' for c in columns)
        opened = con.execute(
            f"INSERT INTO {table.qualified} ({names}, valid_from, valid_to, is_current) "
            f"SELECT {select}, {first_from}, NULL, true FROM _snapshot s WHERE NOT EXISTS ("
            f"SELECT 1 FROM {table.qualified} c WHERE c.is_current AND {same_entity('c', 's')})",
            [*first_params, at],
        ).fetchall()[0][0]
    finally:
        with suppress(duckdb.Error):  # an aborted transaction refuses it; the original error matters
            con.unregister("_snapshot")
    return SnapshotChange(opened=int(opened), closed=int(closed))

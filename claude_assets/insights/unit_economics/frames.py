"""Rows -> a validated frame -> the table: money travels as exact strings (DuckDB casts them), the pandera
schema (``schemas``) runs before anything is written, and a period is replaced in one transaction."""

from __future__ import annotations

from contextlib import suppress
from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd

from checks.window import validate
from claude_assets.insights.unit_economics.schemas import SCHEMAS
from claude_assets.warehouse.contract import MONEY, Table
from claude_assets.warehouse.writes import ensure, rebuild_days, transaction

_INTEGERS = ("BIGINT", "INTEGER")


def frame_of(table: Table, rows: list[dict]) -> pd.DataFrame:
    """The rows as a frame of the table's columns: money as exact strings, counts as nullable integers."""
    data = {}
    for c in table.columns:
        values = [r.get(c.name) for r in rows]
        if c.type == MONEY:
            data[c.name] = pd.Series([None if v is None else str(Decimal(v)) for v in values], dtype=object)
        elif c.type in _INTEGERS:
            data[c.name] = pd.Series(values, dtype="Int64")
        elif c.type == "DATE":
            data[c.name] = pd.Series([None if v is None else v.isoformat() for v in values], dtype=object)
        elif c.type == "BOOLEAN":
            data[c.name] = pd.Series(values, dtype="boolean")
        else:
            data[c.name] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=table.column_names)


def _select(table: Table) -> str:
    return ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in table.columns)


def write_days(
    con: duckdb.DuckDBPyConnection, table: Table, frame: pd.DataFrame, start: date, end: date
) -> int:
    """Validate, then make the days [start, end) of ``table`` equal to ``frame`` (one transaction)."""
    validate(SCHEMAS[table], table, frame)  # a failure writes nothing
    con.register("_ue_frame", frame)
    try:
        return rebuild_days(con, table, start, end, f"SELECT {_select(table)} FROM _ue_frame")
    finally:
        with suppress(duckdb.Error):
            con.unregister("_ue_frame")


def write_months(
    con: duckdb.DuckDBPyConnection, table: Table, frame: pd.DataFrame, first: date, end: date
) -> int:
    """Validate, then make the months starting in [first, end) of ``table`` equal to ``frame``."""
    validate(SCHEMAS[table], table, frame)
    ensure(con, table)
    outside = frame[(frame["month_start"] < first.isoformat()) | (frame["month_start"] >= end.isoformat())]
    if len(outside):
        raise ValueError(
            f"{table.qualified}: the rebuild of months {first}..{end} produced rows of other months"
        )
    names = ", ".join(f'"{c}"' for c in table.column_names)
    con.register("_ue_frame", frame)
    try:
        with transaction(con):
            con.execute(
                f"DELETE FROM {table.qualified} WHERE month_start >= ? AND month_start < ?", [first, end]
            )
            con.execute(f"INSERT INTO {table.qualified} ({names}) SELECT {_select(table)} FROM _ue_frame")
        return len(frame)
    finally:
        with suppress(duckdb.Error):
            con.unregister("_ue_frame")

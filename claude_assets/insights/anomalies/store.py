"""The anomaly rows as a frame of the declared columns, and their atomic, idempotent write per day range."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from claude_assets.insights.anomalies.tables import COST_ANOMALIES
from claude_assets.warehouse.writes import rebuild_days

_INTEGERS = (
    "actual_tokens",
    "expected_tokens",
    "lower_tokens",
    "upper_tokens",
    "change_tokens",
    "same_weekdays",
)


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """The rows in the table's column order; money as exact strings, tokens as nullable integers."""
    frame = pd.DataFrame(rows, columns=COST_ANOMALIES.column_names)
    for name in _INTEGERS:
        frame[name] = frame[name].astype("Int64")
    for name in ("change_pct", "level", "top_driver_share"):
        frame[name] = frame[name].astype("float64")
    return frame.astype({c: object for c in COST_ANOMALIES.column_names if c.endswith("_usd")})


def write(con: duckdb.DuckDBPyConnection, start: date, end: date, frame: pd.DataFrame) -> int:
    """Make the days [start, end) of insights.cost_anomalies equal to ``frame``, in one transaction."""
    select = ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in COST_ANOMALIES.columns)
    con.register("_anomalies", frame)
    try:
        return rebuild_days(con, COST_ANOMALIES, start, end, f"SELECT {select} FROM _anomalies")
    finally:
        con.unregister("_anomalies")

"""Which (organization, day) pairs are settled: every raw pull the facts of that day read was logged
``settled`` in ``raw.ingest_log`` (complete, and outside its source's revision window by the API's clock
and export watermark). Insights are computed on settled days only, so a figure a source may still revise
never raises an alert or moves a baseline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import duckdb

from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.sql import table_exists
from claude_assets.warehouse.writes import INGEST_LOG


def settled_days(
    con: duckdb.DuckDBPyConnection, tables: Iterable[Table], start: date, end: date
) -> dict[str, set[date]]:
    """organization -> the days of [start, end) whose every logged pull of ``tables`` is settled (a day an
    organization has no pull of is absent: nothing is known of it)."""
    names = sorted({t.qualified for t in tables})
    if not names or not table_exists(con, INGEST_LOG.qualified):
        return {}
    rows = con.execute(
        f"SELECT org_id, usage_date FROM {INGEST_LOG.qualified} "
        f"WHERE usage_date >= ? AND usage_date < ? AND table_name IN ({', '.join('?' for _ in names)}) "
        "GROUP BY org_id, usage_date HAVING bool_and(status = 'settled')",
        [start, end, *names],
    ).fetchall()
    out: dict[str, set[date]] = {}
    for org, day in rows:
        out.setdefault(org, set()).add(day)
    return out


def unsettled_days(
    con: duckdb.DuckDBPyConnection, tables: Iterable[Table], start: date, end: date
) -> dict[str, list[tuple[date, str]]]:
    """organization -> (day, worst status) of the days of [start, end) logged but not settled, for
    metadata: which days an insight is still waiting for, and why."""
    names = sorted({t.qualified for t in tables})
    if not names or not table_exists(con, INGEST_LOG.qualified):
        return {}
    rows = con.execute(
        f"SELECT org_id, usage_date, CASE WHEN bool_or(status = 'provisional') THEN 'provisional' "
        f"ELSE 'revisable' END FROM {INGEST_LOG.qualified} "
        f"WHERE usage_date >= ? AND usage_date < ? AND table_name IN ({', '.join('?' for _ in names)}) "
        "GROUP BY org_id, usage_date HAVING NOT bool_and(status = 'settled') ORDER BY 1, 2",
        [start, end, *names],
    ).fetchall()
    out: dict[str, list[tuple[date, str]]] = {}
    for org, day, status in rows:
        out.setdefault(org, []).append((day, status))
    return out

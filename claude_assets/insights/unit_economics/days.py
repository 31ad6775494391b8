"""Which (organization, day) pairs the unit economics are computed on, and which wait.

A day of an organization is used once every table its kind reads (``sources.SETTLING``) has a settled pull
of it in ``raw.ingest_log``: a table not pulled yet, or pulled but still provisional or revisable, holds
the day back (it is named in the metadata, never computed on partial or revisable figures).
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from claude_assets.insights.settled import settled_days, unsettled_days
from claude_assets.insights.unit_economics.sources import SETTLING


def usable_days(
    con: duckdb.DuckDBPyConnection, kinds: dict[str, str], start: date, end: date
) -> dict[str, set[date]]:
    """organization -> the days of [start, end) every table of its kind has settled."""
    out: dict[str, set[date]] = {}
    for org, kind in kinds.items():
        per_table = [settled_days(con, [t], start, end).get(org, set()) for t in SETTLING[kind]]
        days = set.intersection(*per_table) if per_table else set()
        if days:
            out[org] = days
    return out


def waiting_days(
    con: duckdb.DuckDBPyConnection, kinds: dict[str, str], start: date, end: date, used: dict[str, set[date]]
) -> dict[str, list[str]]:
    """organization -> 'day (why)' for each day of [start, end) not used: still provisional or revisable
    at its source, or not pulled yet."""
    out: dict[str, list[str]] = {}
    all_days = [start + timedelta(days=i) for i in range((end - start).days)]
    for org, kind in kinds.items():
        statuses = dict(unsettled_days(con, SETTLING[kind], start, end).get(org, []))
        waiting = [
            f"{d} ({statuses.get(d, 'not pulled')})" for d in all_days if d not in used.get(org, set())
        ]
        if waiting:
            out[org] = waiting
    return out

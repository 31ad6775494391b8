"""``facts.cost_allocation``: every billed line of ``facts.cost`` split to the finest grain the data allows.

- Console: each cost line (day x workspace x description) over the API keys whose usage it bills, by
  priced token share (web search lines by web search requests); key-less usage is its own share; code
  execution has no usage counterpart and stays whole.
- Enterprise: each line (day x model x cost type x token type) over the seat users of the per-user report
  and an explicit ``unattributed`` remainder (non-seat traffic); users whose sum exceeds the billed
  total are scaled down to it (flagged, and a check warns).

Money is split in whole units of 1e-12 USD with integer arithmetic in DuckDB, so the rows of a parent add
up to it exactly. The SQL is in the ``sql/allocation*.sql`` files beside this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import cache

import duckdb

from claude_assets.facts.tables import ALLOCATED_TO_KINDS, COST_ALLOCATION, FACTS_COST
from claude_assets.ingest.console.tables import CONSOLE_USAGE
from claude_assets.ingest.enterprise_reports.tables import ENTERPRISE_USER_COST
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.sql import sql_file
from claude_assets.warehouse.writes import ensure, rebuild_days


@cache
def _sql(part: str) -> str:
    return sql_file(__file__, f"allocation_{part}" if part else "allocation")


def parents_sql() -> str:
    """The parent lines (billed lines of ``facts.cost``) of the days ``[$1, $2)``, with their ``parent_line`` key."""
    return _sql("parents")


def _largest_remainder(claims: str) -> str:
    return _sql("largest_remainder").format(claims=claims)


def allocation_sql() -> str:
    """The rows of ``facts.cost_allocation`` for the days ``[$1, $2)``."""
    return _sql("").format(
        parents=parents_sql(),
        console_claims=_sql("console_claims"),
        console_split=_largest_remainder("console_claims"),
        enterprise_claims=_sql("enterprise_claims"),
        enterprise_claimed=_largest_remainder("enterprise_claims"),
        enterprise_split=_sql("enterprise_cells"),
    )


#: the raw tables the split reads besides facts.cost (the usage and per-user amounts it splits by)
ALLOCATION_INPUTS: tuple[Table, ...] = (CONSOLE_USAGE, ENTERPRISE_USER_COST)


def rebuild_allocation(con: duckdb.DuckDBPyConnection, start: date, end: date) -> int:
    """Replace the days ``[start, end)`` of facts.cost_allocation atomically; returns the rows written."""
    for table in (
        FACTS_COST,
        *ALLOCATION_INPUTS,
    ):  # an organization kind not configured leaves its table unmade
        ensure(con, table)
    return rebuild_days(con, COST_ALLOCATION, start, end, allocation_sql(), [start, end])


def totals_by_kind(con: duckdb.DuckDBPyConnection, ranges: Sequence[tuple[date, date]]) -> dict[str, Decimal]:
    """Allocated USD of the day ranges by what it is allocated to (every kind, zero when absent)."""
    totals = dict.fromkeys(ALLOCATED_TO_KINDS, Decimal(0))
    for start, end in ranges:
        for kind, usd in con.execute(
            f"SELECT allocated_to_kind, sum(allocated_cost_usd) FROM {COST_ALLOCATION.qualified} "
            "WHERE usage_date >= ? AND usage_date < ? GROUP BY ALL",
            [start, end],
        ).fetchall():
            totals[kind] += usd
    return totals

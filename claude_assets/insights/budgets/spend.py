"""A budget scope's billed spend per organization and day, from the facts.

Selectors are OR-ed in one condition, so spend matching two selectors of a list counts once. A scope naming
an API key or a user reads ``facts.cost_allocation`` (each billed line split exactly to keys, users and
remainders; its rows add up to the line); every other scope the billed lines of ``facts.cost``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from claude_assets.facts.tables import COST_ALLOCATION, FACTS_COST
from claude_assets.insights.budgets.file import BudgetVersion, Selector
from claude_assets.warehouse.sql import table_exists

#: selector field -> column, per source table (the allocation has no product)
_COLUMNS = {
    FACTS_COST.qualified: {
        "organization": "org_id",
        "workspace": "workspace_id",
        "api_key": "api_key_id",
        "user": "user_id",
        "product": "product",
        "model": "model",
    },
    COST_ALLOCATION.qualified: {
        "organization": "org_id",
        "workspace": "workspace_id",
        "api_key": "api_key_id",
        "user": "user_id",
        "model": "model",
    },
}


def source_of(version: BudgetVersion) -> str:
    """The table a version's spend is summed from."""
    return COST_ALLOCATION.qualified if version.allocated else FACTS_COST.qualified


def _condition(selector: Selector, columns: dict[str, str]) -> tuple[str, list]:
    parts, params = [], []
    for name, value in selector.named().items():
        column = columns[name]
        if name == "model" and value.endswith("*"):
            parts.append(f"starts_with({column}, ?)")
            params.append(value[:-1])
        else:
            parts.append(f"{column} = ?")
            params.append(value)
    return "(" + " AND ".join(parts) + ")", params


def daily_spend(
    con: duckdb.DuckDBPyConnection, version: BudgetVersion, start: date, end: date
) -> dict[tuple[str, date], Decimal]:
    """(organization, day) -> billed spend of the version's scope, for the days of ``[start, end]``."""
    table = source_of(version)
    if not table_exists(con, table):
        return {}
    conditions = [_condition(s, _COLUMNS[table]) for s in version.scope]
    where = " OR ".join(c for c, _ in conditions)
    params = [p for _, ps in conditions for p in ps]
    amount, billed = (
        ("allocated_cost_usd", "TRUE")
        if table == COST_ALLOCATION.qualified
        else ("billed_cost_usd", "charge_kind = 'billed'")
    )
    rows = con.execute(
        f"SELECT org_id, usage_date, sum({amount}) FROM {table} "
        f"WHERE {billed} AND usage_date >= ? AND usage_date <= ? AND ({where}) GROUP BY ALL",
        [start, end, *params],
    ).fetchall()
    return {(org, day): Decimal(total) for org, day, total in rows}


def first_day(con: duckdb.DuckDBPyConnection, version: BudgetVersion) -> date | None:
    """The first day the version's source table holds (no forecast history before it)."""
    table = source_of(version)
    if not table_exists(con, table):
        return None
    return con.execute(f"SELECT min(usage_date) FROM {table}").fetchone()[0]

"""Asset checks of the unit economics over the periods a run rebuilt: one row per grain, billed money equal
to facts.cost, Claude Code work read from one source per organization (never both), Enterprise products
adding up to the organization's bill, and months equal to the sum of their days."""

from __future__ import annotations

from datetime import date

import dagster as dg
import duckdb

from claude_assets.facts.tables import FACTS_COST
from claude_assets.insights.unit_economics.sources import CLAUDE_CODE_ACTIVITY
from claude_assets.insights.unit_economics.tables import UNIT_ECONOMICS_DAILY, UNIT_ECONOMICS_MONTHLY
from claude_assets.warehouse.writes import duplicate_grain_count

GRAIN, BILLED, ONE_SOURCE, PRODUCTS, MONTHS = (
    "grain_unique",
    "billed_equals_facts_cost",
    "claude_code_one_source",
    "products_add_up",
    "months_equal_their_days",
)


def daily_specs() -> list[dg.AssetCheckSpec]:
    key = UNIT_ECONOMICS_DAILY.asset_key
    return [
        dg.AssetCheckSpec(
            GRAIN, asset=key, blocking=True, description="One row per organization, day and product."
        ),
        dg.AssetCheckSpec(
            BILLED,
            asset=key,
            blocking=True,
            description="The cost of each 'all' row equals the billed money of facts.cost for its "
            "organization and day, exactly.",
        ),
        dg.AssetCheckSpec(
            ONE_SOURCE,
            asset=key,
            blocking=True,
            description="Claude Code work is read from one source per organization: raw.claude_code_usage for "
            "Console organizations, raw.enterprise_user_activity for Enterprise ones. Fails when a row names "
            "the other kind's table, or when an organization has Claude Code work in both tables (it would "
            "be counted twice).",
        ),
        dg.AssetCheckSpec(
            PRODUCTS,
            asset=key,
            blocking=False,
            description="The Enterprise product rows of a day add up to its 'all' row (the cost report's "
            "product split and its billed total agree).",
        ),
    ]


def monthly_specs() -> list[dg.AssetCheckSpec]:
    key = UNIT_ECONOMICS_MONTHLY.asset_key
    return [
        dg.AssetCheckSpec(
            GRAIN, asset=key, blocking=True, description="One row per organization, month and product."
        ),
        dg.AssetCheckSpec(
            MONTHS,
            asset=key,
            blocking=True,
            description="Each month's cost and Claude Code work equal the sum of its daily rows, and its "
            "settled_days the number of daily 'all' rows.",
        ),
    ]


def _ranges_where(column: str, ranges: list[tuple[date, date]]) -> tuple[str, list]:
    where = " OR ".join(f"({column} >= ? AND {column} < ?)" for _ in ranges) or "false"
    return f"({where})", [d for r in ranges for d in r]


def billed_mismatches(con: duckdb.DuckDBPyConnection, ranges: list[tuple[date, date]]) -> list[tuple]:
    """(org, day, insights cost, facts.cost billed) where the 'all' row differs from facts.cost."""
    where, params = _ranges_where("u.usage_date", ranges)
    return con.execute(
        f"""SELECT u.org_id, u.usage_date, u.cost_usd, coalesce(f.billed, 0)
            FROM {UNIT_ECONOMICS_DAILY.qualified} u
            LEFT JOIN (SELECT org_id, usage_date, sum(billed_cost_usd) AS billed FROM {FACTS_COST.qualified}
                       WHERE charge_kind = 'billed' GROUP BY ALL) f USING (org_id, usage_date)
            WHERE u.product = 'all' AND {where} AND u.cost_usd <> coalesce(f.billed, 0)
            ORDER BY 1, 2""",
        params,
    ).fetchall()


def double_sources(con: duckdb.DuckDBPyConnection, ranges: list[tuple[date, date]]) -> dict[str, str]:
    """organization -> what breaks the one-source rule in the days of ``ranges``."""
    where, params = _ranges_where("usage_date", ranges)
    out: dict[str, str] = {}
    for kind in CLAUDE_CODE_ACTIVITY:
        other = next(t for k, t in CLAUDE_CODE_ACTIVITY.items() if k != kind)
        for (org,) in con.execute(
            f"SELECT DISTINCT org_id FROM {UNIT_ECONOMICS_DAILY.qualified} WHERE org_kind = ? AND {where} "
            "AND activity_source LIKE ?",
            [kind, *params, f"%{other.qualified}%"],
        ).fetchall():
            out[org] = f"a {kind} organization's row names {other.qualified}"
    console = CLAUDE_CODE_ACTIVITY["console"].qualified
    enterprise = CLAUDE_CODE_ACTIVITY["enterprise"].qualified
    for (org,) in con.execute(
        f"""SELECT org_id FROM (SELECT DISTINCT org_id FROM {console} WHERE {where})
            JOIN (SELECT DISTINCT org_id FROM {enterprise} WHERE {where}
                  AND coalesce(claude_code_distinct_session_count, 0) > 0) USING (org_id)""",
        [*params, *params],
    ).fetchall():
        out[org] = f"Claude Code work in both {console} and {enterprise}"
    return out


def product_gaps(con: duckdb.DuckDBPyConnection, ranges: list[tuple[date, date]]) -> list[tuple]:
    """(org, day, all, sum of products) where an Enterprise day's products do not add up to its bill."""
    where, params = _ranges_where("usage_date", ranges)
    return con.execute(
        f"""SELECT org_id, usage_date, sum(cost_usd) FILTER (WHERE product = 'all') AS total,
                   coalesce(sum(cost_usd) FILTER (WHERE product <> 'all'), 0) AS products
            FROM {UNIT_ECONOMICS_DAILY.qualified} WHERE org_kind = 'enterprise' AND {where}
            GROUP BY ALL HAVING total <> products ORDER BY 1, 2""",
        params,
    ).fetchall()


def month_gaps(con: duckdb.DuckDBPyConnection, first: date, end: date) -> list[tuple]:
    """(org, month, product) whose monthly row differs from the sum of its daily rows."""
    return con.execute(
        f"""WITH days AS (
                SELECT org_id, CAST(date_trunc('month', usage_date) AS DATE) AS month_start, product,
                    sum(cost_usd) AS cost_usd, sum(claude_code_sessions) AS sessions,
                    sum(claude_code_commits) AS commits, count(*) AS n
                FROM {UNIT_ECONOMICS_DAILY.qualified} WHERE usage_date >= ? AND usage_date < ? GROUP BY ALL)
            SELECT m.org_id, m.month_start, m.product
            FROM {UNIT_ECONOMICS_MONTHLY.qualified} m
            FULL JOIN days d USING (org_id, month_start, product)
            WHERE coalesce(m.month_start, d.month_start) >= ? AND coalesce(m.month_start, d.month_start) < ?
              AND (m.cost_usd IS DISTINCT FROM d.cost_usd
                   OR m.claude_code_sessions IS DISTINCT FROM d.sessions
                   OR m.claude_code_commits IS DISTINCT FROM d.commits
                   OR (m.product = 'all' AND m.settled_days <> d.n))
            ORDER BY 1, 2, 3""",
        [first, end, first, end],
    ).fetchall()


def daily_results(
    con: duckdb.DuckDBPyConnection, ranges: list[tuple[date, date]]
) -> list[dg.AssetCheckResult]:
    key = UNIT_ECONOMICS_DAILY.asset_key
    where, params = _ranges_where("usage_date", ranges)
    duplicates = duplicate_grain_count(con, UNIT_ECONOMICS_DAILY, where, params)
    billed = billed_mismatches(con, ranges)
    doubled = double_sources(con, ranges)
    gaps = product_gaps(con, ranges)
    return [
        dg.AssetCheckResult(
            asset_key=key, check_name=GRAIN, passed=not duplicates, metadata={"duplicate_rows": duplicates}
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=BILLED,
            passed=not billed,
            metadata={"mismatches": len(billed), "first": str(billed[:5])},
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=ONE_SOURCE,
            passed=not doubled,
            metadata={"organizations": dg.MetadataValue.json(doubled)},
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=PRODUCTS,
            passed=not gaps,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"days": len(gaps), "first": str(gaps[:5])},
        ),
    ]


def monthly_results(con: duckdb.DuckDBPyConnection, first: date, end: date) -> list[dg.AssetCheckResult]:
    key = UNIT_ECONOMICS_MONTHLY.asset_key
    duplicates = duplicate_grain_count(
        con, UNIT_ECONOMICS_MONTHLY, "month_start >= ? AND month_start < ?", [first, end]
    )
    gaps = month_gaps(con, first, end)
    return [
        dg.AssetCheckResult(
            asset_key=key, check_name=GRAIN, passed=not duplicates, metadata={"duplicate_rows": duplicates}
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=MONTHS,
            passed=not gaps,
            metadata={"rows": len(gaps), "first": str(gaps[:5])},
        ),
    ]

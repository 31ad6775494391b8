"""insights.unit_economics_daily: the figures of each settled (organization, day) and product, computed in
one statement over the staged days, then their exact ratios (``ratios``), validated and written."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from claude_assets.facts.tables import FACTS_COST
from claude_assets.ingest.enterprise_engagement.tables import ENTERPRISE_SUMMARY
from claude_assets.insights.unit_economics import sources
from claude_assets.insights.unit_economics.frames import frame_of, write_days
from claude_assets.insights.unit_economics.ratios import with_ratios
from claude_assets.insights.unit_economics.tables import (
    DAILY_RATIOS,
    LOW_USE_MAX_ACTIVE_DAYS,
    MONTH_DAYS,
    UNIT_ECONOMICS_DAILY,
    WEEK_DAYS,
)
from claude_assets.warehouse.writes import ensure

_SUFFIX = "_daily_active_user_count"
#: the products the engagement summary counts active users of (its <product>_daily_active_user_count columns)
#: (but chat_cowork_unified, which counts the users of chat and cowork together: not a product of its own)
SUMMARY_PRODUCTS = tuple(
    c.removesuffix(_SUFFIX)
    for c in ENTERPRISE_SUMMARY.column_names
    if c.endswith(_SUFFIX) and c != _SUFFIX[1:] and not c.startswith("chat_cowork_unified")
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _product_users_sql() -> str:
    return "\n        UNION ALL\n        ".join(
        f"SELECT org_id, usage_date, '{p}' AS product, {p}_daily_active_user_count AS dau, "
        f"{p}_weekly_active_user_count AS wau, {p}_monthly_active_user_count AS mau, NULL::BIGINT AS seats, "
        f"{_quote(sources.product_users(p))} AS users_source FROM summary "
        f"WHERE coalesce({p}_daily_active_user_count, {p}_weekly_active_user_count, "
        f"{p}_monthly_active_user_count) IS NOT NULL"
        for p in SUMMARY_PRODUCTS
    )


def _accepted(columns: tuple[str, ...]) -> str:
    """The sum of accepted edit actions over the tools, null only when every tool is null."""
    counted = " + ".join(f"count({c})" for c in columns)
    summed = " + ".join(f"coalesce(sum({c}), 0)" for c in columns)
    return f"CASE WHEN {counted} > 0 THEN {summed} END"


_TOOLS = ("edit", "multi_edit", "write", "notebook_edit")

FIGURES_SQL = f"""
WITH settled AS (SELECT org_id, org_kind, usage_date FROM _ue_settled),
cost AS (
    SELECT s.org_id, s.usage_date, 'all' AS product, 'billed' AS cost_basis, {_quote(sources.BILLED)} AS cost_source,
        coalesce(sum(c.billed_cost_usd), 0) AS cost_usd
    FROM settled s
    LEFT JOIN {FACTS_COST.qualified} c
        ON c.org_id = s.org_id AND c.usage_date = s.usage_date AND c.charge_kind = 'billed'
    GROUP BY ALL
    UNION ALL
    SELECT s.org_id, s.usage_date, replace(coalesce(e.product, 'unspecified'), '-', '_'), 'billed',
        {_quote(sources.ENTERPRISE_PRODUCT_COST)}, sum(e.amount_usd)
    FROM settled s
    JOIN raw.enterprise_cost e
        ON e.org_id = s.org_id AND e.usage_date = s.usage_date AND e.grouping = 'product_model'
    WHERE s.org_kind = 'enterprise'
    GROUP BY ALL
    UNION ALL
    SELECT s.org_id, s.usage_date, 'claude_code', 'estimate', {_quote(sources.CONSOLE_CLAUDE_CODE_COST)},
        sum(c.estimated_cost_usd)
    FROM settled s
    JOIN {FACTS_COST.qualified} c
        ON c.org_id = s.org_id AND c.usage_date = s.usage_date AND c.charge_kind = 'estimate'
        AND c.source = 'raw.claude_code_model_usage'
    WHERE s.org_kind = 'console'
    GROUP BY ALL
),
window_days AS (
    SELECT d.org_id, d.usage_date,
        count(*) FILTER (WHERE s.usage_date > d.usage_date - {WEEK_DAYS}) AS days_7,
        count(*) AS days_30
    FROM _ue_days d
    JOIN settled s ON s.org_id = d.org_id AND s.usage_date > d.usage_date - {MONTH_DAYS} AND s.usage_date <= d.usage_date
    GROUP BY ALL
),
trailing_cost AS (
    SELECT d.org_id, d.usage_date, c.product,
        sum(c.cost_usd) FILTER (WHERE c.usage_date > d.usage_date - {WEEK_DAYS}) AS cost_7d,
        sum(c.cost_usd) AS cost_30d
    FROM _ue_days d
    JOIN cost c ON c.org_id = d.org_id AND c.usage_date > d.usage_date - {MONTH_DAYS} AND c.usage_date <= d.usage_date
    GROUP BY ALL
),
summary AS (
    SELECT e.* FROM raw.enterprise_summary e JOIN _ue_days d USING (org_id, usage_date) WHERE d.org_kind = 'enterprise'
),
users AS (
    SELECT org_id, usage_date, 'all' AS product, daily_active_user_count AS dau, weekly_active_user_count AS wau,
        monthly_active_user_count AS mau, assigned_seat_count AS seats, {_quote(sources.ENTERPRISE_USERS)} AS users_source
    FROM summary
    UNION ALL
    {_product_users_sql()}
),
code AS (
    SELECT u.org_id, u.usage_date, 'claude_code' AS product, NULL::BIGINT AS actors,
        sum(claude_code_distinct_session_count) AS sessions, sum(claude_code_commit_count) AS commits,
        sum(claude_code_pull_request_count) AS pull_requests,
        {_accepted(tuple(f"claude_code_{t}_tool_accepted_count" for t in _TOOLS))} AS accepted_edits,
        {_quote(sources.ENTERPRISE_CODE_WORK)} AS code_source
    FROM raw.enterprise_user_activity u JOIN _ue_days d USING (org_id, usage_date)
    WHERE d.org_kind = 'enterprise'
    GROUP BY ALL
    UNION ALL
    SELECT u.org_id, u.usage_date, 'claude_code', count(DISTINCT actor_id), sum(num_sessions), sum(commits),
        sum(pull_requests), {_accepted(tuple(f"{t}_accepted" for t in _TOOLS))},
        {_quote(sources.CONSOLE_CODE_WORK)}
    FROM raw.claude_code_usage u JOIN _ue_days d USING (org_id, usage_date)
    WHERE d.org_kind = 'console'
    GROUP BY ALL
),
user_days AS (
    SELECT DISTINCT u.org_id, u.usage_date, u.user_id
    FROM raw.enterprise_user_activity u JOIN settled s USING (org_id, usage_date)
),
per_user AS (
    SELECT d.org_id, d.usage_date, ud.user_id, count(*) AS active_days
    FROM _ue_days d
    JOIN user_days ud ON ud.org_id = d.org_id AND ud.usage_date > d.usage_date - {MONTH_DAYS} AND ud.usage_date <= d.usage_date
    GROUP BY ALL
),
low AS (
    SELECT org_id, usage_date, count(*) FILTER (WHERE active_days <= {LOW_USE_MAX_ACTIVE_DAYS}) AS low_use
    FROM per_user GROUP BY ALL
),
keyed AS (
    SELECT d.org_id, d.org_kind, d.usage_date, k.product
    FROM _ue_days d
    JOIN (
        SELECT org_id, usage_date, product FROM cost
        UNION SELECT org_id, usage_date, product FROM users
        UNION SELECT org_id, usage_date, product FROM code
    ) k ON k.org_id = d.org_id AND k.usage_date = d.usage_date
)
SELECT
    k.org_id, k.usage_date, k.org_kind, k.product,
    coalesce(c.cost_usd, 0) AS cost_usd,
    coalesce(c.cost_basis, CASE WHEN k.org_kind = 'console' AND k.product = 'claude_code' THEN 'estimate' ELSE 'billed' END) AS cost_basis,
    coalesce(c.cost_source, CASE
        WHEN k.product = 'all' THEN {_quote(sources.BILLED)}
        WHEN k.org_kind = 'console' THEN {_quote(sources.CONSOLE_CLAUDE_CODE_COST)}
        ELSE {_quote(sources.ENTERPRISE_PRODUCT_COST)} END) AS cost_source,
    CASE WHEN w.days_7 = {WEEK_DAYS} THEN coalesce(t.cost_7d, 0) END AS cost_7d_usd,
    CASE WHEN w.days_30 = {MONTH_DAYS} THEN coalesce(t.cost_30d, 0) END AS cost_30d_usd,
    coalesce(u.dau, cd.actors) AS daily_active_users,
    u.wau AS weekly_active_users,
    u.mau AS monthly_active_users,
    u.seats,
    CASE WHEN u.seats IS NOT NULL AND u.mau IS NOT NULL THEN greatest(u.seats - u.mau, 0) END AS idle_seats,
    CASE WHEN k.product = 'all' AND k.org_kind = 'enterprise' AND w.days_30 = {MONTH_DAYS}
        THEN coalesce(l.low_use, 0) END AS low_use_seats,
    CASE WHEN k.product = 'claude_code' THEN coalesce(cd.sessions, 0) END AS claude_code_sessions,
    CASE WHEN k.product = 'claude_code' THEN coalesce(cd.commits, 0) END AS claude_code_commits,
    CASE WHEN k.product = 'claude_code' THEN coalesce(cd.pull_requests, 0) END AS claude_code_pull_requests,
    CASE WHEN k.product = 'claude_code' THEN coalesce(cd.accepted_edits, 0) END AS claude_code_accepted_edits,
    nullif(concat_ws('; ', u.users_source, CASE WHEN k.product = 'claude_code' THEN
        CASE k.org_kind WHEN 'console' THEN {_quote(sources.CONSOLE_CODE_WORK)}
        ELSE {_quote(sources.ENTERPRISE_CODE_WORK)} END END), '') AS activity_source
FROM keyed k
LEFT JOIN cost c ON c.org_id = k.org_id AND c.usage_date = k.usage_date AND c.product = k.product
LEFT JOIN trailing_cost t ON t.org_id = k.org_id AND t.usage_date = k.usage_date AND t.product = k.product
LEFT JOIN window_days w ON w.org_id = k.org_id AND w.usage_date = k.usage_date
LEFT JOIN users u ON u.org_id = k.org_id AND u.usage_date = k.usage_date AND u.product = k.product
LEFT JOIN code cd ON cd.org_id = k.org_id AND cd.usage_date = k.usage_date AND cd.product = k.product
LEFT JOIN low l ON l.org_id = k.org_id AND l.usage_date = k.usage_date AND k.product = 'all'
ORDER BY k.org_id, k.usage_date, k.product
"""


def stage_days(
    con: duckdb.DuckDBPyConnection,
    kinds: dict[str, str],
    targets: dict[str, set[date]],
    lookback: dict[str, set[date]],
) -> None:
    """Temp tables ``_ue_days`` (the days to compute) and ``_ue_settled`` (every usable day they look back on)."""
    for name, days in (("_ue_days", targets), ("_ue_settled", lookback)):
        rows = [(org, kinds[org], d) for org, ds in days.items() for d in sorted(ds)]
        frame = pd.DataFrame(rows, columns=["org_id", "org_kind", "usage_date"])
        con.register("_ue_stage", frame)
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT org_id::VARCHAR AS org_id, "
                "org_kind::VARCHAR AS org_kind, CAST(usage_date AS DATE) AS usage_date FROM _ue_stage"
            )
        finally:
            con.unregister("_ue_stage")


def daily_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The rows of the staged days, ratios included (exact Decimals)."""
    for table in (FACTS_COST, *sources.RAW_INPUTS):
        ensure(con, table)
    cursor = con.execute(FIGURES_SQL)
    names = [d[0] for d in cursor.description]
    return with_ratios([dict(zip(names, r, strict=True)) for r in cursor.fetchall()], DAILY_RATIOS)


def lookback_start(start: date) -> date:
    """The first day the trailing windows of ``start`` reach back to."""
    return start - timedelta(days=MONTH_DAYS - 1)


def rebuild_daily(
    con: duckdb.DuckDBPyConnection,
    kinds: dict[str, str],
    start: date,
    end: date,
    usable: dict[str, set[date]],
) -> int:
    """Replace the days [start, end) of insights.unit_economics_daily with the rows of the usable days
    (``usable`` covers the lookback from ``lookback_start(start)``); returns the rows written."""
    targets = {org: {d for d in ds if start <= d < end} for org, ds in usable.items()}
    stage_days(con, kinds, targets, usable)
    try:
        rows = daily_rows(con)
    finally:
        con.execute("DROP TABLE IF EXISTS _ue_days")
        con.execute("DROP TABLE IF EXISTS _ue_settled")
    return write_days(con, UNIT_ECONOMICS_DAILY, frame_of(UNIT_ECONOMICS_DAILY, rows), start, end)

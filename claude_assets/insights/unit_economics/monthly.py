"""insights.unit_economics_monthly: the daily rows of each calendar month summed (cost, Claude Code work),
users and seats as of the month's last settled day, low-use seats counted over the month's settled days."""

from __future__ import annotations

from datetime import date

import duckdb

from claude_assets.ingest.enterprise_engagement.tables import ENTERPRISE_USER_ACTIVITY
from claude_assets.insights.unit_economics.frames import frame_of, write_months
from claude_assets.insights.unit_economics.ratios import with_ratios
from claude_assets.insights.unit_economics.tables import (
    LOW_USE_MAX_ACTIVE_DAYS,
    MONTHLY_RATIOS,
    UNIT_ECONOMICS_DAILY,
    UNIT_ECONOMICS_MONTHLY,
)
from claude_assets.warehouse.writes import ensure

_COUNTS = (
    "claude_code_sessions",
    "claude_code_commits",
    "claude_code_pull_requests",
    "claude_code_accepted_edits",
)
_AS_OF = ("daily_active_users", "weekly_active_users", "monthly_active_users", "seats", "idle_seats")

MONTHLY_SQL = f"""
WITH d AS (
    SELECT *, CAST(date_trunc('month', usage_date) AS DATE) AS month_start
    FROM {UNIT_ECONOMICS_DAILY.qualified} WHERE usage_date >= $1 AND usage_date < $2
),
org_days AS (
    SELECT org_id, month_start, count(*) AS settled_days, max(usage_date) AS as_of,
        date_diff('day', month_start, CAST(month_start + INTERVAL 1 MONTH AS DATE)) AS days_in_month
    FROM d WHERE product = 'all' GROUP BY ALL
),
sums AS (
    SELECT org_id, month_start, product, any_value(org_kind) AS org_kind, sum(cost_usd) AS cost_usd,
        any_value(cost_basis) AS cost_basis, any_value(cost_source) AS cost_source,
        {", ".join(f"sum({c}) AS {c}" for c in _COUNTS)}, max(activity_source) AS activity_source
    FROM d GROUP BY ALL
),
as_of_day AS (
    SELECT d.org_id, d.month_start, d.product, {", ".join(f"d.{c}" for c in _AS_OF)}
    FROM d JOIN org_days o ON o.org_id = d.org_id AND o.month_start = d.month_start AND d.usage_date = o.as_of
),
user_days AS (
    SELECT DISTINCT u.org_id, x.month_start, u.usage_date, u.user_id
    FROM {ENTERPRISE_USER_ACTIVITY.qualified} u
    JOIN (SELECT DISTINCT org_id, usage_date, month_start FROM d WHERE product = 'all' AND org_kind = 'enterprise') x
        USING (org_id, usage_date)
),
low AS (
    SELECT org_id, month_start, count(*) FILTER (WHERE active_days <= {LOW_USE_MAX_ACTIVE_DAYS}) AS low_use
    FROM (SELECT org_id, month_start, user_id, count(*) AS active_days FROM user_days GROUP BY ALL)
    GROUP BY ALL
)
SELECT
    s.org_id, s.month_start, s.org_kind, s.product, o.settled_days, o.days_in_month,
    o.settled_days = o.days_in_month AS complete, o.as_of,
    s.cost_usd, s.cost_basis, s.cost_source,
    {", ".join(f"l.{c}" for c in _AS_OF)},
    CASE WHEN s.product = 'all' AND s.org_kind = 'enterprise' AND o.settled_days = o.days_in_month
        THEN coalesce(lw.low_use, 0) END AS low_use_seats,
    {", ".join(f"s.{c}" for c in _COUNTS)},
    s.activity_source
FROM sums s
JOIN org_days o ON o.org_id = s.org_id AND o.month_start = s.month_start
LEFT JOIN as_of_day l ON l.org_id = s.org_id AND l.month_start = s.month_start AND l.product = s.product
LEFT JOIN low lw ON lw.org_id = s.org_id AND lw.month_start = s.month_start
ORDER BY s.org_id, s.month_start, s.product
"""


def monthly_rows(con: duckdb.DuckDBPyConnection, first: date, end: date) -> list[dict]:
    """The rows of the months starting in [first, end) (both first days of a month), ratios included."""
    ensure(con, UNIT_ECONOMICS_DAILY)
    ensure(con, ENTERPRISE_USER_ACTIVITY)
    cursor = con.execute(MONTHLY_SQL, [first, end])
    names = [c[0] for c in cursor.description]
    return with_ratios([dict(zip(names, r, strict=True)) for r in cursor.fetchall()], MONTHLY_RATIOS)


def rebuild_monthly(con: duckdb.DuckDBPyConnection, first: date, end: date) -> int:
    """Replace the months starting in [first, end) of insights.unit_economics_monthly; returns the rows."""
    frame = frame_of(UNIT_ECONOMICS_MONTHLY, monthly_rows(con, first, end))
    return write_months(con, UNIT_ECONOMICS_MONTHLY, frame, first, end)

"""The unit economics tables (schema ``insights``), declared once, and the rules their figures follow.

Rows per organization, period and ``product``: ``all`` (the organization's billed total), one row per
Enterprise product of the cost report, and ``claude_code`` for Console organizations. A product row is a
breakdown of ``all``: never add product rows to the ``all`` row.

No double counting of Claude Code: an organization is one kind (its configured ``kind``), and its Claude
Code figures come from one source only: ``raw.claude_code_usage`` (Console Claude Code analytics) for a
Console organization, the ``claude_code_*`` columns of ``raw.enterprise_user_activity`` for an Enterprise
one. Every row names the tables and fields of its figures in ``cost_source`` and ``activity_source``.
"""

from claude_assets.warehouse.contract import MONEY, ORG_ID, Table, col

#: a seat is low-use when its user was active on at least 1 and at most this many days of the 30 days
#: ending on the row's day (daily table) or of the month (monthly table); 0 active days is idle
LOW_USE_MAX_ACTIVE_DAYS = 3
#: the trailing windows behind weekly and monthly active users (the engagement API's own definitions)
WEEK_DAYS, MONTH_DAYS = 7, 30
#: ratios are exact decimals rounded half-even to this many places (the scale of MONEY)
RATIO_PLACES = 12

_PRODUCT = col(
    "product",
    "VARCHAR",
    "all (the organization's billed total), an Enterprise product of the cost report (chat, claude_code, "
    "cowork, claude_tag, …; unspecified when the report names none), or claude_code (Console)",
    False,
)
_KIND = col("org_kind", "VARCHAR", "console or enterprise (the organization's configured kind)", False)
_COST = (
    col(
        "cost_usd",
        MONEY,
        "the cost of the product in the period: billed (after discount) unless cost_basis says estimate",
        False,
    ),
    col(
        "cost_basis",
        "VARCHAR",
        "billed (facts.cost billed lines, or the Enterprise cost report's product split of the same money), "
        "or estimate (Console Claude Code: Claude Code's own estimated cost, which the Console bill already "
        "holds inside the all row and cannot split out)",
        False,
    ),
    col("cost_source", "VARCHAR", "the table(s) and field(s) cost_usd comes from", False),
)
_USERS = (
    col(
        "daily_active_users",
        "BIGINT",
        "users active on the day (Enterprise summary; Console: Claude Code actors)",
    ),
    col("weekly_active_users", "BIGINT", "users active in the 7 days ending on the day (Enterprise summary)"),
    col(
        "monthly_active_users", "BIGINT", "users active in the 30 days ending on the day (Enterprise summary)"
    ),
    col("seats", "BIGINT", "seats assigned at the end of the day (Enterprise summary; all row only)"),
    col("idle_seats", "BIGINT", "seats minus monthly active users (floored at 0): seats unused for 30 days"),
    col(
        "low_use_seats",
        "BIGINT",
        f"users active on 1 to {LOW_USE_MAX_ACTIVE_DAYS} days of the window (30 days ending on the day; the "
        "month); null unless every day of the window is settled",
    ),
)
_CODE = (
    col("claude_code_sessions", "BIGINT", "Claude Code sessions (claude_code rows)"),
    col("claude_code_commits", "BIGINT", "commits made with Claude Code"),
    col("claude_code_pull_requests", "BIGINT", "pull requests made with Claude Code"),
    col("claude_code_accepted_edits", "BIGINT", "accepted edit, multi-edit, write and notebook-edit actions"),
)
_CODE_RATIOS = (
    col("cost_per_session_usd", MONEY, "cost_usd / claude_code_sessions; null when there is none"),
    col("cost_per_commit_usd", MONEY, "cost_usd / claude_code_commits; null when there is none"),
    col("cost_per_pull_request_usd", MONEY, "cost_usd / claude_code_pull_requests; null when there is none"),
    col(
        "cost_per_accepted_edit_usd", MONEY, "cost_usd / claude_code_accepted_edits; null when there is none"
    ),
)
_ACTIVITY_SOURCE = col(
    "activity_source",
    "VARCHAR",
    "the table(s) and field(s) the user, seat and Claude Code figures come from; null when the row has none",
)

UNIT_ECONOMICS_DAILY = Table(
    "insights",
    "unit_economics_daily",
    description=(
        "What an active user, a seat and Claude Code work cost, per organization, settled UTC day and product. "
        "Cost is billed money from facts.cost (Enterprise products: the product split of the cost report, "
        "raw.enterprise_cost grouping product_model, which adds up to the same billed money); Console Claude "
        "Code cost is Claude Code's estimate (cost_basis). Active users and seats come from the Enterprise "
        "engagement summary, Claude Code work from one source per organization kind (activity_source). "
        "Ratios are exact decimals; a ratio whose denominator is zero or unknown is null. Only settled "
        "(organization, day) pairs are written; days still revisable wait (materialization metadata)."
    ),
    columns=(
        ORG_ID,
        col("usage_date", "DATE", "the settled UTC day", False),
        _KIND,
        _PRODUCT,
        *_COST,
        col("cost_7d_usd", MONEY, "cost of the 7 days ending on the day; null unless all 7 are settled"),
        col("cost_30d_usd", MONEY, "cost of the 30 days ending on the day; null unless all 30 are settled"),
        *_USERS,
        col("cost_per_daily_active_user_usd", MONEY, "cost_usd / daily_active_users"),
        col("cost_per_weekly_active_user_usd", MONEY, "cost_7d_usd / weekly_active_users"),
        col("cost_per_monthly_active_user_usd", MONEY, "cost_30d_usd / monthly_active_users"),
        col("cost_per_seat_usd", MONEY, "cost_usd / seats (the day's cost per assigned seat)"),
        *_CODE,
        *_CODE_RATIOS,
        _ACTIVITY_SOURCE,
    ),
    grain=("org_id", "usage_date", "product"),
    money=("cost_usd",),
    totals_where="product = 'all'",
)

UNIT_ECONOMICS_MONTHLY = Table(
    "insights",
    "unit_economics_monthly",
    description=(
        "The daily unit economics summed per calendar month (UTC), per organization and product: cost and "
        "Claude Code work over the month's settled days, users and seats as of its last settled day, low-use "
        "seats over the month. complete is true once every day of the month is settled; until then the row "
        "covers settled_days of days_in_month and its ratios are provisional."
    ),
    columns=(
        ORG_ID,
        col("month_start", "DATE", "the first day of the month", False),
        _KIND,
        _PRODUCT,
        col("settled_days", "INTEGER", "the days of the month the row sums (settled)", False),
        col("days_in_month", "INTEGER", "the days of the month", False),
        col("complete", "BOOLEAN", "every day of the month is settled and summed", False),
        col("as_of", "DATE", "the last settled day of the month: users and seats are as of this day", False),
        *_COST,
        *_USERS,
        col("cost_per_monthly_active_user_usd", MONEY, "cost_usd / monthly_active_users"),
        col("cost_per_seat_usd", MONEY, "cost_usd / seats (the month's cost per assigned seat)"),
        *_CODE,
        *_CODE_RATIOS,
        _ACTIVITY_SOURCE,
    ),
    grain=("org_id", "month_start", "product"),
    money=("cost_usd",),
    totals_where="product = 'all'",
)

#: ratio column -> (numerator, denominator), per table
DAILY_RATIOS = {
    "cost_per_daily_active_user_usd": ("cost_usd", "daily_active_users"),
    "cost_per_weekly_active_user_usd": ("cost_7d_usd", "weekly_active_users"),
    "cost_per_monthly_active_user_usd": ("cost_30d_usd", "monthly_active_users"),
    "cost_per_seat_usd": ("cost_usd", "seats"),
    "cost_per_session_usd": ("cost_usd", "claude_code_sessions"),
    "cost_per_commit_usd": ("cost_usd", "claude_code_commits"),
    "cost_per_pull_request_usd": ("cost_usd", "claude_code_pull_requests"),
    "cost_per_accepted_edit_usd": ("cost_usd", "claude_code_accepted_edits"),
}
MONTHLY_RATIOS = {
    "cost_per_monthly_active_user_usd": ("cost_usd", "monthly_active_users"),
    **{
        k: v
        for k, v in DAILY_RATIOS.items()
        if k
        not in {
            "cost_per_daily_active_user_usd",
            "cost_per_weekly_active_user_usd",
            "cost_per_monthly_active_user_usd",
        }
    },
}

"""Where each figure comes from, per organization kind: the tables it reads, the days that must be settled
before a row is written, and the lineage strings the rows carry (``cost_source``, ``activity_source``).

The Claude Code rule (no double counting): a Console organization's Claude Code work is read from
``raw.claude_code_usage`` only, an Enterprise organization's from ``raw.enterprise_user_activity`` only.
"""

from claude_assets.facts.tables import FACTS_COST
from claude_assets.ingest.console.tables import CLAUDE_CODE_MODELS, CLAUDE_CODE_USAGE, CONSOLE_COST
from claude_assets.ingest.enterprise_engagement.tables import ENTERPRISE_SUMMARY, ENTERPRISE_USER_ACTIVITY
from claude_assets.ingest.enterprise_reports.tables import ENTERPRISE_COST
from claude_assets.warehouse.contract import Table

#: per organization kind, the raw tables whose every pull of a day must be settled before the day is used
SETTLING: dict[str, tuple[Table, ...]] = {
    "console": (CONSOLE_COST, CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS),
    "enterprise": (ENTERPRISE_COST, ENTERPRISE_SUMMARY, ENTERPRISE_USER_ACTIVITY),
}
#: the raw tables the daily asset reads (besides facts.cost)
RAW_INPUTS: tuple[Table, ...] = (*SETTLING["console"], *SETTLING["enterprise"])
#: the one table each kind's Claude Code work is read from
CLAUDE_CODE_ACTIVITY = {"console": CLAUDE_CODE_USAGE, "enterprise": ENTERPRISE_USER_ACTIVITY}

BILLED = f"{FACTS_COST.qualified}.billed_cost_usd (charge_kind = 'billed')"
ENTERPRISE_PRODUCT_COST = f"{ENTERPRISE_COST.qualified}.amount_usd (grouping = 'product_model')"
CONSOLE_CLAUDE_CODE_COST = (
    f"{FACTS_COST.qualified}.estimated_cost_usd (charge_kind = 'estimate', source = "
    f"'{CLAUDE_CODE_MODELS.qualified}')"
)
ENTERPRISE_USERS = (
    f"{ENTERPRISE_SUMMARY.qualified}: daily_active_user_count, weekly_active_user_count, "
    f"monthly_active_user_count, assigned_seat_count; {ENTERPRISE_USER_ACTIVITY.qualified}: user_id (active days)"
)
ENTERPRISE_CODE_WORK = (
    f"{ENTERPRISE_USER_ACTIVITY.qualified}: claude_code_distinct_session_count, claude_code_commit_count, "
    "claude_code_pull_request_count, claude_code_{edit,multi_edit,write,notebook_edit}_tool_accepted_count"
)
CONSOLE_CODE_WORK = (
    f"{CLAUDE_CODE_USAGE.qualified}: actor_id (distinct), num_sessions, commits, pull_requests, "
    "{edit,multi_edit,write,notebook_edit}_accepted"
)


def product_users(product: str) -> str:
    """The summary fields behind an Enterprise product's active users."""
    return (
        f"{ENTERPRISE_SUMMARY.qualified}: {product}_daily_active_user_count, {product}_weekly_active_user_count, "
        f"{product}_monthly_active_user_count"
    )

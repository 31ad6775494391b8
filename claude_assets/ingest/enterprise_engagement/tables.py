"""The raw engagement tables (the contract), the daily endpoint that fills each, and their pandera schemas."""

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandera.pandas as pa

from checks import schemas as sc
from claude_assets.ingest.enterprise_engagement.layout import Layout
from claude_assets.ingest.enterprise_engagement.layouts import (
    ARTIFACT_LAYOUT,
    CONNECTOR_LAYOUT,
    PLUGIN_LAYOUT,
    PROJECT_LAYOUT,
    SKILL_LAYOUT,
    SUMMARY_LAYOUT,
    USER_LAYOUT,
)
from claude_assets.warehouse.contract import LINEAGE, ORG_ID, Table
from claude_assets.warehouse.contract import col as _c

BASE = "/v1/organizations/analytics"
KEYS = (ORG_ID, _c("usage_date", "DATE", "the UTC day the row describes (the requested `date`)", False))


def _raw(name: str, layout: Layout, grain: tuple[str, ...], description: str, **more) -> Table:
    """``raw.<name>``: the organization and day keys, a column per layout field and the lineage columns;
    ``grain`` names the columns that, after the organization and the day, tell its rows apart."""
    return Table(
        "raw",
        name,
        columns=(*KEYS, *layout.columns, *LINEAGE),
        grain=("org_id", "usage_date", *grain),
        description=description,
        **more,
    )


ENTERPRISE_SUMMARY = _raw(
    "enterprise_summary",
    SUMMARY_LAYOUT,
    (),
    description="Enterprise daily activity summary: DAU/WAU/MAU, assigned seats, pending invites, adoption rates and "
    "every per-product active-user count, one row per organization and UTC day. Request: "
    "GET /v1/organizations/analytics/summaries?starting_date&ending_date, one request per run window of "
    "up to 366 days (the `data` envelope, or the deprecated `summaries` one).",
)

ENTERPRISE_USER_ACTIVITY = _raw(
    "enterprise_user_activity",
    USER_LAYOUT,
    ("user_id",),
    description="Enterprise per-user engagement: one row per member active on the UTC day, with every surface's "
    "metrics as columns (chat, Claude Code core metrics and tool actions, Cowork, design, Office "
    "Excel/Outlook/PowerPoint/Word, science, web search, Chat+Cowork unified, Claude in Slack). Blocks are "
    "kept as sent: zero-filled blocks stay zeros, null fields stay null. Deleted members keep their rows. "
    "Request: GET /v1/organizations/analytics/users?date=D&limit=1000 (single-day mode, every page; no "
    "grouping: grouping by RBAC group would aggregate users and count members of several groups twice).",
    # the totals a materialization reports and a restatement compares (values the API revises, B0 and B13)
    counts=(
        "chat_message_count",
        "web_search_count",
        "claude_code_lines_of_code_added_count",
        "claude_code_lines_of_code_removed_count",
        "cowork_action_count",
    ),
)

ENTERPRISE_PROJECT_ACTIVITY = _raw(
    "enterprise_project_activity",
    PROJECT_LAYOUT,
    ("project_id", "user_id"),
    description="Chat project activity per project, member and UTC day. Request: "
    "GET /v1/organizations/analytics/apps/chat/projects?date=D&limit=1000&group_by[]=user_id. Per-user "
    "rows are the finest grain the endpoint offers (it has no product dimension); message and "
    "conversation counts sum to the project's totals, so usage can be allocated to members later. "
    "distinct_user_count is 1 on each row: count distinct user_id instead of summing it.",
)

ENTERPRISE_SKILL_ACTIVITY = _raw(
    "enterprise_skill_activity",
    SKILL_LAYOUT,
    ("skill_name", "product", "user_id"),
    description="Skill use per skill, product, member and UTC day, with estimated overage spend and attributed list "
    "price in exact USD. Request: GET /v1/organizations/analytics/skills?date=D&limit=1000"
    "&group_by[]=product&group_by[]=user_id. Each invocation belongs to one member and one product, so "
    "the rows partition the skill's invocations and spend (no double counting) and split the invocation "
    "count and amounts per product, which an ungrouped row cannot. Lost at this grain: enable_count "
    "(an organization-wide distinct count the API leaves null on per-user rows).",
    money=("estimated_overage_spend_usd", "attributed_list_price_usd"),
)

ENTERPRISE_CONNECTOR_ACTIVITY = _raw(
    "enterprise_connector_activity",
    CONNECTOR_LAYOUT,
    ("connector_name", "user_id"),
    description="Connector use per connector, member and UTC day. Request: GET /v1/organizations/analytics/connectors"
    "?date=D&limit=1000&group_by[]=user_id. Per member but not per product: the record already splits "
    "sessions/conversations per product (chat, Claude Code, Cowork, each Office app), while grouping by "
    "product would null the managed/individual-auth counts; only the read/write/unclassified call split "
    "per product is forgone. Rows partition the calls by member (no double counting).",
)

ENTERPRISE_PLUGIN_ACTIVITY = _raw(
    "enterprise_plugin_activity",
    PLUGIN_LAYOUT,
    ("plugin_name", "product", "user_id"),
    description="Plugin use and installs per plugin, product, member and UTC day. Request: "
    "GET /v1/organizations/analytics/plugins?date=D&limit=1000&group_by[]=product&group_by[]=user_id "
    "(rows partition invocations and installs by member and product; nothing is nulled at this grain).",
)

ENTERPRISE_ARTIFACT_ACTIVITY = _raw(
    "enterprise_artifact_activity",
    ARTIFACT_LAYOUT,
    ("artifact_type", "is_shared", "product", "user_id"),
    description="Artifacts created per type, shared flag, product, member and UTC day. Request: "
    "GET /v1/organizations/analytics/artifacts?date=D&limit=1000&group_by[]=product&group_by[]=user_id "
    "(the record has no per-product blocks, so the product grouping is the only way to tell chat from "
    "Claude Code and Cowork artifacts; rows partition the counts without double counting).",
)


@dataclass(frozen=True)
class Endpoint:
    """A per-day endpoint: the table it fills, its record's layout, its path and its ``group_by[]``."""

    table: Table
    layout: Layout
    path: str
    group_by: tuple[str, ...] = ()


DAILY_ENDPOINTS = (
    Endpoint(ENTERPRISE_USER_ACTIVITY, USER_LAYOUT, f"{BASE}/users"),
    Endpoint(ENTERPRISE_PROJECT_ACTIVITY, PROJECT_LAYOUT, f"{BASE}/apps/chat/projects", ("user_id",)),
    Endpoint(ENTERPRISE_SKILL_ACTIVITY, SKILL_LAYOUT, f"{BASE}/skills", ("product", "user_id")),
    Endpoint(ENTERPRISE_CONNECTOR_ACTIVITY, CONNECTOR_LAYOUT, f"{BASE}/connectors", ("user_id",)),
    Endpoint(ENTERPRISE_PLUGIN_ACTIVITY, PLUGIN_LAYOUT, f"{BASE}/plugins", ("product", "user_id")),
    Endpoint(ENTERPRISE_ARTIFACT_ACTIVITY, ARTIFACT_LAYOUT, f"{BASE}/artifacts", ("product", "user_id")),
)
TABLES = (ENTERPRISE_SUMMARY, *(e.table for e in DAILY_ENDPOINTS))
#: the metrics this source revised from a given day (format: claude_assets/ingest/revisions.py)
METRIC_REVISIONS_FILE = Path(__file__).with_name("metric_revisions.yaml")
#: tables where a small organization can have a day without any row (not_empty warns instead of failing)
SPARSE = frozenset(
    {
        ENTERPRISE_PLUGIN_ACTIVITY.asset_key,
        ENTERPRISE_ARTIFACT_ACTIVITY.asset_key,
        ENTERPRISE_PROJECT_ACTIVITY.asset_key,
    }
)


# -- pandera --------------------------------------------------------------------------------------------------
def _schema(table: Table, layout: Layout, checks: list[pa.Check] | None = None) -> pa.DataFrameSchema:
    column_checks: dict[str, list[pa.Check]] = {"usage_date": [sc.ISO_DATE]}
    for f in layout.fields:
        if f.kind == "int":
            column_checks[f.column.name] = [sc.NON_NEGATIVE]
        elif f.kind == "money":
            column_checks[f.column.name] = [sc.NON_NEGATIVE_DECIMAL]
        elif f.kind == "float":
            column_checks[f.column.name] = [
                sc.DECIMAL,
                pa.Check(
                    lambda s: s.map(lambda v: v is None or Decimal(str(v)) >= 0),
                    element_wise=False,
                    error="must not be negative",
                ),
            ]
    if "currency" in table.column_names:
        column_checks["currency"] = [sc.USD]
    base = sc.staged_schema(table, column_checks)
    return pa.DataFrameSchema(base.columns, checks=checks or [], strict=True, name=base.name)


def _ordered(lo: str, hi: str) -> pa.Check:
    return pa.Check(
        lambda df: df[lo].isna() | df[hi].isna() | (df[lo] <= df[hi]),
        error=f"{lo} must not exceed {hi}",
        name=f"{lo}<={hi}",
    )


SCHEMAS = {
    ENTERPRISE_SUMMARY: _schema(
        ENTERPRISE_SUMMARY,
        SUMMARY_LAYOUT,
        [
            _ordered("daily_active_user_count", "weekly_active_user_count"),
            _ordered("weekly_active_user_count", "monthly_active_user_count"),
            pa.Check(
                lambda df: df["starting_at"].str.slice(0, 10) == df["usage_date"],
                error="starting_at must fall on usage_date",
                name="starting_at_is_usage_date",
            ),
        ],
    ),
    ENTERPRISE_USER_ACTIVITY: _schema(
        ENTERPRISE_USER_ACTIVITY,
        USER_LAYOUT,
        [
            pa.Check(
                lambda df: df["last_activity_date"].isna() | (df["last_activity_date"] == df["usage_date"]),
                error="in single-day mode last_activity_date is the requested day",
                name="last_activity_is_day",
            )
        ],
    ),
    **{e.table: _schema(e.table, e.layout) for e in DAILY_ENDPOINTS[1:]},
}

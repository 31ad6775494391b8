"""The raw Enterprise usage and cost tables (schema ``raw``), declared once, and the pandera schemas of their
staged rows."""

import pandera.pandas as pa

from checks import schemas as sc
from claude_assets.ingest.columns import USAGE_TOKEN_COLUMNS, USAGE_TOKENS
from claude_assets.ingest.enterprise_reports.groupings import (
    ANALYTICS_GROUPINGS,
    COST_GROUPINGS,
    USAGE_GROUPINGS,
)
from claude_assets.warehouse.contract import EMAIL, LINEAGE, MONEY, ORG_ID, PERSON_NAME, USER_ID, Table
from claude_assets.warehouse.contract import col as _c

KEYS = (ORG_ID, _c("usage_date", "DATE", "the UTC day of the bucket or row", False))
ENVELOPE = (
    _c("anthropic_organization_id", "VARCHAR", "the API's organization id (org_…)"),
    _c(
        "data_refreshed_at",
        "TIMESTAMPTZ",
        "the API's export watermark when the row was read: days after "
        "it are incomplete, days within 30 days before it may still be revised",
    ),
)
SPAN = (
    _c("starting_at", "TIMESTAMPTZ", "start of the bucket (inclusive)", False),
    _c("ending_at", "TIMESTAMPTZ", "end of the bucket (exclusive)", False),
)
DIM_DOC = {
    "product": "chat, claude_code, cowork, office_agent, claude_in_chrome, claude_design, claude-tag (sent "
    "claude-in-slack by the API of the docs), other; null = not grouped or not attributable (code execution)",
    "model": "model id; null = not grouped or no model (code execution)",
    "context_window": "0-200k or 200k-1M",
    "inference_geo": "global or us; null = not grouped or region not set",
    "speed": "standard or fast",
    "rbac_group_id": "RBAC group (groups overlap); null = not grouped or in no group",
    "slack_channel_id": "Claude in Slack channel",
    "claude_tag_category": "dm, engaged, monitoring, proactive, scheduled",
    "claude_tag_user_id": "Slack member id of Claude Tag usage",
}
#: the legacy reports' dimensions (``group_by[]`` of usage_report / cost_report, fields of the per-user rows)
LEGACY_DIMS = tuple(DIM_DOC)
DIMS = tuple(_c(d, "VARCHAR", DIM_DOC[d] + " (null unless grouped)") for d in LEGACY_DIMS)
TOKENS = USAGE_TOKENS
TOKEN_COLUMNS = USAGE_TOKEN_COLUMNS
REQUESTS = _c(
    "requests", "BIGINT", "requests (execution spans on code-execution rows); null when the API gives none"
)
TOTAL_TOKENS = _c("total_tokens", "BIGINT", "the row's tokens of every kind, as the API totals them", False)
MONEY_COLUMNS = (
    _c("currency", "VARCHAR", "always USD", False),
    _c(
        "amount_usd",
        MONEY,
        "cost after the negotiated discount, before credits, in USD (the API's cents / 100, exact)",
        False,
    ),
    _c("list_amount_usd", MONEY, "cost at list price in USD (cents / 100, exact)", False),
)
COST_DIMS = (
    _c("cost_type", "VARCHAR", "tokens, web_search, code_execution (null unless grouped)"),
    _c("token_type", "VARCHAR", "token type of a tokens cost line (null unless grouped)"),
)
GROUPING = (
    _c("grouping", "VARCHAR", "which grouping of the report the row belongs to (total = ungrouped)", False),
    _c(
        "split_filter",
        "VARCHAR",
        "the filter that split a bucket which hit the top-100 cap (e.g. "
        "inference_geos[]=us); null when the bucket came whole",
    ),
)
USER = (
    _c("user_id", "VARCHAR", "the seat user (user_…)", False, personal=USER_ID),
    _c(
        "email",
        "VARCHAR",
        "the user's email (API field email or email_address); null for deleted users",
        personal=EMAIL,
    ),
    _c("user_name", "VARCHAR", "the user's name ('Deleted User' for deleted users)", personal=PERSON_NAME),
    _c("user_deleted", "BOOLEAN", "the user is no longer a member (kept, with no email)", False),
    _c("actor_type", "VARCHAR", "user_actor"),
)

#: the ungrouped rows of a table holding several groupings: summing every grouping would count the facts several times
TOTAL_ROWS = "grouping = 'total'"
ENTERPRISE_USAGE = Table(
    "raw",
    "enterprise_usage",
    description="Claude Enterprise token usage per UTC day (usage_report), under several groupings (column "
    "grouping; 'total' is ungrouped). A bucket the API cut at its top 100 groups is never kept: it is "
    "asked again per inference geo, then per hour (split_filter, starting_at). Sum a grouping over "
    "usage_date for daily figures; rbac_group rows overlap.",
    columns=(*KEYS, *GROUPING, *SPAN, *DIMS, REQUESTS, *TOKEN_COLUMNS, *ENVELOPE, *LINEAGE),
    grain=("org_id", "usage_date", "grouping", "split_filter", "starting_at", *LEGACY_DIMS),
    counts=(*TOKENS, "requests"),
    totals_where=TOTAL_ROWS,
)
ENTERPRISE_COST = Table(
    "raw",
    "enterprise_cost",
    description="Claude Enterprise cost per UTC day (cost_report), under several groupings (column grouping; "
    "'total' is ungrouped), amount and list amount in exact USD. Buckets cut at the top 100 groups are "
    "asked again per inference geo, then per hour. rbac_group rows overlap.",
    columns=(*KEYS, *GROUPING, *SPAN, *DIMS, *COST_DIMS, *MONEY_COLUMNS, REQUESTS, *ENVELOPE, *LINEAGE),
    grain=(
        "org_id",
        "usage_date",
        "grouping",
        "split_filter",
        "starting_at",
        *LEGACY_DIMS,
        "cost_type",
        "token_type",
    ),
    money=("amount_usd", "list_amount_usd"),
    totals_where=TOTAL_ROWS,
)
ENTERPRISE_USER_USAGE = Table(
    "raw",
    "enterprise_user_usage",
    description="Token usage per seat user, UTC day, product and model (user_usage_report). Seat users only: "
    "Claude in Slack channels, Code Review and unattributed usage are in raw.enterprise_usage only.",
    columns=(
        *KEYS,
        *USER,
        *SPAN,
        *DIMS,
        REQUESTS,
        TOTAL_TOKENS,
        *TOKEN_COLUMNS,
        *ENVELOPE,
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", "user_id", *LEGACY_DIMS),
)
ENTERPRISE_USER_COST = Table(
    "raw",
    "enterprise_user_cost",
    description="Cost per seat user, UTC day, product and model (user_cost_report), amount and list amount in "
    "exact USD. Seat users only, so the daily sum is below the organization's total.",
    columns=(*KEYS, *USER, *SPAN, *DIMS, *COST_DIMS, *MONEY_COLUMNS, REQUESTS, *ENVELOPE, *LINEAGE),
    grain=("org_id", "usage_date", "user_id", *LEGACY_DIMS, "cost_type", "token_type"),
    money=("amount_usd", "list_amount_usd"),
)

#: the beta endpoints' ``group`` dimensions (B12), each null unless grouped by it
V2_DIM_DOC = {
    "actor_type": "user_actor, api_actor, service_account_actor or federated_actor",
    "agent_id": "managed agent",
    "api_key_id": "API key (null for key-less usage)",
    "claude_tag_category": "Claude Tag category: dm, engaged, monitoring, proactive, scheduled",
    "claude_tag_user_id": "Slack member id of Claude Tag usage",
    "context_window": "0-200k or 200k-1M",
    "deployment_id": "deployment",
    "environment_id": "environment",
    "inference_geo": "global or us",
    "model": "model id",
    "organization_id": "the API's organization id",
    "product": "the Claude product (chat, claude_code, cowork, messages_api, …)",
    "rbac_group_id": "RBAC group (groups overlap)",
    "service_tier": "standard, batch, priority, …",
    "session_id": "session",
    "slack_channel_id": "Claude in Slack channel",
    "speed": "standard or fast",
    "user_profile_id": "user profile",
    "workspace_id": "workspace",
}
V2_DIMS = tuple(V2_DIM_DOC)
ACTOR = (
    _c(
        "actor",
        "JSON",
        "the actor object as returned (user, service account, API key or federated); null "
        "unless grouped by actor, or usage with no actor",
        personal=EMAIL,
    ),
    _c(
        "actor_id",
        "VARCHAR",
        "user_id, service_account_id, api_key_id or federated subject of the actor",
        personal=USER_ID,
    ),
    _c(
        "actor_email",
        "VARCHAR",
        "a user actor's email (email_address or email); null for deleted users",
        personal=EMAIL,
    ),
    _c(
        "actor_name",
        "VARCHAR",
        "a user actor's name ('Deleted User' for deleted users)",
        personal=PERSON_NAME,
    ),
    _c("user_deleted", "BOOLEAN", "a user actor that is no longer a member (kept, with no email)"),
)
V2_DIM_COLUMNS = tuple(_c(d, "VARCHAR", f"{doc} (null unless grouped)") for d, doc in V2_DIM_DOC.items())
ANALYTICS_GROUPING = _c(
    "grouping",
    "VARCHAR",
    "which grouping the row belongs to (total = ungrouped; billing, actor, api_key, claude_tag, "
    "rbac_group, managed_agents: at most five group_by[] dimensions a request, so the 20 are read in groups)",
    False,
)
ANALYTICS_WHO = (
    "Console organizations (Admin key) and Enterprise organizations (Analytics key) alike, "
    "wherever the organization reads the API (analytics_api, the default)"
)
ANALYTICS_USAGE = Table(
    "raw",
    "analytics_usage",
    description="Usage and Cost Analytics API (GET /v1/organizations/analytics/usage, beta): tokens per UTC day "
    "under several groupings (column grouping; 'total' is ungrouped) that together cover every dimension "
    f"the API documents, every combination (no top-N cut). Read for {ANALYTICS_WHO}. Sum one grouping.",
    columns=(
        *KEYS,
        ANALYTICS_GROUPING,
        *SPAN,
        *ACTOR,
        *V2_DIM_COLUMNS,
        REQUESTS,
        TOTAL_TOKENS,
        *TOKEN_COLUMNS,
        *ENVELOPE,
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", "grouping", "starting_at", "actor_id", *V2_DIMS),
    counts=(*TOKENS, "requests"),
    totals_where=TOTAL_ROWS,
)
ANALYTICS_COST = Table(
    "raw",
    "analytics_cost",
    description="Usage and Cost Analytics API (GET /v1/organizations/analytics/cost, beta): amount and list "
    "amount (exact USD) per UTC day under several groupings (column grouping; 'total' is ungrouped; "
    "'billing' by workspace, model, service tier, context window, geo, cost type and token type), every "
    f"combination. Read for {ANALYTICS_WHO}. Sum one grouping.",
    columns=(
        *KEYS,
        ANALYTICS_GROUPING,
        *SPAN,
        *ACTOR,
        *V2_DIM_COLUMNS,
        *COST_DIMS,
        *MONEY_COLUMNS,
        REQUESTS,
        *ENVELOPE,
        *LINEAGE,
    ),
    grain=(
        "org_id",
        "usage_date",
        "grouping",
        "starting_at",
        "actor_id",
        *V2_DIMS,
        "cost_type",
        "token_type",
    ),
    money=("amount_usd", "list_amount_usd"),
    totals_where=TOTAL_ROWS,
)
#: the legacy bucketed tables whose rows hold several groupings (their totals come from TOTAL_ROWS)
GROUPED_TABLES = (ENTERPRISE_USAGE, ENTERPRISE_COST)
#: the legacy reports (B8-B11) and the Usage and Cost Analytics API (B12, every organization kind)
LEGACY_TABLES = (ENTERPRISE_USAGE, ENTERPRISE_COST, ENTERPRISE_USER_USAGE, ENTERPRISE_USER_COST)
BETA_TABLES = (ANALYTICS_USAGE, ANALYTICS_COST)
#: tables with an amount and a list amount
COST_TABLES = (ENTERPRISE_COST, ENTERPRISE_USER_COST, ANALYTICS_COST)


def _schema(table: Table) -> pa.DataFrameSchema:
    checks: dict = {c: [sc.NON_NEGATIVE] for c in (*TOKENS, "requests", "total_tokens")}
    checks |= {
        "currency": [sc.USD],
        "amount_usd": [sc.NON_NEGATIVE_DECIMAL],
        "list_amount_usd": [sc.NON_NEGATIVE_DECIMAL],
        "usage_date": [sc.ISO_DATE],
    }
    if "grouping" in table.column_names:
        names = sorted({g.name for g in (*USAGE_GROUPINGS, *COST_GROUPINGS, *ANALYTICS_GROUPINGS)})
        checks["grouping"] = [pa.Check.isin(names, error="unknown grouping")]
    return sc.staged_schema(table, {k: v for k, v in checks.items() if k in table.column_names})


SCHEMAS = {t: _schema(t) for t in (*LEGACY_TABLES, *BETA_TABLES)}

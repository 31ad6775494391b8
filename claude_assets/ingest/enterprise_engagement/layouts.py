"""Raw Enterprise engagement tables (group ``enterprise``, schema ``raw``): summaries and per-user activity.

One asset per engagement endpoint of the Enterprise Analytics API (reference B1-B7), partitioned by UTC
day x Enterprise organization, each run as one backfill. The request shapes:

- ``/summaries``: one request per run window of up to 366 days (``starting_date``/``ending_date``).
- ``/users``, ``/apps/chat/projects``, ``/skills``, ``/connectors``, ``/plugins``, ``/artifacts``: the
  single-day ``date`` mode (the date-range rollup mode merges days and may approximate distinct counts),
  ``limit=1000``, one query per day, days fetched concurrently under the organization's shared limiter.
  The entity endpoints are grouped by ``user_id`` (and ``product`` where it loses nothing), the finest
  grain the API offers: each event belongs to exactly one user and one product, so the rows partition the
  organization's activity and sum to its totals without double counting (unlike ``rbac_group_id``, which
  is not an exclusive partition and is never requested).

Days before 2026-01-01 (the API's floor) are skipped without a request; a day newer than the latest the
API serves fails the run before anything is fetched, naming that day. The latest day is learned from one
``/summaries`` request without ``ending_date``, whose default is "the most recent available day + 1"
(reference B1): a documented contract, unlike the wording of the 400 error message.

Every wire field is a column (nested blocks flattened, e.g. ``claude_code_metrics.core_metrics.commit_count``
-> ``claude_code_commit_count``); zeros stay zeros and nulls stay nulls; fields without a column are kept
in ``extra`` (JSON, keyed by dotted path). Cents become exact ``*_usd`` decimals.
"""

import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import dagster as dg
import duckdb
import pandera.pandas as pa
from dagster_duckdb import DuckDBResource

from checks import enterprise as enterprise_checks
from checks import schemas as sc
from checks import window as window_checks
from claude_assets.asset_defaults import OWNERS
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.ingest.runner import Availability, Fetched, describe_request, now_iso, run_windows
from claude_assets.ingest.staging import RowBuffer
from claude_assets.partitions import daily_by_org
from claude_assets.warehouse.contract import LINEAGE, MONEY, ORG_ID, Column, Table, cents_to_usd
from claude_assets.warehouse.contract import col as _c
from resources.apis import EnterpriseAnalyticsApi
from resources.client import ApiClient, CallStats
from resources.errors import InvalidRequest

GROUP = "enterprise"
BASE = "/v1/organizations/analytics"
SUMMARIES_PATH = f"{BASE}/summaries"
API_FLOOR = date(2026, 1, 1)  # "No data before 2026-01-01" (reference B0)
PAGE_LIMIT = 1000  # the largest page the engagement endpoints allow (B0.1)
SUMMARY_MAX_DAYS = 366  # a summaries range spans at most 366 days (B1)
PROBE_DAYS = 31  # the latest-day probe asks for about a month, so its range is always valid
PROBE_TTL_SECONDS = 300.0  # the assets of one run share one probe per organization
OFFICE_APPS = ("excel", "outlook", "powerpoint", "word")
GROUPED_FIELDS = ("rbac_group_id", "rbac_group_name")  # null unless grouped by RBAC group (never requested)


KEYS = (ORG_ID, _c("usage_date", "DATE", "the UTC day the row describes (the requested `date`)", False))


# -- wire layout -> columns ------------------------------------------------------------------------------
_SKIP_PARTS = {"core_metrics", "tool_actions"}


def column_name(path: str) -> str:
    """``claude_code_metrics.core_metrics.lines_of_code.added_count`` -> ``claude_code_lines_of_code_added_count``."""
    return "_".join(p.removesuffix("_metrics") for p in path.split(".") if p not in _SKIP_PARTS)


@dataclass(frozen=True)
class Field:
    """One wire leaf (dotted path) and its column; ``kind`` says how the value is staged."""

    path: str
    column: Column
    kind: str = "int"  # int | text | float | money | bool | date | instant


def _int(path: str, description: str = "", nullable: bool = True, column: str | None = None) -> Field:
    return Field(path, _c(column or column_name(path), "BIGINT", description, nullable), "int")


def _text(path: str, description: str = "", nullable: bool = True, column: str | None = None) -> Field:
    return Field(path, _c(column or column_name(path), "VARCHAR", description, nullable), "text")


@dataclass(frozen=True)
class Layout:
    """A record's fields; what the API sends beyond them goes to ``extra``."""

    fields: tuple[Field, ...]
    null_ok: tuple[str, ...] = ()  # known fields that are null for our request shape: dropped when null

    @property
    def by_path(self) -> dict[str, Field]:
        return {f.path: f for f in self.fields}

    @property
    def blocks(self) -> frozenset[str]:
        """Every object path above a field: a null block means all its columns are null (not extra)."""
        out = set()
        for f in self.fields:
            parts = f.path.split(".")
            out.update(".".join(parts[:i]) for i in range(1, len(parts)))
        return frozenset(out)

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(f.column for f in self.fields)


def flatten(record: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    """(dotted path, value) of every leaf; a null or empty object is a leaf of its own."""
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from flatten(value, f"{path}.")
        else:
            yield path, value


def _json_default(value: object) -> object:
    # the client parses JSON floats as Decimal; write them back as JSON numbers
    return float(value) if isinstance(value, Decimal) else str(value)


def _stage(field: Field, value: object) -> object:
    if value is None:
        return None
    kind = field.kind
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | Decimal | float | str):
            raise ValueError(f"{field.path}: expected an integer, got {value!r}")
        number = Decimal(str(value))
        if number != number.to_integral_value():
            raise ValueError(f"{field.path}: expected an integer, got {value!r}")
        return int(number)
    if kind == "money":
        return cents_to_usd(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{field.path}: expected true or false, got {value!r}")
        return value
    return str(value)  # text, float (exact decimal literal, cast by DuckDB), date, instant


def parse_record(record: dict, layout: Layout) -> tuple[dict[str, object], str | None]:
    """(column -> staged value, extra JSON) of one API record."""
    by_path, blocks = layout.by_path, layout.blocks
    out: dict[str, object] = {f.column.name: None for f in layout.fields}
    extra: dict[str, object] = {}
    for path, value in flatten(record):
        field = by_path.get(path)
        if field is not None:
            out[field.column.name] = _stage(field, value)
        elif (value is None and (path in blocks or path in layout.null_ok)) or (
            value == {} and path in blocks
        ):
            continue  # a null (or empty) block: its columns stay null
        else:
            extra[path] = value
    text = json.dumps(extra, sort_keys=True, default=_json_default) if extra else None
    return out, text


# -- B1 summaries --------------------------------------------------------------------------------------------
_PRODUCTS = (
    "cowork",
    "chat",
    "claude_code",
    "claude_design",
    "office_agent",
    "science",
    "chat_cowork_unified",
    "claude_tag",
)
_WINDOWS = ("daily", "weekly", "monthly")
SUMMARY_LAYOUT = Layout(
    (
        Field(
            "starting_at", _c("starting_at", "TIMESTAMPTZ", "start of the day (RFC 3339)", False), "instant"
        ),
        Field("ending_at", _c("ending_at", "TIMESTAMPTZ", "end of the day (exclusive)", False), "instant"),
        _int("daily_active_user_count", "users active that day", False),
        _int("weekly_active_user_count", "users active in the 7 days ending that day", False),
        _int("monthly_active_user_count", "users active in the 30 days ending that day", False),
        _int("assigned_seat_count", "seats assigned at the end of the day"),
        _int("pending_invite_count", "invites pending at the end of the day"),
        *(
            Field(
                f"{w}_adoption_rate",
                _c(f"{w}_adoption_rate", "DOUBLE", f"{w} active users / assigned seats x 100 (a percentage)"),
                "float",
            )
            for w in _WINDOWS
        ),
        *(
            _int(
                f"{p}_{w}_active_user_count",
                f"{p} {w} active users (null while the per-product breakdown is not "
                "enabled for the organization)",
            )
            for p in _PRODUCTS
            for w in _WINDOWS
        ),
        _int("science_entitled_user_count", "users entitled to Claude for science"),
    )
)
ENTERPRISE_SUMMARY = Table(
    "raw",
    "enterprise_summary",
    description="Enterprise daily activity summary: DAU/WAU/MAU, assigned seats, pending invites, adoption rates and "
    "every per-product active-user count, one row per organization and UTC day. Request: "
    "GET /v1/organizations/analytics/summaries?starting_date&ending_date, one request per run window of "
    "up to 366 days (the `data` envelope, or the deprecated `summaries` one).",
    columns=(*KEYS, *SUMMARY_LAYOUT.columns, *LINEAGE),
    grain=("org_id", "usage_date"),
)


# -- B2 per-user activity -------------------------------------------------------------------------------------
_CHAT = (
    "message_count",
    "thinking_message_count",
    "distinct_conversation_count",
    "distinct_files_uploaded_count",
    "distinct_projects_created_count",
    "distinct_projects_used_count",
    "distinct_artifacts_created_count",
    "distinct_shared_artifacts_viewed_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_connectors_used_count",
    "shared_conversations_viewed_count",
)
_CODE_CORE = (
    "distinct_session_count",
    "commit_count",
    "pull_request_count",
    "artifacts_created_count",
    "lines_of_code.added_count",
    "lines_of_code.removed_count",
)
_CODE_TOOLS = ("edit_tool", "multi_edit_tool", "notebook_edit_tool", "write_tool")
_COWORK = (
    "distinct_session_count",
    "message_count",
    "action_count",
    "dispatch_turn_count",
    "skills_used_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_connectors_used_count",
    "artifacts_created_count",
    "plugins_used_count",
    "distinct_plugins_used_count",
    "file_edit_count",
    "edit_tool_count",
    "multi_edit_tool_count",
    "write_tool_count",
    "notebook_edit_tool_count",
    "sessions_with_file_edits_count",
)
_DESIGN = (
    "distinct_session_count",
    "message_count",
    "distinct_projects_created_count",
    "distinct_projects_used_count",
)
_OFFICE = (
    "distinct_session_count",
    "message_count",
    "skills_used_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_connectors_used_count",
)
_SCIENCE = (
    "distinct_session_count",
    "message_count",
    "delegation_count",
    "remote_compute_job_count",
    "skills_used_count",
)
USER_METRIC_PATHS = (
    *(f"chat_metrics.{k}" for k in _CHAT),
    *(f"claude_code_metrics.core_metrics.{k}" for k in _CODE_CORE),
    *(
        f"claude_code_metrics.tool_actions.{t}.{k}"
        for t in _CODE_TOOLS
        for k in ("accepted_count", "rejected_count")
    ),
    *(f"cowork_metrics.{k}" for k in _COWORK),
    *(f"design_metrics.{k}" for k in _DESIGN),
    *(f"office_metrics.{app}.{k}" for app in OFFICE_APPS for k in _OFFICE),
    *(f"science_metrics.{k}" for k in _SCIENCE),
    "web_search_count",
    *(f"chat_cowork_unified_metrics.chat.{k}" for k in _CHAT),
    *(f"chat_cowork_unified_metrics.sessions.{k}" for k in _COWORK),
    "claude_tag_metrics.active_day_count",
    "claude_tag_metrics.active_message_count",
)
USER_LAYOUT = Layout(
    (
        _text("user.id", "the member's user id (user_...)", False, column="user_id"),
        _text("user.email_address", "the member's email address", column="user_email"),
        _text("user.type", "the actor type (user)", column="user_type"),
        Field(
            "last_activity_date",
            _c("last_activity_date", "DATE", "in single-day mode, the requested day"),
            "date",
        ),
        *(
            _int(p, f"`{p}` (zero-filled when unused; null while the feature is not enabled)")
            for p in USER_METRIC_PATHS
        ),
    ),
    null_ok=("distinct_user_count", *GROUPED_FIELDS),
)
ENTERPRISE_USER_ACTIVITY = Table(
    "raw",
    "enterprise_user_activity",
    description="Enterprise per-user engagement: one row per member active on the UTC day, with every surface's "
    "metrics as columns (chat, Claude Code core metrics and tool actions, Cowork, design, Office "
    "Excel/Outlook/PowerPoint/Word, science, web search, Chat+Cowork unified, Claude in Slack). Blocks are "
    "kept as sent: zero-filled blocks stay zeros, null fields stay null. Deleted members keep their rows. "
    "Request: GET /v1/organizations/analytics/users?date=D&limit=1000 (single-day mode, every page; no "
    "grouping: grouping by RBAC group would aggregate users and count members of several groups twice).",
    columns=(*KEYS, *USER_LAYOUT.columns, *LINEAGE),
    grain=("org_id", "usage_date", "user_id"),
)


# -- B3-B7 entity endpoints, grouped per user -----------------------------------------------------------------
def _office(field: str) -> tuple[Field, ...]:
    return tuple(_int(f"office_metrics.{app}.{field}") for app in OFFICE_APPS)


_USER_ID = _text("user_id", "the member the row is about (group_by[]=user_id)", False)
_PRODUCT = _text(
    "product",
    "the surface the row is about (group_by[]=product): chat, claude_code, cowork, "
    "office_agent or chat_cowork_unified",
    False,
)
_DISTINCT_USERS = _int("distinct_user_count", "distinct users behind the row (1 on per-user rows)")

PROJECT_LAYOUT = Layout(
    (
        _text("project_id", "claude_proj_...", False),
        _text("project_name"),
        Field("created_at", _c("created_at", "TIMESTAMPTZ", "when the project was created"), "instant"),
        _text(
            "created_by.id", "creator's user id (null when unknown or deleted)", column="created_by_user_id"
        ),
        _text("created_by.email_address", column="created_by_email"),
        _text("created_by.type", column="created_by_type"),
        _USER_ID,
        _DISTINCT_USERS,
        _int("message_count", "messages in the project"),
        _int("distinct_conversation_count", "conversations in the project"),
    ),
    null_ok=GROUPED_FIELDS,
)
ENTERPRISE_PROJECT_ACTIVITY = Table(
    "raw",
    "enterprise_project_activity",
    description="Chat project activity per project, member and UTC day. Request: "
    "GET /v1/organizations/analytics/apps/chat/projects?date=D&limit=1000&group_by[]=user_id. Per-user "
    "rows are the finest grain the endpoint offers (it has no product dimension); message and "
    "conversation counts sum to the project's totals, so usage can be allocated to members later. "
    "distinct_user_count is 1 on each row: count distinct user_id instead of summing it.",
    columns=(*KEYS, *PROJECT_LAYOUT.columns, *LINEAGE),
    grain=("org_id", "usage_date", "project_id", "user_id"),
)

SKILL_LAYOUT = Layout(
    (
        _text("skill_name", "the skill's name (the endpoint's sort key)", False),
        _text("skill_display_name"),
        _text("share_status", "organization, private or public"),
        _PRODUCT,
        _USER_ID,
        _DISTINCT_USERS,
        _int("invocation_count"),
        _int("enable_count", "distinct users who enabled the skill (null on per-user rows)"),
        _int("chat_metrics.distinct_conversation_skill_used_count"),
        _int("claude_code_metrics.distinct_session_skill_used_count"),
        _int("cowork_metrics.distinct_session_skill_used_count"),
        *_office("distinct_session_skill_used_count"),
        _int("chat_cowork_unified_metrics.chat.distinct_conversation_skill_used_count"),
        _int("chat_cowork_unified_metrics.sessions.distinct_session_skill_used_count"),
        Field(
            "estimated_overage_spend",
            _c(
                "estimated_overage_spend_usd",
                MONEY,
                "estimated overage spend in USD (the API's cents / 100, exact)",
            ),
            "money",
        ),
        Field(
            "attributed_list_price",
            _c(
                "attributed_list_price_usd",
                MONEY,
                "attributed list price in USD (the API's cents / 100, exact)",
            ),
            "money",
        ),
        _text("currency", "USD when an amount is present"),
    ),
    null_ok=GROUPED_FIELDS,
)
ENTERPRISE_SKILL_ACTIVITY = Table(
    "raw",
    "enterprise_skill_activity",
    description="Skill use per skill, product, member and UTC day, with estimated overage spend and attributed list "
    "price in exact USD. Request: GET /v1/organizations/analytics/skills?date=D&limit=1000"
    "&group_by[]=product&group_by[]=user_id. Each invocation belongs to one member and one product, so "
    "the rows partition the skill's invocations and spend (no double counting) and split the invocation "
    "count and amounts per product, which an ungrouped row cannot. Lost at this grain: enable_count "
    "(an organization-wide distinct count the API leaves null on per-user rows).",
    columns=(*KEYS, *SKILL_LAYOUT.columns, *LINEAGE),
    grain=("org_id", "usage_date", "skill_name", "product", "user_id"),
    money=("estimated_overage_spend_usd", "attributed_list_price_usd"),
)

CONNECTOR_LAYOUT = Layout(
    (
        _text("connector_name", "normalized connector name (e.g. atlassian)", False),
        _text("connector_display_name"),
        _USER_ID,
        _DISTINCT_USERS,
        _int("chat_metrics.distinct_conversation_connector_used_count"),
        _int("claude_code_metrics.distinct_session_connector_used_count"),
        _int("cowork_metrics.distinct_session_connector_used_count"),
        *_office("distinct_session_connector_used_count"),
        _int("chat_cowork_unified_metrics.chat.distinct_conversation_connector_used_count"),
        _int("chat_cowork_unified_metrics.sessions.distinct_session_connector_used_count"),
        _int("read_call_count"),
        _int("write_call_count"),
        _int("unclassified_call_count"),
        _int(
            "managed_auth_distinct_user_count",
            "1 when the member used the connector with organization-managed auth",
        ),
        _int(
            "individual_auth_distinct_user_count",
            "1 when the member used the connector with their own credentials",
        ),
    ),
    null_ok=("product", *GROUPED_FIELDS),
)
ENTERPRISE_CONNECTOR_ACTIVITY = Table(
    "raw",
    "enterprise_connector_activity",
    description="Connector use per connector, member and UTC day. Request: GET /v1/organizations/analytics/connectors"
    "?date=D&limit=1000&group_by[]=user_id. Per member but not per product: the record already splits "
    "sessions/conversations per product (chat, Claude Code, Cowork, each Office app), while grouping by "
    "product would null the managed/individual-auth counts; only the read/write/unclassified call split "
    "per product is forgone. Rows partition the calls by member (no double counting).",
    columns=(*KEYS, *CONNECTOR_LAYOUT.columns, *LINEAGE),
    grain=("org_id", "usage_date", "connector_name", "user_id"),
)

PLUGIN_LAYOUT = Layout(
    (
        _text("plugin_name", "plugin name; `third-party` is an aggregate bucket", False),
        _text("plugin_id"),
        _PRODUCT,
        _USER_ID,
        _DISTINCT_USERS,
        _int("invocation_count"),
        _int("install_count"),
        _int("claude_code_metrics.distinct_session_plugin_used_count"),
        _int("cowork_metrics.distinct_session_plugin_used_count"),
    ),
    null_ok=GROUPED_FIELDS,
)
ENTERPRISE_PLUGIN_ACTIVITY = Table(
    "raw",
    "enterprise_plugin_activity",
    description="Plugin use and installs per plugin, product, member and UTC day. Request: "
    "GET /v1/organizations/analytics/plugins?date=D&limit=1000&group_by[]=product&group_by[]=user_id "
    "(rows partition invocations and installs by member and product; nothing is nulled at this grain).",
    columns=(*KEYS, *PLUGIN_LAYOUT.columns, *LINEAGE),
    grain=("org_id", "usage_date", "plugin_name", "product", "user_id"),
)

ARTIFACT_LAYOUT = Layout(
    (
        _text("artifact_type", "MIME type or `other`", False),
        Field("is_shared", _c("is_shared", "BOOLEAN", "whether the artifacts were shared", False), "bool"),
        _PRODUCT,
        _USER_ID,
        _int("artifacts_created_count"),
        _int("published_artifacts_created_count"),
        _DISTINCT_USERS,
    ),
    null_ok=GROUPED_FIELDS,
)
ENTERPRISE_ARTIFACT_ACTIVITY = Table(
    "raw",
    "enterprise_artifact_activity",
    description="Artifacts created per type, shared flag, product, member and UTC day. Request: "
    "GET /v1/organizations/analytics/artifacts?date=D&limit=1000&group_by[]=product&group_by[]=user_id "
    "(the record has no per-product blocks, so the product grouping is the only way to tell chat from "
    "Claude Code and Cowork artifacts; rows partition the counts without double counting).",
    columns=(*KEYS, *ARTIFACT_LAYOUT.columns, *LINEAGE),
    grain=("org_id", "usage_date", "artifact_type", "is_shared", "product", "user_id"),
)


@dataclass(frozen=True)
class Endpoint:
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


# -- the API's available days ---------------------------------------------------------------------------------
def _summary_records(page: dict) -> list[dict]:
    """Records of a summaries page: ``data`` (SDK 1.10+) or the deprecated ``summaries`` alias (docs 2026-08)."""
    records = page.get("data")
    if records is None:
        records = page.get("summaries")
    return list(records or [])


_latest_cache: dict[tuple[str, str], tuple[float, date]] = {}
_latest_lock = threading.Lock()


def latest_available_day(client: ApiClient, org: OrgConfig, stats: CallStats) -> date:
    """The newest day the engagement endpoints serve (remembered for a few minutes per organization, so the
    seven assets of a run send one probe, not seven; a stale answer is only ever too old, never too new)."""
    key = (org.resolved_base_url(), org.slug)
    with _latest_lock:
        hit = _latest_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < PROBE_TTL_SECONDS:
        return hit[1]
    latest = probe_latest_day(client, org, stats)
    with _latest_lock:
        _latest_cache[key] = (time.monotonic(), latest)
    return latest


def probe_latest_day(client: ApiClient, org: OrgConfig, stats: CallStats) -> date:
    """The newest day the engagement endpoints serve, from one ``/summaries`` request without ``ending_date``.

    ``ending_date`` defaults to the most recent available day + 1 (reference B1), so the last row is that
    day. The request starts about a month before today (so the range stays within 366 days); "today" is the
    local clock, then the API's own (its ``Date`` header) if the two disagree and the first try was refused.
    """
    today = datetime.now(UTC).date()
    tried: set[date] = set()
    while True:
        start = max(API_FLOOR, today - timedelta(days=PROBE_DAYS))
        tried.add(start)
        try:
            page = client.get(SUMMARIES_PATH, {"starting_date": start.isoformat()}, stats=stats)
            break
        except InvalidRequest as exc:
            server_today = stats.server_time.date() if stats.server_time else None
            if server_today is None or max(API_FLOOR, server_today - timedelta(days=PROBE_DAYS)) in tried:
                raise dg.Failure(
                    description=f"{org.slug}: could not learn the most recent day the Enterprise "
                    f"Analytics API serves: {exc}"
                ) from None
            today = server_today
    days = [date.fromisoformat(str(r["starting_at"])[:10]) for r in _summary_records(page)]
    if not days:
        raise dg.Failure(
            description=f"{org.slug}: GET {SUMMARIES_PATH}?starting_date={start} returned no day; "
            "cannot tell which days are available"
        )
    return max(days)


AVAILABILITY = Availability(
    floor=API_FLOOR,
    floor_reason=f"before {API_FLOOR}, the first day the Enterprise Analytics API has data for",
    latest=latest_available_day,
    latest_hint="Engagement data for a day is published once aggregated (about 10:00 UTC the next day): "
    "materialize the range up to that day now and the newer days once they are published.",
)


# -- fetchers -------------------------------------------------------------------------------------------------
def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def fetch_summaries(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
    params = {"starting_date": start.isoformat(), "ending_date": end.isoformat(), "limit": PAGE_LIMIT}
    request = describe_request(SUMMARIES_PATH, params)
    fetched_at, rows, days = now_iso(), RowBuffer(ENTERPRISE_SUMMARY), set()
    for page in client.pages(SUMMARIES_PATH, params, stats=stats):
        for record in _summary_records(page):
            day = date.fromisoformat(str(record.get("starting_at"))[:10])
            if not start <= day < end:
                raise ValueError(f"{org.slug}: {request} returned {day}, outside the requested window")
            values, extra = parse_record(record, SUMMARY_LAYOUT)
            rows.add(
                {
                    "org_id": org.slug,
                    "usage_date": day.isoformat(),
                    **values,
                    "extra": extra,
                    "fetched_at": fetched_at,
                    "source_request": request,
                }
            )
            days.add(day)
    return Fetched({ENTERPRISE_SUMMARY: rows.frame()}, frozenset(days), request)


def daily_fetcher(endpoint: Endpoint):
    """One ``date``-mode query per day (every page at ``limit=1000``); the day counts once it is answered."""

    def fetch(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
        rows, requests = RowBuffer(endpoint.table), []
        for day in _days(start, end):
            params: dict = {"date": day.isoformat(), "limit": PAGE_LIMIT}
            if endpoint.group_by:
                params["group_by[]"] = list(endpoint.group_by)
            request = describe_request(endpoint.path, params)
            requests.append(request)
            mark, fetched_at = rows.mark(), now_iso()
            for page in client.iter_pages(
                endpoint.path, params, stats=stats, restart=lambda m=mark: rows.truncate(m)
            ):
                for record in page.get("data") or []:
                    values, extra = parse_record(record, endpoint.layout)
                    rows.add(
                        {
                            "org_id": org.slug,
                            "usage_date": day.isoformat(),
                            **values,
                            "extra": extra,
                            "fetched_at": fetched_at,
                            "source_request": request,
                        }
                    )
        return Fetched({endpoint.table: rows.frame()}, frozenset(_days(start, end)), "; ".join(requests))

    return fetch


# -- assets ---------------------------------------------------------------------------------------------------
def _soften_sparse(events: Iterable) -> Iterator:
    """``not_empty`` warns (instead of failing) on tables a small organization can leave empty for a day."""
    for event in events:
        if (
            isinstance(event, dg.AssetCheckResult)
            and event.check_name == window_checks.NOT_EMPTY
            and event.asset_key in SPARSE
            and not event.passed
        ):
            yield dg.AssetCheckResult(
                asset_key=event.asset_key,
                check_name=event.check_name,
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    **event.metadata,
                    "note": "this feature can go unused for whole days in a small "
                    "organization; check the window's other tables",
                },
            )
        else:
            yield event


def _dau_checks(table: Table):
    def run(con: duckdb.DuckDBPyConnection, windows: dict[str, list[tuple[date, date]]]):
        return [
            enterprise_checks.dau_result(
                con, table.asset_key, ENTERPRISE_SUMMARY, ENTERPRISE_USER_ACTIVITY, windows
            )
        ]

    return run


def engagement_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The seven raw engagement assets, for every Enterprise organization of ``config``."""
    partitions = daily_by_org(config, "enterprise")
    common = {
        "partitions_def": partitions,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "group_name": GROUP,
        "kinds": {"duckdb", "python"},
        "owners": OWNERS,
    }
    cross = {
        ENTERPRISE_SUMMARY: enterprise_checks.dau_spec(ENTERPRISE_SUMMARY, ENTERPRISE_USER_ACTIVITY),
        ENTERPRISE_USER_ACTIVITY: enterprise_checks.dau_spec(ENTERPRISE_USER_ACTIVITY, ENTERPRISE_SUMMARY),
    }

    def build(table: Table, fetch, max_days: int) -> dg.AssetsDefinition:
        extra_spec = cross.get(table)

        @dg.asset(
            key=table.asset_key,
            description=table.description,
            check_specs=[*window_checks.specs(table), *([extra_spec] if extra_spec else [])],
            **common,
        )
        def _asset(
            context: dg.AssetExecutionContext, analytics_api: EnterpriseAnalyticsApi, duckdb: DuckDBResource
        ):
            yield from _soften_sparse(
                run_windows(
                    context,
                    config=config,
                    api=analytics_api,
                    duckdb=duckdb,
                    tables=[table],
                    schemas=SCHEMAS,
                    fetch=fetch,
                    max_days=max_days,
                    availability=AVAILABILITY,
                    extra_checks=_dau_checks(table) if extra_spec else None,
                )
            )

        return _asset

    return [
        build(ENTERPRISE_SUMMARY, fetch_summaries, SUMMARY_MAX_DAYS),
        *(build(e.table, daily_fetcher(e), 1) for e in DAILY_ENDPOINTS),
    ]

"""The wire layout of each engagement endpoint's record (reference B1-B7): every field and its column."""

from claude_assets.ingest.enterprise_engagement.layout import Field, Layout, int_field, text_field
from claude_assets.warehouse.contract import EMAIL, MONEY, USER_ID
from claude_assets.warehouse.contract import col as _c

OFFICE_APPS = ("excel", "outlook", "powerpoint", "word")
_OFFICE_NAMES = {"excel": "Excel", "outlook": "Outlook", "powerpoint": "PowerPoint", "word": "Word"}
GROUPED_FIELDS = ("rbac_group_id", "rbac_group_name")  # null unless grouped by RBAC group (never requested)


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
        int_field("daily_active_user_count", "users active that day", False),
        int_field("weekly_active_user_count", "users active in the 7 days ending that day", False),
        int_field("monthly_active_user_count", "users active in the 30 days ending that day", False),
        int_field("assigned_seat_count", "seats assigned at the end of the day"),
        int_field("pending_invite_count", "invites pending at the end of the day"),
        *(
            Field(
                f"{w}_adoption_rate",
                _c(f"{w}_adoption_rate", "DOUBLE", f"{w} active users / assigned seats x 100 (a percentage)"),
                "float",
            )
            for w in _WINDOWS
        ),
        *(
            int_field(
                f"{p}_{w}_active_user_count",
                f"{p} {w} active users (null while the per-product breakdown is not "
                "enabled for the organization)",
            )
            for p in _PRODUCTS
            for w in _WINDOWS
        ),
        int_field("science_entitled_user_count", "users entitled to Claude for science"),
    )
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
        text_field("user.id", "the member's user id (user_...)", False, column="user_id", personal=USER_ID),
        text_field("user.email_address", "the member's email address", column="user_email", personal=EMAIL),
        text_field("user.type", "the actor type (user)", column="user_type"),
        Field(
            "last_activity_date",
            _c("last_activity_date", "DATE", "in single-day mode, the requested day"),
            "date",
        ),
        *(
            int_field(p, f"`{p}` (zero-filled when unused; null while the feature is not enabled)")
            for p in USER_METRIC_PATHS
        ),
    ),
    null_ok=("distinct_user_count", *GROUPED_FIELDS),
)


# -- B3-B7 entity endpoints, grouped per user -----------------------------------------------------------------
def _office(field: str, thing: str) -> tuple[Field, ...]:
    return tuple(
        int_field(
            f"office_metrics.{app}.{field}", f"Claude in {_OFFICE_NAMES[app]} sessions that used the {thing}"
        )
        for app in OFFICE_APPS
    )


def _used_in(thing: str, field: str, *, chat: bool = True) -> tuple[Field, ...]:
    """The per-surface counts of conversations or sessions that used ``thing`` (a skill, a connector):
    ``field`` is the metric's name without its ``distinct_…`` prefix, e.g. ``skill_used_count``."""
    conversations = f"distinct_conversation_{field}"
    sessions = f"distinct_session_{field}"
    return (
        *(
            (int_field(f"chat_metrics.{conversations}", f"chat conversations that used the {thing}"),)
            if chat
            else ()
        ),
        int_field(f"claude_code_metrics.{sessions}", f"Claude Code sessions that used the {thing}"),
        int_field(f"cowork_metrics.{sessions}", f"Cowork sessions that used the {thing}"),
        *_office(sessions, thing),
        int_field(
            f"chat_cowork_unified_metrics.chat.{conversations}",
            f"conversations of the unified Chat and Cowork app that used the {thing}",
        ),
        int_field(
            f"chat_cowork_unified_metrics.sessions.{sessions}",
            f"sessions of the unified Chat and Cowork app that used the {thing}",
        ),
    )


_USER_ID = text_field("user_id", "the member the row is about (group_by[]=user_id)", False, personal=USER_ID)
_PRODUCT = text_field(
    "product",
    "the surface the row is about (group_by[]=product): chat, claude_code, cowork, "
    "office_agent or chat_cowork_unified",
    False,
)
_DISTINCT_USERS = int_field("distinct_user_count", "distinct users behind the row (1 on per-user rows)")

PROJECT_LAYOUT = Layout(
    (
        text_field("project_id", "claude_proj_...", False),
        text_field("project_name", "the project's name"),
        Field("created_at", _c("created_at", "TIMESTAMPTZ", "when the project was created"), "instant"),
        text_field(
            "created_by.id",
            "creator's user id (null when unknown or deleted)",
            column="created_by_user_id",
            personal=USER_ID,
        ),
        text_field(
            "created_by.email_address",
            "creator's email address (null when unknown or deleted)",
            column="created_by_email",
            personal=EMAIL,
        ),
        text_field("created_by.type", "creator's actor type (user)", column="created_by_type"),
        _USER_ID,
        _DISTINCT_USERS,
        int_field("message_count", "messages in the project"),
        int_field("distinct_conversation_count", "conversations in the project"),
    ),
    null_ok=GROUPED_FIELDS,
)

SKILL_LAYOUT = Layout(
    (
        text_field("skill_name", "the skill's name (the endpoint's sort key)", False),
        text_field("skill_display_name", "the skill's name as shown to members"),
        text_field("share_status", "organization, private or public"),
        _PRODUCT,
        _USER_ID,
        _DISTINCT_USERS,
        int_field("invocation_count", "times the skill was invoked"),
        int_field("enable_count", "distinct users who enabled the skill (null on per-user rows)"),
        *_used_in("skill", "skill_used_count"),
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
        text_field("currency", "USD when an amount is present"),
    ),
    null_ok=GROUPED_FIELDS,
)

CONNECTOR_LAYOUT = Layout(
    (
        text_field("connector_name", "normalized connector name (e.g. atlassian)", False),
        text_field("connector_display_name", "the connector's name as shown to members"),
        _USER_ID,
        _DISTINCT_USERS,
        *_used_in("connector", "connector_used_count"),
        int_field("read_call_count", "connector calls that read data"),
        int_field("write_call_count", "connector calls that wrote data"),
        int_field("unclassified_call_count", "connector calls classified as neither read nor write"),
        int_field(
            "managed_auth_distinct_user_count",
            "1 when the member used the connector with organization-managed auth",
        ),
        int_field(
            "individual_auth_distinct_user_count",
            "1 when the member used the connector with their own credentials",
        ),
    ),
    null_ok=("product", *GROUPED_FIELDS),
)

PLUGIN_LAYOUT = Layout(
    (
        text_field("plugin_name", "plugin name; `third-party` is an aggregate bucket", False),
        text_field("plugin_id", "the plugin's id; null when the API gives none"),
        _PRODUCT,
        _USER_ID,
        _DISTINCT_USERS,
        int_field("invocation_count", "times the plugin was invoked"),
        int_field("install_count", "times the plugin was installed; null when the API gives none"),
        int_field(
            "claude_code_metrics.distinct_session_plugin_used_count",
            "Claude Code sessions that used the plugin",
        ),
        int_field(
            "cowork_metrics.distinct_session_plugin_used_count", "Cowork sessions that used the plugin"
        ),
    ),
    null_ok=GROUPED_FIELDS,
)

ARTIFACT_LAYOUT = Layout(
    (
        text_field("artifact_type", "MIME type or `other`", False),
        Field("is_shared", _c("is_shared", "BOOLEAN", "whether the artifacts were shared", False), "bool"),
        _PRODUCT,
        _USER_ID,
        int_field("artifacts_created_count", "artifacts created"),
        int_field("published_artifacts_created_count", "artifacts created that were published"),
        _DISTINCT_USERS,
    ),
    null_ok=GROUPED_FIELDS,
)

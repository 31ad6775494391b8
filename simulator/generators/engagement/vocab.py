"""Engagement vocabularies: products, Office apps, artifact types, data-start dates and the user record layout."""

from __future__ import annotations

from datetime import date

# -- products and fixed vocabularies ----------------------------------------------------------------
CHAT, CODE, COWORK, OFFICE = 0, 1, 2, 3
PRODUCTS = ("chat", "claude_code", "cowork", "office_agent")
PRODUCT_CODE = {p: i for i, p in enumerate(PRODUCTS)}
OFFICE_APPS = ("excel", "outlook", "powerpoint", "word")

#: Canonical artifact MIME types (8 values incl. ``other``), in sort order.
ARTIFACT_TYPES = (
    "application/vnd.ant.code",
    "application/vnd.ant.mermaid",
    "application/vnd.ant.react",
    "image/svg+xml",
    "other",
    "text/csv",
    "text/html",
    "text/markdown",
)
ARTIFACT_CHAT_WEIGHTS = (0.22, 0.06, 0.16, 0.05, 0.04, 0.05, 0.12, 0.30)
HTML_TYPE = ARTIFACT_TYPES.index("text/html")

#: Data-start dates documented in the SDK 2.12 field descriptions.
CODE_COWORK_ARTIFACTS_FROM = date(2026, 8, 17)
CALL_SPLIT_FROM = date(2026, 5, 29)  # read/write/unclassified connector calls: null before
CLASSIFIED_FROM = {
    CHAT: date(2026, 6, 1),
    CODE: date(2026, 5, 30),
    OFFICE: date(2026, 5, 29),
    COWORK: date(2026, 6, 2),
}
MANAGED_AUTH_FROM = date(2026, 7, 1)
OFFICE_ATTRIBUTION_FROM = date(2026, 6, 18)

AUTH_NONE, AUTH_MANAGED, AUTH_INDIVIDUAL = 0, 1, 2


# -- the /analytics/users record as flat columns ----------------------------------------------------
def _office(app: str) -> list[str]:
    return [
        f"office_metrics.{app}.{k}"
        for k in (
            "distinct_session_count",
            "message_count",
            "skills_used_count",
            "distinct_skills_used_count",
            "connectors_used_count",
            "distinct_connectors_used_count",
        )
    ]


#: Numeric leaves of the user record, in wire order (None = always null "while not enabled").
USER_LAYOUT: tuple[tuple[str, bool], ...] = tuple(
    [
        (p, True)
        for p in (
            "chat_metrics.message_count",
            "chat_metrics.thinking_message_count",
            "chat_metrics.distinct_conversation_count",
            "chat_metrics.distinct_files_uploaded_count",
            "chat_metrics.distinct_projects_created_count",
            "chat_metrics.distinct_projects_used_count",
            "chat_metrics.distinct_artifacts_created_count",
            "chat_metrics.distinct_shared_artifacts_viewed_count",
            "chat_metrics.distinct_skills_used_count",
            "chat_metrics.connectors_used_count",
            "chat_metrics.distinct_connectors_used_count",
            "chat_metrics.shared_conversations_viewed_count",
            "claude_code_metrics.core_metrics.distinct_session_count",
            "claude_code_metrics.core_metrics.commit_count",
            "claude_code_metrics.core_metrics.pull_request_count",
            "claude_code_metrics.core_metrics.artifacts_created_count",
            "claude_code_metrics.core_metrics.lines_of_code.added_count",
            "claude_code_metrics.core_metrics.lines_of_code.removed_count",
            *(
                f"claude_code_metrics.tool_actions.{t}.{k}"
                for t in ("edit_tool", "multi_edit_tool", "notebook_edit_tool", "write_tool")
                for k in ("accepted_count", "rejected_count")
            ),
            "cowork_metrics.distinct_session_count",
            "cowork_metrics.message_count",
            "cowork_metrics.action_count",
            "cowork_metrics.dispatch_turn_count",
            "cowork_metrics.skills_used_count",
            "cowork_metrics.distinct_skills_used_count",
            "cowork_metrics.connectors_used_count",
            "cowork_metrics.distinct_connectors_used_count",
            "cowork_metrics.artifacts_created_count",
        )
    ]
    + [
        (f"cowork_metrics.{p}", False)
        for p in (
            "plugins_used_count",
            "distinct_plugins_used_count",
            "file_edit_count",
            "edit_tool_count",
            "multi_edit_tool_count",
            "write_tool_count",
            "notebook_edit_tool_count",
            "sessions_with_file_edits_count",
        )
    ]
    + [
        (p, True)
        for p in (
            "design_metrics.distinct_session_count",
            "design_metrics.message_count",
            "design_metrics.distinct_projects_created_count",
            "design_metrics.distinct_projects_used_count",
            *(p for app in OFFICE_APPS for p in _office(app)),
            "science_metrics.distinct_session_count",
            "science_metrics.message_count",
            "science_metrics.delegation_count",
            "science_metrics.remote_compute_job_count",
            "science_metrics.skills_used_count",
            "web_search_count",
            "claude_tag_metrics.active_day_count",
            "claude_tag_metrics.active_message_count",
        )
    ]
)
USER_COLUMNS = tuple(p for p, enabled in USER_LAYOUT if enabled)

#: Distinct counts over entities a user can use on several days / several users can share. In
#: date-range mode they are recomputed exactly from the events; on rows aggregated across users they
#: cannot be computed and are null (as documented: "Null on aggregated rows where a distinct count
#: cannot be computed").
ENTITY_DISTINCT = {
    "chat_metrics.distinct_projects_used_count": ("projects", None, None),
    "chat_metrics.distinct_skills_used_count": ("skills", CHAT, None),
    "chat_metrics.distinct_connectors_used_count": ("connectors", CHAT, None),
    "cowork_metrics.distinct_skills_used_count": ("skills", COWORK, None),
    "cowork_metrics.distinct_connectors_used_count": ("connectors", COWORK, None),
    **{
        f"office_metrics.{app}.distinct_skills_used_count": ("skills", OFFICE, i)
        for i, app in enumerate(OFFICE_APPS)
    },
    **{
        f"office_metrics.{app}.distinct_connectors_used_count": ("connectors", OFFICE, i)
        for i, app in enumerate(OFFICE_APPS)
    },
}
#: Distinct counts with no event trail: null in date-range mode and on aggregated rows.
UNTRACKED_DISTINCT = (
    "chat_metrics.distinct_shared_artifacts_viewed_count",
    "design_metrics.distinct_projects_used_count",
)

"""Every Enterprise usage and cost report route."""

from __future__ import annotations

from simulator.routes.context import Endpoint
from simulator.routes.reports.beta import cost, usage
from simulator.routes.reports.bucketed import cost_report, usage_report
from simulator.routes.reports.params import BASE
from simulator.routes.reports.per_user import user_cost_report, user_usage_report

ANALYTICS = ("analytics",)
#: B12/B13: the beta usage and cost reports also take an Admin key, or a personal or service-account API
#: key not scoped to a workspace (a workspace key does not work)
USAGE_COST_KEYS = ("analytics", "admin", "personal", "service_account")
#: B8 (and B9): the legacy bucketed reports
LEGACY_PARAMS = (
    "starting_at",
    "ending_at",
    "bucket_width",
    "limit",
    "page",
    "group_by[]",
    "products[]",
    "models[]",
    "user_ids[]",
    "rbac_group_ids[]",
    "slack_channel_ids[]",
    "context_windows[]",
    "inference_geos[]",
    "speeds[]",
    "claude_tag_categories[]",
    "claude_tag_user_ids[]",
)
#: B10/B11: the per-user reports add the ranking
PER_USER_PARAMS = (*LEGACY_PARAMS, "order_by", "order", "exclude_deleted_users")
#: B12: the beta usage and cost reports
BETA_PARAMS = (
    "starting_at",
    "ending_at",
    "time_bucket_width",
    "limit",
    "page",
    "order",
    "order_by",
    "exclude_deleted_users",
    "group_by[]",
    *(
        f"{name}[]"
        for name in (
            "actor_ids",
            "actor_types",
            "agent_ids",
            "api_key_ids",
            "claude_tag_categories",
            "claude_tag_user_ids",
            "context_windows",
            "deployment_ids",
            "environment_ids",
            "inference_geos",
            "models",
            "organization_ids",
            "products",
            "rbac_group_ids",
            "service_tiers",
            "session_ids",
            "slack_channel_ids",
            "speeds",
            "user_profile_ids",
            "workspace_ids",
        )
    ),
)

ENDPOINTS: list[Endpoint] = [
    Endpoint(f"{BASE}/usage_report", usage_report, ANALYTICS, LEGACY_PARAMS),
    Endpoint(f"{BASE}/cost_report", cost_report, ANALYTICS, LEGACY_PARAMS),
    Endpoint(f"{BASE}/user_usage_report", user_usage_report, ANALYTICS, PER_USER_PARAMS),
    Endpoint(f"{BASE}/user_cost_report", user_cost_report, ANALYTICS, PER_USER_PARAMS),
    Endpoint(f"{BASE}/usage", usage, USAGE_COST_KEYS, BETA_PARAMS),
    Endpoint(f"{BASE}/cost", cost, USAGE_COST_KEYS, BETA_PARAMS),
]

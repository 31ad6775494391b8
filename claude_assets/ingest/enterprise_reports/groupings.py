"""The groupings of the bucketed reports: each is one ``group_by[]``, tagged on its rows in column ``grouping``."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Grouping:
    """One ``group_by[]`` of a bucketed report: its rows add up to the total unless groups overlap."""

    name: str
    group_by: tuple[str, ...]
    partitions: bool = True


TOTAL = Grouping("total", ())
PRODUCT_MODEL = Grouping("product_model", ("product", "model", "context_window", "inference_geo", "speed"))
TOKEN_TYPE = Grouping("token_type", ("model", "cost_type", "token_type"))
CLAUDE_TAG = Grouping("claude_tag", ("slack_channel_id", "claude_tag_category", "claude_tag_user_id"))
RBAC_GROUP = Grouping("rbac_group", ("rbac_group_id", "product"), partitions=False)
USAGE_GROUPINGS = (TOTAL, PRODUCT_MODEL, CLAUDE_TAG, RBAC_GROUP)
COST_GROUPINGS = (TOTAL, PRODUCT_MODEL, TOKEN_TYPE, CLAUDE_TAG, RBAC_GROUP)

# -- the Usage and Cost Analytics API (B12): at most 5 group_by[] dimensions a request (cost_type and token_type
# not counted), so its 20 dimensions are read under these groupings; every one comes back whole (no top-N cut)
ANALYTICS_BILLING = Grouping(
    "billing", ("workspace_id", "model", "service_tier", "context_window", "inference_geo")
)
ANALYTICS_ACTOR = Grouping("actor", ("actor", "actor_type", "product", "model", "speed"))
ANALYTICS_API_KEY = Grouping("api_key", ("api_key_id", "workspace_id", "organization_id", "product"))
ANALYTICS_CLAUDE_TAG = Grouping(
    "claude_tag", ("slack_channel_id", "claude_tag_category", "claude_tag_user_id", "product")
)
ANALYTICS_RBAC_GROUP = Grouping("rbac_group", ("rbac_group_id", "product"), partitions=False)
ANALYTICS_AGENTS = Grouping(
    "managed_agents", ("agent_id", "deployment_id", "environment_id", "session_id", "user_profile_id")
)
ANALYTICS_GROUPINGS = (
    TOTAL,
    ANALYTICS_BILLING,
    ANALYTICS_ACTOR,
    ANALYTICS_API_KEY,
    ANALYTICS_CLAUDE_TAG,
    ANALYTICS_RBAC_GROUP,
    ANALYTICS_AGENTS,
)
#: the cost endpoint splits these groupings further by cost type (and the billing one by token type)
ANALYTICS_COST_SPLIT = {"billing": ("cost_type", "token_type"), "actor": ("cost_type",)}

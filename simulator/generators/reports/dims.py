"""Report dimensions: the wire names of each report family and the record column behind each."""

from __future__ import annotations

#: Dimension fields of the legacy rows, in the documented order.
LEGACY_DIMS = (
    "product",
    "model",
    "context_window",
    "inference_geo",
    "speed",
    "rbac_group_id",
    "slack_channel_id",
    "claude_tag_category",
    "claude_tag_user_id",
)
LEGACY_GROUP_BY = tuple(sorted(LEGACY_DIMS))
LEGACY_COST_GROUP_BY = tuple(sorted((*LEGACY_DIMS, "cost_type", "token_type")))
V2_DIMS = (
    "actor",
    "actor_type",
    "agent_id",
    "api_key_id",
    "claude_tag_category",
    "claude_tag_user_id",
    "context_window",
    "deployment_id",
    "environment_id",
    "inference_geo",
    "model",
    "organization_id",
    "product",
    "rbac_group_id",
    "service_tier",
    "session_id",
    "slack_channel_id",
    "speed",
    "user_profile_id",
    "workspace_id",
)
COST_DIMS = ("cost_type", "token_type")
#: Beta dimensions constant over an Enterprise organization's usage, so they never split its rows: null
#: where it has no such usage (seat usage has no API key, agent, deployment, environment, session or user
#: profile; its only workspace is the default one, null), one value otherwise (``organization_id``, and
#: ``service_tier``, which SDK 2.13 no longer documents as null for Enterprise usage: reference B13).
CONSTANT_DIMS = frozenset(
    {
        "agent_id",
        "api_key_id",
        "deployment_id",
        "environment_id",
        "organization_id",
        "service_tier",
        "session_id",
        "user_profile_id",
        "workspace_id",
    }
)
#: Beta dimensions a Console (Claude Platform) organization's usage splits on.
CONSOLE_DIMS = (
    "actor",
    "actor_type",
    "api_key_id",
    "workspace_id",
    "service_tier",
    "product",
    "model",
    "context_window",
    "inference_geo",
    "speed",
)
CONSOLE_CONSTANT_DIMS = frozenset(set(V2_DIMS) - set(CONSOLE_DIMS))
#: Record column behind each dimension.
COLUMN = {
    "product": "product",
    "model": "model",
    "context_window": "cw",
    "inference_geo": "geo",
    "speed": "speed",
    "rbac_group_id": "rbac",
    "slack_channel_id": "channel",
    "claude_tag_category": "tag_cat",
    "claude_tag_user_id": "tag_user",
    "actor": "user",
    "actor_type": "actor_type",
}

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

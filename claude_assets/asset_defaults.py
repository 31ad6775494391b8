"""What every asset of the project declares alike: owner, kinds, and how a partitioned table becomes a spec.

Asset packages build their definitions from these, so a change of owner or of the partitioning
policy is made once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.partitions import daily_by_org
from claude_assets.warehouse.contract import Table

OWNERS = ["team:data-platform"]  # the owner every asset of this project declares
KINDS = {"duckdb", "python"}
#: the external source assets: the Anthropic API endpoint families the raw assets read
SOURCES_GROUP = "sources"
SOURCE_KINDS = {"claude", "api"}
#: the Dagster pool of every asset that writes the DuckDB file: DuckDB allows one writing process, so the
#: instance limits the pool to one step at a time (demo/settings.py) and other runs' steps wait their turn
WAREHOUSE_POOL = "duckdb_warehouse"


def daily_by_org_args(
    config: ProjectConfig,
    kind: str,
    group: str,
    published_after: timedelta = timedelta(0),
    orgs: Sequence[OrgConfig] | None = None,
) -> dict:
    """``@dg.asset`` / ``@dg.multi_asset`` arguments of a date x organization asset of API family ``kind``:
    its partitions (up to the newest day its source has published, for ``orgs`` or every organization of the
    kind), one run per backfill (assets read ranges, never one partition), group, kinds, owner."""
    return {
        "partitions_def": daily_by_org(config, kind, published_after, orgs),
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "group_name": group,
        "kinds": KINDS,
        "owners": OWNERS,
        "pool": WAREHOUSE_POOL,
    }


def source_spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    """An Anthropic API endpoint family as an external asset (group ``sources``): the raw assets it feeds
    depend on it, so the lineage starts at the API. Nothing materializes it."""
    return dg.AssetSpec(
        key, description=description, group_name=SOURCES_GROUP, kinds=SOURCE_KINDS, owners=OWNERS
    )


def table_spec(table: Table, group: str, **extra) -> dg.AssetSpec:
    """The spec of one table of a multi-asset: its key and description come from the declaration."""
    return dg.AssetSpec(
        table.asset_key, description=table.description, group_name=group, kinds=KINDS, owners=OWNERS, **extra
    )

"""What every asset of the project declares alike: owners, kinds, column schema, and how a partitioned table
becomes a spec.

Asset packages build their definitions from these, so a change of the partitioning policy is made once;
the code location then gives every asset the owners its group has in the configuration (``with_owners``)
and every table's declared columns (``with_column_schemas``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import dagster as dg

from claude_assets.config import ConfigError, OrgConfig, ProjectConfig
from claude_assets.partitions import daily_by_org
from claude_assets.warehouse.contract import Table

KINDS = {"duckdb", "python"}
#: the external source assets: the Anthropic API endpoint families the raw assets read
SOURCES_GROUP = "sources"
SOURCE_KINDS = {"claude", "api"}
#: the Dagster pool of every asset that writes the DuckDB file: DuckDB allows one writing process, so the
#: instance limits the pool to one step at a time (demo/settings.py) and other runs' steps wait their turn
WAREHOUSE_POOL = "duckdb_warehouse"


def daily_by_org_args(
    config: ProjectConfig,
    kind: str | None,
    group: str,
    published_after: timedelta = timedelta(0),
    orgs: Sequence[OrgConfig] | None = None,
) -> dict:
    """``@dg.asset`` / ``@dg.multi_asset`` arguments of a date x organization asset of API family ``kind``
    (None: an API every kind of organization serves): its partitions (up to the newest day its source has
    published, for ``orgs`` or every organization of the kind), one run per backfill (assets read ranges, never
    one partition), group, kinds (its owners come from ``with_owners``)."""
    return {
        "partitions_def": daily_by_org(config, kind, published_after, orgs),
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "group_name": group,
        "kinds": KINDS,
        "pool": WAREHOUSE_POOL,
    }


def source_spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    """An Anthropic API endpoint family as an external asset (group ``sources``): the raw assets it feeds
    depend on it, so the lineage starts at the API. Nothing materializes it."""
    return dg.AssetSpec(key, description=description, group_name=SOURCES_GROUP, kinds=SOURCE_KINDS)


def table_spec(table: Table, group: str, **extra) -> dg.AssetSpec:
    """The spec of one table of a multi-asset: its key and description come from the declaration (its owners
    from ``with_owners``, its column schema from ``with_column_schemas``)."""
    return dg.AssetSpec(
        table.asset_key,
        description=table.description,
        group_name=group,
        kinds=KINDS,
        **extra,
    )


def _map_specs(assets: Sequence[object], fn) -> list[object]:
    return [
        dg.map_asset_specs(fn, [a])[0] if isinstance(a, dg.AssetsDefinition | dg.AssetSpec) else a
        for a in assets
    ]


def with_owners(assets: Sequence[object], config: ProjectConfig) -> list[object]:
    """``assets`` with the owners the configuration gives their group (``owners:``, ``OwnersConfig``).

    A group named in ``owners.groups`` that no asset belongs to is a ConfigError naming it and the groups
    there are, so a misspelt group does not silently leave its assets with the default owners."""
    groups = {
        spec.group_name
        for a in assets
        if isinstance(a, dg.AssetsDefinition | dg.AssetSpec)
        for spec in _specs(a)
    }
    unknown = sorted(set(config.owners.groups) - groups)
    if unknown:
        raise ConfigError(
            f"owners.groups: no asset group named {', '.join(map(repr, unknown))}; the groups are "
            f"{', '.join(sorted(g for g in groups if g))}"
        )
    return _map_specs(
        assets, lambda spec: spec.replace_attributes(owners=config.owners.of_group(spec.group_name))
    )


def with_column_schemas(assets: Sequence[object], tables: Iterable[Table]) -> list[object]:
    """``assets`` with each declared table's column schema (names, types, descriptions) in their definition's
    metadata, so the UI shows the columns before the first materialization."""
    by_key = {t.asset_key: t for t in tables}

    def described(spec: dg.AssetSpec) -> dg.AssetSpec:
        table = by_key.get(spec.key)
        if table is None:
            return spec
        return spec.replace_attributes(
            metadata={**spec.metadata, "dagster/column_schema": table.dagster_schema()}
        )

    return _map_specs(assets, described)


def _specs(asset: dg.AssetsDefinition | dg.AssetSpec) -> Iterable[dg.AssetSpec]:
    return [asset] if isinstance(asset, dg.AssetSpec) else asset.specs

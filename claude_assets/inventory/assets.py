"""Dagster definitions of the Console inventory: one multi-asset writing the history tables, downstream of the
Admin API's organization endpoints (an external asset of group ``sources``)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from checks import inventory as inventory_checks
from claude_assets.asset_defaults import WAREHOUSE_POOL, source_spec, table_spec
from claude_assets.config import ProjectConfig
from claude_assets.inventory.fetch import API_KEYS, INVITES, ME, USERS, WORKSPACES
from claude_assets.inventory.snapshot import run_snapshots
from claude_assets.inventory.tables import ENTITIES, TABLES
from claude_assets.partitions import organizations
from resources.apis import ConsoleAdminApi

GROUP = "inventory"
SOURCE = dg.AssetKey(["anthropic", "console", "inventory"])


def inventory_sources(config: ProjectConfig) -> list[dg.AssetSpec]:
    """The Admin API's organization endpoints the inventory reads (none without a Console organization)."""
    if not config.of_kind("console"):
        return []
    return [
        source_spec(
            SOURCE,
            f"Console organization inventory, GET {ME}, {WORKSPACES}, {WORKSPACES}/{{workspace_id}}/members, "
            f"{USERS}, {INVITES} and {API_KEYS} (reference A4-A9): the organization, its workspaces, members, "
            "users, invites and API keys as they stand now (no history at the source). Feeds the inventory "
            "tables. Read with each Console organization's Admin API key (sk-ant-admin01-...).",
        )
    ]


def inventory_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The Console inventory: one multi-asset writing six history tables, partitioned by organization (none
    without a Console organization)."""
    if not config.of_kind("console"):
        return []

    @dg.multi_asset(
        name="inventory__console",
        specs=[table_spec(t, GROUP, deps=[SOURCE]) for t in TABLES],
        check_specs=[s for e in ENTITIES for s in inventory_checks.specs(e.table, e.expect_rows)],
        partitions_def=organizations(config, "console"),
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
    )
    def console_inventory(
        context: dg.AssetExecutionContext, console_api: ConsoleAdminApi, duckdb: DuckDBResource
    ):
        """Snapshot each selected Console organization's inventory (organization, workspaces, users, invites,
        workspace members, API keys) through the Admin API and apply it to the history tables: fetch
        everything first, validate it, then one DuckDB transaction per organization."""
        yield from run_snapshots(context, config=config, api=console_api, duckdb=duckdb)

    return [console_inventory]

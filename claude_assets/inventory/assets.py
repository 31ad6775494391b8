"""Dagster definitions of the Console inventory: one multi-asset writing the history tables."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from checks import inventory as inventory_checks
from claude_assets.asset_defaults import WAREHOUSE_POOL, table_spec
from claude_assets.config import ProjectConfig
from claude_assets.inventory.snapshot import run_snapshots
from claude_assets.inventory.tables import ENTITIES, TABLES
from claude_assets.partitions import organizations
from resources.apis import ConsoleAdminApi

GROUP = "inventory"


def inventory_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The Console inventory: one multi-asset writing six history tables, partitioned by organization."""

    @dg.multi_asset(
        name="inventory__console",
        specs=[table_spec(t, GROUP) for t in TABLES],
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

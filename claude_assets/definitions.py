"""The Dagster code location: ``dagster dev -m claude_assets.definitions``.

Organizations come from ``CLAUDE_ASSETS_CONFIG`` or the key variables (see ``claude_assets.config``);
the warehouse is ``$CLAUDE_ASSETS_WAREHOUSE`` (default ``data/warehouse.duckdb``).
"""

from __future__ import annotations

import os
import warnings
from contextlib import suppress
from pathlib import Path

import dagster as dg

from claude_assets.asset_defaults import with_column_schemas, with_owners
from claude_assets.automation.downstream import downstream_automation_sensor, with_downstream_automation
from claude_assets.automation.provisional import provisional_repull_sensor
from claude_assets.automation.readiness import readiness_automation
from claude_assets.automation.revisions import metric_revision_check, metric_revision_sensor
from claude_assets.catalog import declared_tables
from claude_assets.config import ProjectConfig, check_warehouse_path, load_config
from claude_assets.exports.assets import exports_assets
from claude_assets.facts.assets import facts_assets
from claude_assets.ingest.console.assets import console_assets, console_sources
from claude_assets.ingest.enterprise_engagement.assets import engagement_assets, engagement_sources
from claude_assets.ingest.enterprise_reports.assets import report_assets, report_sources
from claude_assets.insights.assets import insights_assets
from claude_assets.inventory.assets import inventory_assets, inventory_sources
from claude_assets.jobs import project_jobs
from claude_assets.privacy.jobs import retention_job, retention_schedule
from claude_assets.privacy.pseudonyms import Pseudonyms
from claude_assets.warehouse.resource import Warehouse
from resources.apis import ConsoleAdminApi, EnterpriseAnalyticsApi

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"

# The project relies on two Dagster features marked beta in 1.13: the single-run backfill policy (every raw
# and derived asset reads a range of days in one run) and the mapping from date x organization partitions to
# date ones (the facts read every organization of a day). Dagster warns at each asset that uses them, every
# time a process loads the code location (the webserver, the daemon, every run); the choice is made, so the
# warning is silenced here, for these two features only: any other beta feature still warns.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy` of function", category=dg.BetaWarning)
warnings.filterwarnings(
    "ignore", message=r"Class `MultiToSingleDimensionPartitionMapping`", category=dg.BetaWarning
)
# the monthly unit economics read the days that exist of the current month (claude_assets.insights)
warnings.filterwarnings(
    "ignore", message=r"Parameter `allow_nonexistent_upstream_partitions`", category=dg.BetaWarning
)


def warehouse_path() -> str:
    path = os.environ.get("CLAUDE_ASSETS_WAREHOUSE", DEFAULT_WAREHOUSE)
    with suppress(OSError):  # one that cannot be created is reported by each run, before any request
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return path


def sources(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The Anthropic API endpoint families the configured organizations are read through (group ``sources``):
    external assets at the top of the lineage, one per endpoint family and organization kind. Each spec is
    wrapped as a (non-executable) ``AssetsDefinition``, so every item of ``Definitions.assets`` is one."""
    specs = [
        *console_sources(config),
        *inventory_sources(config),
        *engagement_sources(config),
        *report_sources(config),
    ]
    return [dg.AssetsDefinition(specs=[spec]) for spec in specs]


def build_definitions(config: ProjectConfig, warehouse: str | None = None) -> dg.Definitions:
    """Sources, raw (groups ``console``, ``enterprise`` and ``analytics``), inventory, facts, exports and
    insights, for the organizations of ``config``: an asset no configured organization uses is not defined."""
    Pseudonyms.of(config)  # pseudonymization on without its secret: a configuration error now, not mid-run
    retention = retention_job(config)
    assets = [
        *console_assets(config),
        *inventory_assets(config),
        *engagement_assets(config),
        *report_assets(config),
        *facts_assets(config),
        *exports_assets(config),
        *insights_assets(config),
    ]
    assets = with_downstream_automation(assets)  # facts and exports follow their raw days
    external = sources(config)
    owned = with_owners([*external, *with_column_schemas(assets, declared_tables())], config)
    external, assets = owned[: len(external)], owned[len(external) :]
    automation = readiness_automation(config, assets)  # running by default (README, "Automation")
    revised = metric_revision_check(config, assets)
    revision_sensor = metric_revision_sensor(config, assets, default_status=dg.DefaultSensorStatus.RUNNING)
    return dg.Definitions(
        assets=[*external, *assets],
        asset_checks=[*automation.checks, *([revised] if revised else [])],
        jobs=[retention, *project_jobs(assets)],  # the named jobs of the UI (claude_assets.jobs)
        schedules=[retention_schedule(config, retention)],  # stopped unless privacy.retention_months is set
        sensors=[
            *automation.sensors,
            provisional_repull_sensor(assets, default_status=dg.DefaultSensorStatus.RUNNING),
            *([revision_sensor] if revision_sensor else []),  # only with a revised table
            downstream_automation_sensor(),  # running by default
        ],
        resources={
            "console_api": ConsoleAdminApi(),
            "analytics_api": EnterpriseAnalyticsApi(),
            "duckdb": Warehouse(database=check_warehouse_path(warehouse or warehouse_path())),
        },
        # DuckDB has one writer: every step of a run executes in the run's process
        executor=dg.in_process_executor,
    )


defs = build_definitions(load_config())

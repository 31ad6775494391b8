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

from claude_assets.automation.downstream import downstream_automation_sensor, with_downstream_automation
from claude_assets.automation.provisional import provisional_repull_sensor
from claude_assets.automation.readiness import readiness_automation
from claude_assets.config import ProjectConfig, check_warehouse_path, load_config
from claude_assets.exports.assets import exports_assets
from claude_assets.facts.assets import facts_assets
from claude_assets.ingest.console.assets import console_assets
from claude_assets.ingest.enterprise_engagement.assets import engagement_assets
from claude_assets.ingest.enterprise_reports.assets import report_assets
from claude_assets.insights.assets import insights_assets
from claude_assets.inventory.assets import inventory_assets
from claude_assets.jobs import project_jobs
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


def warehouse_path() -> str:
    path = os.environ.get("CLAUDE_ASSETS_WAREHOUSE", DEFAULT_WAREHOUSE)
    with suppress(OSError):  # one that cannot be created is reported by each run, before any request
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return path


def build_definitions(config: ProjectConfig, warehouse: str | None = None) -> dg.Definitions:
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
    automation = readiness_automation(config, assets)  # running by default (README, "Automation")
    return dg.Definitions(
        assets=assets,
        asset_checks=automation.checks,
        jobs=project_jobs(assets),  # the named jobs of the UI (claude_assets.jobs)
        sensors=[
            *automation.sensors,
            provisional_repull_sensor(assets, default_status=dg.DefaultSensorStatus.RUNNING),
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

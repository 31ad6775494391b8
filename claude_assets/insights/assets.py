"""Every Dagster asset of the insights layer (group ``insights``), assembled from its packages."""

import dagster as dg

from claude_assets.config import ProjectConfig
from claude_assets.insights.alerts.assets import alerts_asset
from claude_assets.insights.anomalies.assets import cost_anomalies_asset
from claude_assets.insights.budgets.assets import budget_assets
from claude_assets.insights.unit_economics.assets import unit_economics_assets

GROUP = "insights"


def insights_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """Every insights asset, for the organizations of ``config``."""
    return [
        cost_anomalies_asset(config, GROUP),
        *budget_assets(config),
        alerts_asset(config),
        *unit_economics_assets(config),
    ]

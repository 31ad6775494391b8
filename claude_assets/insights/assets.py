"""Every Dagster asset of the insights layer (group ``insights``), assembled from its packages."""

import dagster as dg

from claude_assets.config import ProjectConfig
from claude_assets.insights.unit_economics.assets import unit_economics_assets

GROUP = "insights"


def insights_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """Every insights asset, for the organizations of ``config``."""
    return [*unit_economics_assets(config)]

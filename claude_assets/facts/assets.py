"""Dagster definitions of the facts layer (group ``facts``): each table's asset, built from its module."""

import dagster as dg

from claude_assets.config import ProjectConfig

GROUP = "facts"


def facts_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """Every facts asset, for the organizations of ``config`` (the facts are partitioned by day only)."""
    return []

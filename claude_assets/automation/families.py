"""The source families the readiness sensors watch: their tables, probe, delays and timing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import dagster as dg

from claude_assets.automation import probes
from claude_assets.config import OrgConfig, ProjectConfig, SourceTiming
from claude_assets.ingest.console.tables import (
    CLAUDE_CODE_MODELS,
    CLAUDE_CODE_USAGE,
    CONSOLE_COST,
    CONSOLE_USAGE,
)
from claude_assets.ingest.enterprise_engagement.tables import TABLES as ENGAGEMENT_TABLES
from claude_assets.ingest.enterprise_reports.tables import BETA_TABLES, LEGACY_TABLES
from claude_assets.warehouse.contract import Table

API_RESOURCE = {"console": "console_api", "enterprise": "analytics_api"}


@dataclass(frozen=True)
class Family:
    """One source family: the tables one request of its API fills, run together for a partition."""

    name: str  # the key of its timing in ``source_timing``; the sensor is ``<name>_ready``
    label: str  # named in alerts
    kind: str  # console | enterprise
    tables: tuple[Table, ...]
    probe: probes.ProbeFn
    #: how long after a day ends the source holds all of it (``day_complete_after``)
    delay: Callable[[ProjectConfig], timedelta]
    #: how long after a day ends the source may still revise it (``day_revisable_for``)
    revisable_for: Callable[[ProjectConfig], timedelta] = lambda c: timedelta(0)
    watermarked: bool = False  # its pages carry data_refreshed_at (revisions are known by it)
    beta_only: bool = False  # read only for organizations that read the beta analytics (reads_analytics_beta)

    @property
    def sensor_name(self) -> str:
        return f"{self.name}_ready"

    @property
    def resource_key(self) -> str:
        return API_RESOURCE[self.kind]

    @property
    def asset_keys(self) -> list[dg.AssetKey]:
        return [t.asset_key for t in self.tables]

    def timing(self, config: ProjectConfig) -> SourceTiming:
        return getattr(config.source_timing, self.name)

    def organizations(self, config: ProjectConfig) -> list[OrgConfig]:
        if self.beta_only:
            return list(config.reading_analytics_beta())
        return list(config.of_kind(self.kind))


FAMILIES = (
    Family(
        "console_usage",
        "Console usage report",
        "console",
        (CONSOLE_USAGE,),
        probes.console_usage,
        lambda c: c.day_complete_after.console_usage,
        lambda c: c.day_revisable_for.console,
    ),
    Family(
        "console_cost",
        "Console cost report",
        "console",
        (CONSOLE_COST,),
        probes.console_cost,
        lambda c: c.day_complete_after.console_cost,
        lambda c: c.day_revisable_for.console,
    ),
    Family(
        "claude_code",
        "Claude Code analytics",
        "console",
        (CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS),
        probes.claude_code,
        lambda c: c.day_complete_after.claude_code,
        lambda c: c.day_revisable_for.console,
    ),
    Family(
        "engagement",
        "Enterprise engagement",
        "enterprise",
        tuple(ENGAGEMENT_TABLES),
        probes.engagement,
        lambda c: timedelta(0),
        lambda c: c.day_revisable_for.enterprise_engagement,
    ),
    Family(
        "enterprise_reports",
        "Enterprise usage and cost reports",
        "enterprise",
        tuple(LEGACY_TABLES),
        probes.enterprise_reports,
        lambda c: c.day_complete_after.enterprise_reports,
        lambda c: c.day_revisable_for.enterprise_reports,
        watermarked=True,
    ),
    Family(
        "analytics_beta",
        "Enterprise usage and cost analytics (beta)",
        "enterprise",
        tuple(BETA_TABLES),
        probes.analytics_beta,
        lambda c: c.day_complete_after.enterprise_reports,
        lambda c: c.day_revisable_for.enterprise_reports,
        watermarked=True,
        beta_only=True,
    ),
)

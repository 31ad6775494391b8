"""The named jobs a person launches from the Dagster UI (Jobs, then "Materialize" or a backfill of a range).

A Dagster job has one partitions definition, and this project has five: the Console raw tables are
``date x Console organization``, the Enterprise ones ``date x Enterprise organization``, the Usage and Cost
Analytics ones ``date x every organization that reads it``, the inventory one partition per Console
organization, and the layers built from the raw days (facts, exports, insights)
a UTC day (the monthly unit economics a month). So the work a person names in one word is split where
the partitions differ:

- ``daily_refresh_console``, ``daily_refresh_enterprise_reports``, ``daily_refresh_engagement``: the latest
  days of the raw tables of one family whose partitions end alike (the engagement's end a day earlier).
  The facts, exports and insights of those days follow by themselves (the ``downstream_automation``
  sensor), or run ``rebuild_facts`` over the same days.
- ``backfill_console``, ``backfill_engagement``, ``backfill_enterprise_reports``, ``backfill_analytics``,
  ``backfill_inventory``:
  one source family over any range of days (the inventory: a snapshot per organization).
- ``rebuild_facts``: the facts, exports and daily insights over a range of days (the price book with
  them); ``rebuild_unit_economics_daily``: the daily unit economics, whose days end with the engagement's;
  ``rebuild_monthly_insights``: the monthly unit economics over a range of months.

Every asset here runs a range as one run (``BackfillPolicy.single_run``). For the ``date x organization``
jobs, launch a range from the job's Materialize dialog as "single run", or as an asset backfill from the
asset graph (what ``make demo`` does: one run per organization, listed in the Backfills tab and
re-executable from there): the dialog's job backfill of a range runs one partition per range
(dagster-io/dagster#28861), and the raw assets refuse such a run (``partitions.refuse_a_range_dagster_narrowed``).
A job whose assets no configured organization uses is not defined.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dagster as dg

from claude_assets.facts.tables import FACTS_COST
from claude_assets.ingest.console.tables import (
    CLAUDE_CODE_MODELS,
    CLAUDE_CODE_USAGE,
    CONSOLE_COST,
    CONSOLE_USAGE,
)
from claude_assets.ingest.enterprise_engagement.tables import TABLES as ENGAGEMENT_TABLES
from claude_assets.ingest.enterprise_reports.tables import BETA_TABLES, LEGACY_TABLES
from claude_assets.inventory.tables import TABLES as INVENTORY_TABLES

CONSOLE_KEYS = frozenset(
    t.asset_key for t in (CONSOLE_USAGE, CONSOLE_COST, CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS)
)
ENGAGEMENT_KEYS = frozenset(t.asset_key for t in ENGAGEMENT_TABLES)
REPORT_KEYS = frozenset(t.asset_key for t in LEGACY_TABLES)
ANALYTICS_KEYS = frozenset(t.asset_key for t in BETA_TABLES)
INVENTORY_KEYS = frozenset(t.asset_key for t in INVENTORY_TABLES)
RAW_KEYS = CONSOLE_KEYS | ENGAGEMENT_KEYS | REPORT_KEYS | ANALYTICS_KEYS | INVENTORY_KEYS


@dataclass(frozen=True)
class JobPlan:
    """One named job: its name, what it is for, and the asset keys it may select (those defined)."""

    name: str
    description: str
    keys: frozenset[dg.AssetKey]


RAW_JOBS = (
    JobPlan(
        "daily_refresh_console",
        "The latest days of every Console raw table (usage, cost, Claude Code) for every Console organization: "
        "pick the last day or two. The facts, exports and insights of those days follow by themselves "
        "(sensor downstream_automation), or run rebuild_facts over the same days.",
        CONSOLE_KEYS,
    ),
    JobPlan(
        "daily_refresh_enterprise_reports",
        "The latest days of the Enterprise cost and usage reports for every Enterprise organization: pick the "
        "last day or two (the reports revise a day for up to 30 days; re-pulling replaces it). The facts, "
        "exports and insights follow by themselves (sensor downstream_automation), or run rebuild_facts.",
        REPORT_KEYS,
    ),
    JobPlan(
        "daily_refresh_engagement",
        "The latest published days of the Enterprise engagement tables for every Enterprise organization: a "
        "day is published about 10:00 UTC the next day, so its partitions end a day earlier than the reports' "
        "(a job has one partitioning, hence a job of its own). The insights that read it follow by themselves.",
        ENGAGEMENT_KEYS,
    ),
    JobPlan(
        "backfill_console",
        "Backfill the Console family (Admin API usage, cost and Claude Code tables) over a range of days for "
        "every Console organization, in one run. Re-pulling a range replaces its windows.",
        CONSOLE_KEYS,
    ),
    JobPlan(
        "backfill_engagement",
        "Backfill the Enterprise engagement family (summary and the user, project, skill, connector, plugin "
        "and artifact activity) over a range of published days for every Enterprise organization, in one run.",
        ENGAGEMENT_KEYS,
    ),
    JobPlan(
        "backfill_enterprise_reports",
        "Backfill the Enterprise cost and usage reports over a range of days for every Enterprise "
        "organization, in one run. The reports revise a day for up to 30 days: re-pulling replaces it.",
        REPORT_KEYS,
    ),
    JobPlan(
        "backfill_analytics",
        "Backfill the Usage and Cost Analytics API (raw.analytics_usage and raw.analytics_cost, every dimension) "
        "over a range of days for every Console and Enterprise organization that reads it, in one run. An "
        "organization the API refuses (HIPAA readiness) is skipped with the API's reason.",
        ANALYTICS_KEYS,
    ),
    JobPlan(
        "backfill_inventory",
        "Snapshot the Console inventory (organization, workspaces, users, invites, workspace members, API "
        "keys) of the selected Console organizations into the history tables.",
        INVENTORY_KEYS,
    ),
)
REBUILD_FACTS = "rebuild_facts"
REBUILD_MONTHLY = "rebuild_monthly_insights"
#: the daily insights that read the engagement days, whose partitions end a day earlier than the facts'
REBUILD_ENGAGEMENT_DAILY = "rebuild_unit_economics_daily"
DERIVED_JOBS = {
    REBUILD_FACTS: "Rebuild the facts (price book, usage, cost, allocation, reconciliation), the FOCUS export "
    "and the daily insights (anomalies, budgets, alerts, unit economics) over a range of days from the raw "
    "tables already in the warehouse, in one run. Requests nothing from the APIs.",
    REBUILD_ENGAGEMENT_DAILY: "Rebuild the daily unit economics (cost per seat, per active user, per session) "
    "over a range of days from the facts and the engagement tables already in the warehouse, in one run: its "
    "days end with the engagement's, a day before the facts', so it is a job of its own.",
    REBUILD_MONTHLY: "Rebuild the monthly unit economics over a range of months from the facts already in "
    "the warehouse, in one run.",
}


def _organizations_exist(partitions_def: dg.PartitionsDefinition | None) -> bool:
    """Whether an asset's organization dimension (if it has one) holds any configured organization."""
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return all(
            d.partitions_def.get_partition_keys()
            for d in partitions_def.partitions_defs
            if isinstance(d.partitions_def, dg.StaticPartitionsDefinition)
        )
    if isinstance(partitions_def, dg.StaticPartitionsDefinition):
        return bool(partitions_def.get_partition_keys())
    return True


def _executable(assets: Iterable) -> list[dg.AssetsDefinition]:
    """The assets a job can run: executable, and read for at least one configured organization."""
    return [
        a
        for a in assets
        if isinstance(a, dg.AssetsDefinition) and a.is_executable and _organizations_exist(a.partitions_def)
    ]


def _keys_of(assets: Sequence[dg.AssetsDefinition], wanted: frozenset[dg.AssetKey]) -> list[dg.AssetKey]:
    return sorted(k for a in assets for k in a.keys if k in wanted)


def plans(assets: Iterable) -> list[JobPlan]:
    """Every job the defined assets allow, with the keys it selects (a job with none is left out).

    The layers built from the raw days are split by partitions definition: the daily one (with the
    unpartitioned price book) is ``rebuild_facts``, the monthly one ``rebuild_monthly_insights``."""
    executable = _executable(assets)
    out = [
        JobPlan(p.name, p.description, frozenset(keys))
        for p in RAW_JOBS
        if (keys := _keys_of(executable, p.keys))
    ]
    derived = [a for a in executable if not set(a.keys) & RAW_KEYS]
    monthly = [a for a in derived if isinstance(a.partitions_def, dg.MonthlyPartitionsDefinition)]
    daily = [a for a in derived if a not in monthly]
    # the days of the facts (the unpartitioned price book with them); the rest end with the engagement days
    facts_days = next((a.partitions_def for a in daily if FACTS_COST.asset_key in a.keys), None)
    late = [a for a in daily if a.partitions_def not in (None, facts_days)]
    daily = [a for a in daily if a not in late]
    groups = ((REBUILD_FACTS, daily), (REBUILD_ENGAGEMENT_DAILY, late), (REBUILD_MONTHLY, monthly))
    for name, group in groups:
        if keys := frozenset(k for a in group for k in a.keys):
            out.append(JobPlan(name, DERIVED_JOBS[name], keys))
    return out


def project_jobs(assets: Iterable) -> list[dg.UnresolvedAssetJobDefinition]:
    """The named jobs of the code location (see the module's docstring)."""
    return [
        dg.define_asset_job(
            p.name,
            selection=dg.AssetSelection.assets(*sorted(p.keys)),
            description=p.description,
        )
        for p in plans(assets)
    ]

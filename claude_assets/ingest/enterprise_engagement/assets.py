"""Dagster definitions of the raw engagement assets (group ``enterprise``), one per table, downstream of the
engagement endpoints (an external asset of group ``sources``); their days end at the newest day published."""

from collections.abc import Iterable, Iterator
from datetime import date

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from checks import enterprise as enterprise_checks
from checks import window as window_checks
from claude_assets.asset_defaults import daily_by_org_args, source_spec
from claude_assets.config import ProjectConfig
from claude_assets.ingest.enterprise_engagement.fetch import (
    AVAILABILITY,
    SUMMARIES_PATH,
    SUMMARY_MAX_DAYS,
    daily_fetcher,
    fetch_summaries,
)
from claude_assets.ingest.enterprise_engagement.tables import (
    DAILY_ENDPOINTS,
    ENTERPRISE_SUMMARY,
    ENTERPRISE_USER_ACTIVITY,
    SCHEMAS,
    SPARSE,
)
from claude_assets.ingest.runner import run_windows
from claude_assets.warehouse.contract import Table
from resources.apis import EnterpriseAnalyticsApi

GROUP = "enterprise"
SOURCE = dg.AssetKey(["anthropic", "enterprise", "engagement"])


def engagement_sources(config: ProjectConfig) -> list[dg.AssetSpec]:
    """The Enterprise Analytics API's engagement endpoints (none without an Enterprise organization)."""
    if not config.of_kind("enterprise"):
        return []
    paths = ", ".join([SUMMARIES_PATH, *(e.path for e in DAILY_ENDPOINTS)])
    return [
        source_spec(
            SOURCE,
            f"Claude Enterprise engagement, GET {paths} (reference B1-B7): daily active users, per-user "
            "activity, projects, skills, connectors, artifacts and plugins. A day is published at about 10:00 "
            "UTC the next day (day_published_after.enterprise_engagement); asking for a later one is a 400. "
            "Feeds the raw/enterprise_* activity tables and raw/enterprise_summary. Read with each Enterprise "
            "organization's Analytics API key (scope read:analytics).",
        )
    ]


def _soften_sparse(events: Iterable) -> Iterator:
    """``not_empty`` warns (instead of failing) on tables a small organization can leave empty for a day."""
    for event in events:
        if (
            isinstance(event, dg.AssetCheckResult)
            and event.check_name == window_checks.NOT_EMPTY
            and event.asset_key in SPARSE
            and not event.passed
        ):
            yield dg.AssetCheckResult(
                asset_key=event.asset_key,
                check_name=event.check_name,
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    **event.metadata,
                    "note": "this feature can go unused for whole days in a small "
                    "organization; check the window's other tables",
                },
            )
        else:
            yield event


def _dau_checks(table: Table):
    def run(con: duckdb.DuckDBPyConnection, windows: dict[str, list[tuple[date, date]]]):
        return [
            enterprise_checks.dau_result(
                con, table.asset_key, ENTERPRISE_SUMMARY, ENTERPRISE_USER_ACTIVITY, windows
            )
        ]

    return run


def engagement_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The seven raw engagement assets, for every Enterprise organization of ``config`` (none without one)."""
    if not config.of_kind("enterprise"):
        return []
    common = daily_by_org_args(config, "enterprise", GROUP, config.day_published_after.enterprise_engagement)
    cross = {
        ENTERPRISE_SUMMARY: enterprise_checks.dau_spec(ENTERPRISE_SUMMARY, ENTERPRISE_USER_ACTIVITY),
        ENTERPRISE_USER_ACTIVITY: enterprise_checks.dau_spec(ENTERPRISE_USER_ACTIVITY, ENTERPRISE_SUMMARY),
    }

    def build(table: Table, fetch, max_days: int) -> dg.AssetsDefinition:
        extra_spec = cross.get(table)

        @dg.asset(
            key=table.asset_key,
            description=table.description,
            deps=[SOURCE],
            check_specs=[*window_checks.specs(table), *([extra_spec] if extra_spec else [])],
            **common,
        )
        def _asset(
            context: dg.AssetExecutionContext, analytics_api: EnterpriseAnalyticsApi, duckdb: DuckDBResource
        ):
            yield from _soften_sparse(
                run_windows(
                    context,
                    config=config,
                    api=analytics_api,
                    duckdb=duckdb,
                    tables=[table],
                    schemas=SCHEMAS,
                    fetch=fetch,
                    max_days=max_days,
                    availability=AVAILABILITY,
                    extra_checks=_dau_checks(table) if extra_spec else None,
                    revisable_for=config.day_revisable_for.enterprise_engagement,
                )
            )

        return _asset

    return [
        build(ENTERPRISE_SUMMARY, fetch_summaries, SUMMARY_MAX_DAYS),
        *(build(e.table, daily_fetcher(e), 1) for e in DAILY_ENDPOINTS),
    ]

"""Dagster definitions of the raw Enterprise usage and cost assets (group ``enterprise``) and their checks, each
downstream of the endpoints it reads (external assets of group ``sources``). The beta analytics assets exist
only when an organization reads them (``OrgConfig.reads_analytics_beta``), partitioned by those organizations."""

from collections.abc import Iterator, Sequence

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from checks import enterprise_reports as report_checks
from checks import provisional as provisional_checks
from checks import window as window_checks
from claude_assets.asset_defaults import daily_by_org_args, source_spec, table_spec
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.ingest.completeness import CompleteAfter
from claude_assets.ingest.enterprise_reports.api import BASE, BETA_HEADERS, MAX_WINDOW_DAYS
from claude_assets.ingest.enterprise_reports.bucketed import PlanLog
from claude_assets.ingest.enterprise_reports.fetch import availability, combined_fetcher
from claude_assets.ingest.enterprise_reports.groupings import COST_GROUPINGS, USAGE_GROUPINGS
from claude_assets.ingest.enterprise_reports.tables import (
    BETA_TABLES,
    COST_TABLES,
    ENTERPRISE_COST,
    ENTERPRISE_USAGE,
    ENTERPRISE_USER_COST,
    GROUPED_TABLES,
    LEGACY_TABLES,
    SCHEMAS,
    TOKENS,
)
from claude_assets.ingest.runner import Windows, run_windows
from claude_assets.warehouse.contract import Table
from resources.apis import EnterpriseAnalyticsApi

GROUP = "enterprise"
REPORTS_SOURCE = dg.AssetKey(["anthropic", "enterprise", "usage_cost_reports"])
ANALYTICS_SOURCE = dg.AssetKey(["anthropic", "enterprise", "usage_cost_analytics"])
KEY_NOTE = "Read with each Enterprise organization's Analytics API key (scope read:analytics)."


def report_sources(config: ProjectConfig) -> list[dg.AssetSpec]:
    """The usage and cost endpoints the raw Enterprise report assets read: the reports with an Enterprise
    organization, the beta analytics only with an organization that reads them."""
    sources = []
    if config.of_kind("enterprise"):
        sources.append(
            source_spec(
                REPORTS_SOURCE,
                f"Claude Enterprise usage and cost reports, GET {BASE}/usage_report, /cost_report, "
                "/user_usage_report and /user_cost_report (reference B8-B11, legacy): tokens and USD by day and "
                "grouping, and per seat user; served within hours of a day's end and revised for up to 30 days "
                f"(data_refreshed_at). Feeds {', '.join(t.qualified for t in LEGACY_TABLES)}. {KEY_NOTE}",
            )
        )
    if config.reading_analytics_beta():
        sources.append(
            source_spec(
                ANALYTICS_SOURCE,
                f"Usage and Cost Analytics (beta), GET {BASE}/usage and {BASE}/cost with anthropic-beta: "
                f"{BETA_HEADERS['anthropic-beta']} (reference B12): every grouping (actor, product, model, "
                "context window...) with no top-100 cap. Read only for organizations with analytics_beta: "
                f"true. Feeds {', '.join(t.qualified for t in BETA_TABLES)}. {KEY_NOTE}",
            )
        )
    return sources


def _extra_checks(selected_checks: set[dg.AssetCheckKey], tables: Sequence[Table]):
    def run(con: duckdb.DuckDBPyConnection, covered: Windows) -> Iterator[dg.AssetCheckResult]:
        def want(table: Table, name: str) -> bool:
            return dg.AssetCheckKey(table.asset_key, name) in selected_checks

        for table, groupings, measures in (
            (ENTERPRISE_USAGE, USAGE_GROUPINGS, [*TOKENS, "requests"]),
            (ENTERPRISE_COST, COST_GROUPINGS, ["amount_usd", "list_amount_usd", "requests"]),
        ):
            if table in tables and want(table, report_checks.GROUPED_EQUALS_TOTAL):
                yield report_checks.grouped_equals_total(
                    con,
                    table,
                    covered,
                    groupings=[g.name for g in groupings[1:] if g.partitions],
                    measures=measures,
                    nullable=["requests"],
                )
        for table in COST_TABLES:
            if table in tables and want(table, report_checks.AMOUNT_WITHIN_LIST):
                yield report_checks.amount_within_list(con, table, covered)
        if ENTERPRISE_USER_COST in tables and want(ENTERPRISE_USER_COST, report_checks.USER_COST_VS_ORG_COST):
            yield report_checks.user_cost_vs_org_cost(con, ENTERPRISE_USER_COST, ENTERPRISE_COST, covered)

    return run


def check_specs(table: Table) -> list[dg.AssetCheckSpec]:
    specs = [*window_checks.specs(table), provisional_checks.spec(table)]
    if table in GROUPED_TABLES:
        specs.append(report_checks.grouped_spec(table))
    if table in COST_TABLES:
        specs.append(report_checks.amount_spec(table))
    if table is ENTERPRISE_USER_COST:
        specs.append(report_checks.user_vs_org_spec(ENTERPRISE_USER_COST, ENTERPRISE_COST))
    return specs


def complete_after(config: ProjectConfig, *, beta: bool) -> CompleteAfter:
    """The reports finish a day within a documented delay, shown by their ``data_refreshed_at`` watermark."""
    delays = config.day_complete_after
    name = (
        f"Usage and Cost Analytics (beta, GET {BASE}/usage and /cost)"
        if beta
        else f"Enterprise usage and cost reports (GET {BASE}/*usage_report and /*cost_report)"
    )
    return CompleteAfter(name, delays.enterprise_reports, delays.enterprise_refresh_interval)


def _run(
    context: dg.AssetExecutionContext,
    *,
    config: ProjectConfig,
    api: EnterpriseAnalyticsApi,
    duckdb_resource: DuckDBResource,
    tables: list[Table],
    beta: bool,
) -> Iterator:
    plan = PlanLog()
    outputs = list(
        run_windows(
            context,
            config=config,
            api=api,
            duckdb=duckdb_resource,
            tables=tables,
            schemas=SCHEMAS,
            fetch=combined_fetcher(tables, plan),
            max_days=MAX_WINDOW_DAYS,
            availability=availability(),
            extra_checks=_extra_checks(set(context.selected_asset_check_keys), tables),
            complete_after=complete_after(config, beta=beta),
            revisable_for=config.day_revisable_for.enterprise_reports,
        )
    )
    for out in outputs:
        if isinstance(out, dg.MaterializeResult):
            meta = {**(out.metadata or {}), "request_plan": dg.MetadataValue.md(plan.markdown())}
            out = dg.MaterializeResult(asset_key=out.asset_key, metadata=meta)
        yield out


def _multi(
    name: str,
    tables: list[Table],
    config: ProjectConfig,
    *,
    beta: bool,
    description: str,
    orgs: tuple[OrgConfig, ...],
    source: dg.AssetKey,
):
    published = config.day_published_after.enterprise_reports
    common = daily_by_org_args(config, "enterprise", GROUP, published, orgs)

    @dg.multi_asset(
        name=name,
        description=description,
        specs=[table_spec(t, GROUP, skippable=True, deps=[source]) for t in tables],
        check_specs=[s for t in tables for s in check_specs(t)],
        partitions_def=common["partitions_def"],
        backfill_policy=common["backfill_policy"],
        pool=common["pool"],
        can_subset=True,
    )
    def _asset(
        context: dg.AssetExecutionContext, analytics_api: EnterpriseAnalyticsApi, duckdb: DuckDBResource
    ):
        selected = [t for t in tables if t.asset_key in context.selected_asset_keys]
        yield from _run(
            context, config=config, api=analytics_api, duckdb_resource=duckdb, tables=selected, beta=beta
        )

    return _asset


def report_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The Enterprise usage and cost raw assets (group ``enterprise``): the reports for every Enterprise
    organization, the beta analytics only for the organizations that read them (none: not defined)."""
    if not config.of_kind("enterprise"):
        return []
    legacy = _multi(
        "raw__enterprise_reports",
        list(LEGACY_TABLES),
        config,
        beta=False,
        description="Claude Enterprise usage and cost reports (organization-level by several groupings, and per "
        "seat user), one 31-day window at a time, every selected table of a window written in one "
        "transaction.",
        orgs=config.of_kind("enterprise"),
        source=REPORTS_SOURCE,
    )
    readers = config.reading_analytics_beta()
    if not readers:
        return [legacy]
    beta = _multi(
        "raw__analytics_usage_cost",
        list(BETA_TABLES),
        config,
        beta=True,
        description="Beta Usage and Cost Analytics endpoints, partitioned by the organizations with "
        "analytics_beta: true (the only ones they are read for).",
        orgs=readers,
        source=ANALYTICS_SOURCE,
    )
    return [legacy, beta]

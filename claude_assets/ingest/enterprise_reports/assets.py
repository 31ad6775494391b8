"""Dagster definitions of the raw Enterprise usage and cost assets (group ``enterprise``), the Usage and Cost
Analytics API of every organization (group ``analytics``) and their checks, each downstream of the endpoints it
reads (external assets of group ``sources``). The analytics assets exist only when an organization reads that
API (``OrgConfig.reads_analytics_api``), partitioned by those organizations."""

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
from claude_assets.ingest.enterprise_reports.groupings import (
    ANALYTICS_GROUPINGS,
    COST_GROUPINGS,
    USAGE_GROUPINGS,
)
from claude_assets.ingest.enterprise_reports.tables import (
    ANALYTICS_COST,
    ANALYTICS_USAGE,
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
from resources.apis import ApiByKind, ConsoleAdminApi, EnterpriseAnalyticsApi

GROUP = "enterprise"
ANALYTICS_GROUP = "analytics"  # the Usage and Cost Analytics API: Console and Enterprise organizations
REPORTS_SOURCE = dg.AssetKey(["anthropic", "enterprise", "usage_cost_reports"])
KEY_NOTE = "Read with each Enterprise organization's Analytics API key (scope read:analytics)."
ANALYTICS_KEY_NOTES = {
    "console": "Read with each Console organization's Admin API key.",
    "enterprise": KEY_NOTE,
}


def analytics_source(kind: str) -> dg.AssetKey:
    """The Usage and Cost Analytics API as one kind of organization serves it."""
    return dg.AssetKey(["anthropic", kind, "usage_cost_analytics"])


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
    for kind in sorted({o.kind for o in config.reading_analytics_api()}):
        sources.append(
            source_spec(
                analytics_source(kind),
                f"Usage and Cost Analytics API (beta) of the {kind.title()} organizations, GET {BASE}/usage and "
                f"{BASE}/cost with anthropic-beta: {BETA_HEADERS['anthropic-beta']} (reference B12, B13): every "
                "dimension (actor, API key, workspace, model, service tier, context window...) with no top-100 "
                "cap. Read for every organization with analytics_api: true (the default). Feeds "
                f"{', '.join(t.qualified for t in BETA_TABLES)}. {ANALYTICS_KEY_NOTES[kind]}",
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
            (ANALYTICS_USAGE, ANALYTICS_GROUPINGS, [*TOKENS, "total_tokens"]),
            (ANALYTICS_COST, ANALYTICS_GROUPINGS, ["amount_usd", "list_amount_usd"]),
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
    if table in (*GROUPED_TABLES, *BETA_TABLES):
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
        f"Usage and Cost Analytics API (beta, GET {BASE}/usage and /cost)"
        if beta
        else f"Enterprise usage and cost reports (GET {BASE}/*usage_report and /*cost_report)"
    )
    return CompleteAfter(name, delays.enterprise_reports, delays.enterprise_refresh_interval)


def _run(
    context: dg.AssetExecutionContext,
    *,
    config: ProjectConfig,
    api: EnterpriseAnalyticsApi | ApiByKind,
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
            fetch=combined_fetcher(tables, plan, refusals_skip=beta),
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
            context, config=config, api=analytics_api, duckdb_resource=duckdb, tables=selected, beta=False
        )

    return _asset


def analytics_api_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    """raw.analytics_usage and raw.analytics_cost: the Usage and Cost Analytics API of every organization that
    reads it, Console (Admin key) and Enterprise (Analytics key) alike; its partitions span both kinds."""
    tables = list(BETA_TABLES)
    readers = config.reading_analytics_api()
    published = config.day_published_after.enterprise_reports
    common = daily_by_org_args(config, None, ANALYTICS_GROUP, published, readers)
    sources = [analytics_source(kind) for kind in sorted({o.kind for o in readers})]

    @dg.multi_asset(
        name="raw__analytics_usage_cost",
        description="The Usage and Cost Analytics API (beta: /analytics/usage and /analytics/cost), for every "
        "Console and Enterprise organization with analytics_api (the default), under groupings that cover "
        "every documented dimension. An organization the API refuses (HIPAA readiness: 400 "
        "organization_not_eligible) is skipped with the API's reason, the others are written; "
        "organizations with analytics_api: false are not among its partitions.",
        specs=[table_spec(t, ANALYTICS_GROUP, skippable=True, deps=sources) for t in tables],
        check_specs=[s for t in tables for s in check_specs(t)],
        partitions_def=common["partitions_def"],
        backfill_policy=common["backfill_policy"],
        pool=common["pool"],
        can_subset=True,
    )
    def _asset(
        context: dg.AssetExecutionContext,
        console_api: ConsoleAdminApi,
        analytics_api: EnterpriseAnalyticsApi,
        duckdb: DuckDBResource,
    ):
        selected = [t for t in tables if t.asset_key in context.selected_asset_keys]
        api = ApiByKind(console_api, analytics_api)
        yield from _run(context, config=config, api=api, duckdb_resource=duckdb, tables=selected, beta=True)

    return _asset


def report_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The Enterprise usage and cost raw assets (group ``enterprise``, with an Enterprise organization) and the
    Usage and Cost Analytics API of the organizations that read it (group ``analytics``; none: not defined)."""
    out = []
    if config.of_kind("enterprise"):
        out.append(_legacy_asset(config))
    if config.reading_analytics_api():
        out.append(analytics_api_asset(config))
    return out


def _legacy_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    return _multi(
        "raw__enterprise_reports",
        list(LEGACY_TABLES),
        config,
        description="Claude Enterprise usage and cost reports (organization-level by several groupings, and per "
        "seat user), one 31-day window at a time, every selected table of a window written in one "
        "transaction.",
        orgs=config.of_kind("enterprise"),
        source=REPORTS_SOURCE,
    )

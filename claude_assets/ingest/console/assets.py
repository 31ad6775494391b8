"""Dagster definitions of the raw Console assets (group ``console``): usage, cost and Claude Code, each
downstream of the Admin API endpoint it reads (an external asset of group ``sources``)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from checks import provisional as provisional_checks
from checks import window as window_checks
from claude_assets.asset_defaults import daily_by_org_args, source_spec, table_spec
from claude_assets.config import ProjectConfig
from claude_assets.ingest.completeness import CompleteAfter
from claude_assets.ingest.console.fetch import (
    CLAUDE_CODE_PATH,
    COST_PATH,
    USAGE_PATH,
    fetch_claude_code,
    fetch_cost,
    fetch_usage,
)
from claude_assets.ingest.console.tables import (
    CLAUDE_CODE_MODELS,
    CLAUDE_CODE_USAGE,
    CONSOLE_COST,
    CONSOLE_USAGE,
    SCHEMAS,
)
from claude_assets.ingest.runner import Fetcher, run_windows
from claude_assets.warehouse.contract import Table
from resources.apis import ConsoleAdminApi

GROUP = "console"
REPORT_WINDOW_DAYS = 31  # the usage and cost reports answer at most 31 daily buckets a request
KEY_NOTE = "Read with each Console organization's Admin API key (sk-ant-admin01-...)."
USAGE_SOURCE = dg.AssetKey(["anthropic", "console", "usage_report"])
COST_SOURCE = dg.AssetKey(["anthropic", "console", "cost_report"])
CLAUDE_CODE_SOURCE = dg.AssetKey(["anthropic", "console", "claude_code"])


def console_sources(config: ProjectConfig) -> list[dg.AssetSpec]:
    """The Admin API report endpoints the raw Console assets read (none without a Console organization)."""
    if not config.of_kind("console"):
        return []
    return [
        source_spec(
            USAGE_SOURCE,
            f"Console usage report, GET {USAGE_PATH} (reference A1): tokens by model, workspace, API key and "
            f"service tier in daily buckets; a day appears within minutes of its requests. Feeds "
            f"{CONSOLE_USAGE.qualified}. {KEY_NOTE}",
        ),
        source_spec(
            COST_SOURCE,
            f"Console cost report, GET {COST_PATH} (reference A2): billed USD by workspace and cost line, "
            f"completed UTC days only. Feeds {CONSOLE_COST.qualified}. {KEY_NOTE}",
        ),
        source_spec(
            CLAUDE_CODE_SOURCE,
            f"Claude Code analytics, GET {CLAUDE_CODE_PATH} (reference A3): one day per request, per actor "
            f"and model; only data older than an hour. Feeds {CLAUDE_CODE_USAGE.qualified} and "
            f"{CLAUDE_CODE_MODELS.qualified}. {KEY_NOTE}",
        ),
    ]


def console_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The raw Console assets, for every Console organization of ``config`` (none without one)."""
    if not config.of_kind("console"):
        return []
    common = daily_by_org_args(config, "console", GROUP, config.day_published_after.console)
    delays = config.day_complete_after

    def run(
        context: dg.AssetExecutionContext,
        api,
        duckdb,
        tables: list[Table],
        fetch: Fetcher,
        max_days: int,
        complete_after: CompleteAfter,
    ):
        return run_windows(
            context,
            config=config,
            api=api,
            duckdb=duckdb,
            tables=tables,
            schemas=SCHEMAS,
            fetch=fetch,
            max_days=max_days,
            complete_after=complete_after,
            revisable_for=config.day_revisable_for.console,
        )

    def report(
        table: Table, fetch: Fetcher, complete_after: CompleteAfter, source: dg.AssetKey
    ) -> dg.AssetsDefinition:
        @dg.asset(
            key=table.asset_key,
            description=table.description,
            deps=[source],
            check_specs=[*window_checks.specs(table), provisional_checks.spec(table)],
            **common,
        )
        def _asset(context: dg.AssetExecutionContext, console_api: ConsoleAdminApi, duckdb: DuckDBResource):
            yield from run(context, console_api, duckdb, [table], fetch, REPORT_WINDOW_DAYS, complete_after)

        return _asset

    claude_code_tables = [CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS]

    @dg.multi_asset(
        specs=[table_spec(t, GROUP, deps=[CLAUDE_CODE_SOURCE]) for t in claude_code_tables],
        check_specs=[
            s for t in claude_code_tables for s in (*window_checks.specs(t), provisional_checks.spec(t))
        ],
        partitions_def=common["partitions_def"],
        backfill_policy=common["backfill_policy"],
        pool=common["pool"],
        name="raw__claude_code",
    )
    def claude_code(context: dg.AssetExecutionContext, console_api: ConsoleAdminApi, duckdb: DuckDBResource):
        """Claude Code analytics: one request per day (up to 1,000 actor rows a page)."""
        yield from run(
            context,
            console_api,
            duckdb,
            claude_code_tables,
            fetch_claude_code,
            1,
            CompleteAfter(f"Claude Code analytics (GET {CLAUDE_CODE_PATH})", delays.claude_code),
        )

    return [
        report(
            CONSOLE_USAGE,
            fetch_usage,
            CompleteAfter(f"Console usage report (GET {USAGE_PATH})", delays.console_usage),
            USAGE_SOURCE,
        ),
        report(
            CONSOLE_COST,
            fetch_cost,
            CompleteAfter(f"Console cost report (GET {COST_PATH})", delays.console_cost),
            COST_SOURCE,
        ),
        claude_code,
    ]

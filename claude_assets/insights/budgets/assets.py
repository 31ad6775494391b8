"""Dagster definition of the budgets (group ``insights``): one asset step writes insights.budget_status and
insights.budget_crossings for the run's days."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from checks import budgets as budget_checks
from checks.window import validate
from claude_assets.asset_defaults import KINDS, WAREHOUSE_POOL
from claude_assets.config import ProjectConfig
from claude_assets.facts.tables import COST_ALLOCATION, FACTS_COST
from claude_assets.insights.budgets import metadata, status
from claude_assets.insights.budgets.file import Budget, load_budgets
from claude_assets.insights.budgets.tables import BUDGET_CROSSINGS, BUDGET_STATUS
from claude_assets.partitions import daily, day_ranges
from claude_assets.warehouse import figures

GROUP = "insights"


def budgets_of(config: ProjectConfig) -> tuple[Budget, ...]:
    """The budgets of the configuration's ``budgets_file`` (none without one); an invalid file raises
    ``BudgetFileError`` naming its file, line and field."""
    if config.budgets_file is None:
        return ()
    return load_budgets(config.budgets_file, [o.slug for o in config.organizations])


def budget_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    budgets_of(config)  # a malformed budget file fails the code location, by file, line and field
    deps = [dg.AssetDep(FACTS_COST.asset_key), dg.AssetDep(COST_ALLOCATION.asset_key)]
    common = {"group_name": GROUP, "kinds": KINDS, "deps": deps}

    @dg.multi_asset(
        name="insights_budget_status",
        specs=[
            dg.AssetSpec(
                BUDGET_STATUS.asset_key,
                description=BUDGET_STATUS.description,
                metadata={
                    "dagster/column_schema": BUDGET_STATUS.dagster_schema(),
                    "budgets_file": str(config.budgets_file or ""),
                },
                **common,
            ),
            dg.AssetSpec(
                BUDGET_CROSSINGS.asset_key,
                description=BUDGET_CROSSINGS.description,
                metadata={"dagster/column_schema": BUDGET_CROSSINGS.dagster_schema()},
                **common,
            ),
        ],
        partitions_def=daily(config),
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        check_specs=[
            *budget_checks.status_specs(BUDGET_STATUS),
            *budget_checks.crossings_specs(BUDGET_CROSSINGS),
        ],
    )
    def insights_budget_status(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        """Each budget's spend to date, unsettled share, forecast and threshold crossings for the run's days
        (the budget file is read again: an invalid one fails the run before anything is written)."""
        budgets = budgets_of(config)
        ranges = day_ranges(context)
        with duckdb.get_connection() as con:
            frame, unsettled = status.status_frame(con, budgets, ranges)
            status.write(
                con,
                frame,
                ranges,
                lambda f: validate(budget_checks.status_schema(BUDGET_STATUS), BUDGET_STATUS, f),
                lambda f: validate(budget_checks.crossings_schema(BUDGET_CROSSINGS), BUDGET_CROSSINGS, f),
            )
            status_meta = {
                **figures.table_rows(con, BUDGET_STATUS),
                **figures.as_run(
                    metadata.status_metadata(con, ranges, budgets, unsettled, config.budgets_file)
                ),
            }
            crossing_meta = {
                **figures.table_rows(con, BUDGET_CROSSINGS),
                **figures.as_run(metadata.crossings_metadata(con, ranges)),
            }
            slots = figures.day_slots(context.partition_keys)
            figures.attach(context, BUDGET_STATUS, figures.by_partition(con, BUDGET_STATUS, slots))
            figures.attach(
                context,
                BUDGET_CROSSINGS,
                figures.by_partition(con, BUDGET_CROSSINGS, slots, day_column="first_crossed_on"),
            )
            checked = [
                *budget_checks.status_results(con, BUDGET_STATUS, ranges),
                *budget_checks.crossings_results(con, BUDGET_CROSSINGS, BUDGET_STATUS),
            ]
        yield dg.MaterializeResult(asset_key=BUDGET_STATUS.asset_key, metadata=status_meta)
        yield dg.MaterializeResult(asset_key=BUDGET_CROSSINGS.asset_key, metadata=crossing_meta)
        yield from checked

    return [insights_budget_status]

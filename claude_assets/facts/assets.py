"""Dagster definitions of the facts layer (group ``facts``): each table's asset, built from its module."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from checks import reconciliation as reconciliation_checks
from checks.window import validate
from claude_assets.asset_defaults import KINDS, OWNERS
from claude_assets.config import ProjectConfig
from claude_assets.facts import price_book, reconciliation
from claude_assets.facts.tables import PRICE_BOOK
from claude_assets.partitions import daily, day_ranges, from_daily_by_org

GROUP = "facts"


def facts_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """Every facts asset, for the organizations of ``config`` (the facts are partitioned by day only)."""
    return [price_book_asset(config), reconciliation_asset(config)]


# -- the price book ---------------------------------------------------------------------------------------


def price_book_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    """facts.price_book: the list-price data file plus the configuration's override file (not partitioned:
    rebuilt whole on every materialization)."""
    overrides = config.price_book_file
    price_book.merged_rows(overrides)  # a malformed override file fails the code location, by file and line
    key = PRICE_BOOK.asset_key
    check_specs = [
        dg.AssetCheckSpec(
            "grain_unique",
            asset=key,
            blocking=True,
            description="One row per model, token type, condition and effective_from.",
        ),
        dg.AssetCheckSpec(
            "rules_reach_a_price",
            asset=key,
            blocking=True,
            description="Every multiplier (or alternative price) names * or a model stem with base prices: a "
            "misspelt stem would never apply, and the list cost would look right without it.",
        ),
        dg.AssetCheckSpec(
            "models_fully_priced",
            asset=key,
            blocking=False,
            description="Every model stem has a current price for all five token types (else usage of the "
            "missing ones is unpriced).",
        ),
    ]

    @dg.asset(
        key=key,
        description=PRICE_BOOK.description,
        group_name=GROUP,
        kinds=KINDS | {"csv"},
        owners=OWNERS,
        check_specs=check_specs,
        metadata={
            "dagster/column_schema": PRICE_BOOK.dagster_schema(),
            "price_book_file": str(overrides or ""),
        },
    )
    def price_book_table(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        rows = price_book.merged_rows(overrides)
        validate(price_book.SCHEMA, PRICE_BOOK, price_book.frame(rows))  # a failure writes nothing
        with duckdb.get_connection() as con:
            price_book.write(con, rows)
            duplicates = price_book.duplicate_keys(con)
            stray = price_book.stray_rules(con)
            incomplete = price_book.incomplete_models(con)
        yield dg.MaterializeResult(metadata=price_book.metadata(rows))
        yield dg.AssetCheckResult(
            check_name="grain_unique", passed=not duplicates, metadata={"duplicates": str(duplicates[:10])}
        )
        yield dg.AssetCheckResult(
            check_name="rules_reach_a_price", passed=not stray, metadata={"stray_rows": str(stray[:10])}
        )
        yield dg.AssetCheckResult(
            check_name="models_fully_priced",
            passed=not incomplete,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"models": ", ".join(f"{m} (missing {t})" for m, t in incomplete) or "none"},
        )

    return price_book_table


# -- the reconciliation of figures that disagree ------------------------------------------------------


def reconciliation_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    """facts.cost_reconciliation: the waterfalls between cost figures, rebuilt per day range."""
    table = reconciliation.COST_RECONCILIATION

    @dg.asset(
        key=table.asset_key,
        description=table.description,
        partitions_def=daily(config),
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=GROUP,
        kinds=KINDS,
        owners=OWNERS,
        deps=[
            *(
                dg.AssetDep(t.asset_key, partition_mapping=from_daily_by_org())
                for t in reconciliation.raw_inputs(config)
            ),
            dg.AssetDep(PRICE_BOOK.asset_key),
        ],
        check_specs=reconciliation_checks.specs(table),
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        ranges = day_ranges(context)
        with duckdb.get_connection() as con:
            built = [reconciliation.rebuild(con, start, end) for start, end in ranges]
            metadata = reconciliation.metadata(con, ranges, sum(rows for rows, _ in built))
            checked = reconciliation_checks.results(con, table, ranges, config.reconciliation_tolerance_usd)
        yield dg.MaterializeResult(metadata=metadata, check_results=checked)

    return _asset

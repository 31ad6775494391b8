"""Dagster definitions of the facts layer (group ``facts``): each table's asset, built from its module."""

import functools
from collections.abc import Callable
from datetime import date

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from checks import allocation as allocation_checks
from checks import facts as facts_checks
from checks import reconciliation as reconciliation_checks
from checks.window import validate
from claude_assets.asset_defaults import KINDS, WAREHOUSE_POOL
from claude_assets.config import ProjectConfig
from claude_assets.facts import allocation, price_book, price_book_checks, reconciliation
from claude_assets.facts.cost import COST_INPUTS, rebuild_cost
from claude_assets.facts.tables import COST_ALLOCATION, FACTS_COST, FACTS_USAGE, PRICE_BOOK
from claude_assets.facts.usage import USAGE_INPUTS, rebuild_usage
from claude_assets.ingest.enterprise_reports.tables import ANALYTICS_COST
from claude_assets.partitions import daily, day_ranges, from_daily_by_org
from claude_assets.privacy.pseudonyms import Pseudonyms
from claude_assets.warehouse import figures
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.sql import in_day_ranges

GROUP = "facts"


def facts_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """Every facts asset, for the organizations of ``config`` (the facts are partitioned by day only)."""
    return [
        price_book_asset(config),
        *unified_assets(config),
        reconciliation_asset(config),
        allocation_asset(config),
    ]


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
        pool=WAREHOUSE_POOL,
        check_specs=check_specs,
        metadata={
            "dagster/column_schema": PRICE_BOOK.dagster_schema(),
            "price_book_file": str(overrides or ""),
        },
    )
    def price_book_table(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        rows = price_book.merged_rows(overrides)
        validate(
            price_book_checks.SCHEMA, PRICE_BOOK, price_book_checks.frame(rows)
        )  # a failure writes nothing
        with duckdb.get_connection() as con:
            price_book.write(con, rows)
            duplicates = price_book_checks.duplicate_keys(con)
            stray = price_book_checks.stray_rules(con)
            incomplete = price_book_checks.incomplete_models(con)
        yield dg.MaterializeResult(metadata=price_book_checks.metadata(rows))
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


# -- unified cost and usage -----------------------------------------------------------------------------


def unified_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """facts.cost and facts.usage: rebuilt per day range from the raw tables of every organization."""
    analytics_record = {o.slug: o.kind for o in config.organizations if o.cost_record == "analytics"}
    return [
        _rebuilt_asset(
            config,
            FACTS_COST,
            (*COST_INPUTS, *((ANALYTICS_COST,) if analytics_record else ())),
            functools.partial(rebuild_cost, analytics_record=analytics_record),
            facts_checks.cost_specs,
            facts_checks.cost_results,
        ),
        _rebuilt_asset(
            config,
            FACTS_USAGE,
            USAGE_INPUTS,
            rebuild_usage,
            facts_checks.usage_specs,
            facts_checks.usage_results,
        ),
    ]


def _rebuilt_asset(
    config: ProjectConfig,
    table: Table,
    inputs: tuple[Table, ...],
    rebuild: Callable[[duckdb.DuckDBPyConnection, date, date, Pseudonyms], int],
    specs: Callable[[Table], list[dg.AssetCheckSpec]],
    results: Callable[[duckdb.DuckDBPyConnection, Table, list[tuple[date, date]]], list[dg.AssetCheckResult]],
) -> dg.AssetsDefinition:
    raw = [
        dg.AssetDep(t.asset_key, partition_mapping=from_daily_by_org()) for t in inputs if _read(config, t)
    ]

    @dg.asset(
        **_daily_table_args(config, table),
        deps=[*raw, dg.AssetDep(PRICE_BOOK.asset_key)],
        check_specs=specs(table),
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        ranges = day_ranges(context)
        pseudonyms = Pseudonyms.of(
            config
        )  # before any write: pseudonymization on without its secret fails here
        with duckdb.get_connection() as con:
            rows = sum(rebuild(con, start, end, pseudonyms) for start, end in ranges)
            metadata = _metadata(con, table, ranges, rows)
            _partition_figures(context, con, table)
            checked = results(con, table, ranges)
        yield dg.MaterializeResult(metadata=metadata, check_results=checked)

    return _asset


def _read(config: ProjectConfig, table: Table) -> bool:
    """Whether the configuration has organizations that fill a raw table."""
    if table is ANALYTICS_COST:
        return any(o.reads_analytics_api for o in config.organizations)
    kind = "enterprise" if table.name.startswith("enterprise") else "console"
    return bool(config.of_kind(kind))


def _daily_table_args(config: ProjectConfig, table: Table) -> dict:
    """``@dg.asset`` arguments of a daily facts table: key and description from its declaration, the date-only
    partitions (one run per backfill), group, kinds and owner."""
    return {
        "key": table.asset_key,
        "description": table.description,
        "partitions_def": daily(config),
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "group_name": GROUP,
        "kinds": KINDS,
        "pool": WAREHOUSE_POOL,
    }


def _metadata(
    con: duckdb.DuckDBPyConnection, table: Table, ranges: list[tuple[date, date]], rows: int
) -> dict:
    """The table's row count (the asset's headline) and the run's rows, window, money totals (to the cent,
    exact and to plot) and a preview, named as the run's (each partition's own are ``_partition_figures``)."""
    where, params = in_day_ranges(ranges)
    meta: dict = {
        **figures.table_rows(con, table),
        "dagster/column_schema": table.dagster_schema(),
        "run_rows_written": dg.MetadataValue.int(rows),
        "run_window": dg.MetadataValue.md("\n".join(f"- {s} → {e} ({(e - s).days} d)" for s, e in ranges)),
        **figures.run_totals(con, table, where, params),
    }
    preview = con.execute(
        f"SELECT * EXCLUDE (fetched_at, source_request) FROM {table.qualified} WHERE {where} "
        "ORDER BY ALL LIMIT 10",
        params,
    ).df()
    meta["run_preview"] = dg.MetadataValue.md(
        preview.to_markdown(index=False) if len(preview) else "(no rows)"
    )
    return meta


def _partition_figures(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, table: Table, with_totals: bool = True
) -> None:
    """Each day's own rows, totals and top models/workspaces/users, on that day's materialization."""
    slots = figures.day_slots(context.partition_keys)
    figures.attach(context, table, figures.by_partition(con, table, slots, with_totals=with_totals))


# -- the reconciliation of figures that disagree ------------------------------------------------------


def reconciliation_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    """facts.cost_reconciliation: the waterfalls between cost figures, rebuilt per day range."""
    table = reconciliation.COST_RECONCILIATION

    @dg.asset(
        **_daily_table_args(config, table),
        deps=[
            *(
                dg.AssetDep(t.asset_key, partition_mapping=from_daily_by_org())
                for t in reconciliation.raw_inputs(config)
            ),
            dg.AssetDep(PRICE_BOOK.asset_key),
            # its figures_at_scale check holds facts.cost's billed total to the record: the same days, built
            # first (in the same run when both are due), never a facts.cost older than the raw days
            dg.AssetDep(FACTS_COST.asset_key),
        ],
        check_specs=reconciliation_checks.specs(table),
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        ranges = day_ranges(context)
        with duckdb.get_connection() as con:
            built = [reconciliation.rebuild(con, start, end) for start, end in ranges]
            metadata = reconciliation.metadata(con, ranges, sum(rows for rows, _ in built))
            _partition_figures(context, con, table, with_totals=False)
            for key in context.partition_keys:
                day = date.fromisoformat(key)
                context.add_asset_metadata(
                    reconciliation.day_metadata(con, day), asset_key=table.asset_key, partition_key=key
                )
            checked = reconciliation_checks.results(
                con,
                table,
                ranges,
                config.reconciliation_tolerance_usd,
                [o.slug for o in config.organizations if o.cost_record == "analytics"],
            )
        yield dg.MaterializeResult(metadata=metadata, check_results=checked)

    return _asset


# -- cost allocation ------------------------------------------------------------------------------------


def allocation_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    """facts.cost_allocation: each billed line of facts.cost split to API keys, users and remainders, exactly."""
    table = COST_ALLOCATION
    raw = [t for t in allocation.ALLOCATION_INPUTS if _read(config, t)]

    @dg.asset(
        **_daily_table_args(config, table),
        deps=[
            dg.AssetDep(FACTS_COST.asset_key),  # the same days: the parent lines
            *(dg.AssetDep(t.asset_key, partition_mapping=from_daily_by_org()) for t in raw),
        ],
        check_specs=allocation_checks.specs(table),
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        ranges = day_ranges(context)
        with duckdb.get_connection() as con:
            rows = sum(allocation.rebuild_allocation(con, start, end) for start, end in ranges)
            metadata = _metadata(con, table, ranges, rows)
            for kind, usd in allocation.totals_by_kind(con, ranges).items():
                metadata.update(figures.money(f"run_allocated_to_{kind}_usd", usd))
            _partition_figures(context, con, table)
            checked = allocation_checks.results(con, table, allocation.parents_sql(), ranges)
        yield dg.MaterializeResult(metadata=metadata, check_results=checked)

    return _asset

"""Dagster definitions of the exports (group ``exports``): the FOCUS 1.2 cost dataset and its monthly files."""

from decimal import Decimal
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from checks.window import SchemaViolation, validate
from claude_assets.asset_defaults import KINDS, WAREHOUSE_POOL
from claude_assets.config import ProjectConfig
from claude_assets.exports import focus
from claude_assets.exports.tables import FOCUS_COST, SCHEMA
from claude_assets.inventory.tables import ORGANIZATION, WORKSPACES_TABLE
from claude_assets.partitions import daily, day_ranges
from claude_assets.warehouse import figures
from claude_assets.warehouse.sql import in_day_ranges

GROUP = "exports"
FACTS_COST_KEY = dg.AssetKey(["facts", "cost"])
SCHEMA_CHECK, MATCHES_FACTS, LIST_PRICED = "schema", "billed_matches_facts", "list_cost_priced"


def exports_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """Every export asset, for the organizations of ``config`` (partitioned by day, like the facts)."""
    return [_focus_cost(config)]


def _focus_cost(config: ProjectConfig) -> dg.AssetsDefinition:
    key = FOCUS_COST.asset_key

    @dg.asset(
        key=key,
        description=FOCUS_COST.description,
        partitions_def=daily(config),
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=GROUP,
        kinds={*KINDS, "parquet"},
        pool=WAREHOUSE_POOL,
        deps=[
            FACTS_COST_KEY,  # same days
            # names only (organization, workspaces): snapshots per Console organization, read as they stand
            *(
                dg.AssetDep(t.asset_key, partition_mapping=dg.AllPartitionMapping())
                for t in (ORGANIZATION, WORKSPACES_TABLE)
                if config.of_kind("console")
            ),
        ],
        check_specs=[
            dg.AssetCheckSpec(
                SCHEMA_CHECK,
                asset=key,
                blocking=True,
                description="Pandera schema of the rebuilt rows: every FOCUS column present, mandatory ones "
                "filled, the allowed values (Usage, Usage-Based, USD, Anthropic, Claude, …), exact decimals.",
            ),
            dg.AssetCheckSpec(
                MATCHES_FACTS,
                asset=key,
                blocking=True,
                description="Per organization and day, the rows and the BilledCost total equal facts.cost's "
                "billed rows exactly (no line lost, duplicated or re-priced; estimates left out).",
            ),
            dg.AssetCheckSpec(
                LIST_PRICED,
                asset=key,
                blocking=False,
                description="Every row has a list price in facts.cost; rows without one carry BilledCost as "
                "ListCost (x_ListCostUnpriced) and are listed by model.",
            ),
        ],
    )
    def focus_cost(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        ranges = day_ranges(context)
        root = Path(duckdb.database).parent  # the data directory: the warehouse file's folder
        rows, differences, unpriced, written = 0, [], {}, []
        with duckdb.get_connection() as con:
            for start, end in ranges:
                rows += focus.rebuild(con, start, end)
                try:
                    validate(SCHEMA, FOCUS_COST, focus.rows_as_text(con, start, end))
                except (
                    SchemaViolation
                ) as exc:  # the rows stay for inspection; the blocking check stops the run
                    yield _failed_schema(key, exc)
                    return
                differences += focus.billed_differences(con, start, end)
                for model, n in focus.unpriced_rows(con, start, end).items():
                    unpriced[model] = unpriced.get(model, 0) + n
            for month in focus.months(ranges):
                written += focus.write_month(con, root, month)
            totals = _totals(con, ranges)
            metadata = {**figures.table_rows(con, FOCUS_COST), **_metadata(ranges, rows, totals, written)}
            slots = figures.day_slots(context.partition_keys)
            figures.attach(context, FOCUS_COST, figures.by_partition(con, FOCUS_COST, slots))
        yield dg.MaterializeResult(metadata=metadata)
        yield dg.AssetCheckResult(
            asset_key=key, check_name=SCHEMA_CHECK, passed=True, metadata={"rows_validated": rows}
        )
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=MATCHES_FACTS,
            passed=not differences,
            metadata={
                "days_differing": len(differences),
                "first_differences": dg.MetadataValue.md(_differences_md(differences[:10])),
            },
        )
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=LIST_PRICED,
            passed=not unpriced,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"unpriced_rows_by_model": unpriced},
        )

    return focus_cost


def _failed_schema(key: dg.AssetKey, exc: SchemaViolation) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=SCHEMA_CHECK,
        passed=False,
        metadata={
            "failures": len(exc.failures),
            "failure_cases": dg.MetadataValue.md(
                exc.failures.head(20)[["column", "check", "failure_case"]].to_markdown(index=False)
            ),
        },
    )


def _totals(con, ranges: list[tuple]) -> dict[str, Decimal]:
    where, params = in_day_ranges(ranges)
    sums = ", ".join(f'coalesce(sum("{c}"), 0)' for c in FOCUS_COST.money)
    values = con.execute(f"SELECT {sums} FROM {FOCUS_COST.qualified} WHERE {where}", params).fetchall()[0]
    return dict(zip(FOCUS_COST.money, values, strict=True))


def _metadata(ranges, rows: int, totals: dict[str, Decimal], written: list[focus.MonthFiles]) -> dict:
    """The run's rows, window, files and money totals, named as the run's (each day's own are on its
    partition)."""
    meta: dict = {
        "run_rows_written": dg.MetadataValue.int(rows),
        "dagster/column_schema": FOCUS_COST.dagster_schema(),
        "run_window": dg.MetadataValue.md(
            "\n".join(f"- {s} → {e} ({(e - s).days} d)" for s, e in ranges) or "nothing in range"
        ),
        "run_files": dg.MetadataValue.md(
            "\n".join(
                f"- `{f.folder}/{f.month:%Y-%m}`: {f.rows} rows"
                + ("" if f.paths else " (no rows: files removed)")
                for f in written
            )
            or "(none)"
        ),
    }
    for name, total in totals.items():
        meta.update(figures.money(f"run_total_{name}", total))
    return meta


def _differences_md(rows: list[tuple]) -> str:
    if not rows:
        return "(none)"
    lines = [
        "| org | day | export BilledCost | facts billed | export rows | facts rows |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)

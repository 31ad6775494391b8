"""Dagster definition of insights.cost_anomalies: the anomalies of each settled day, rebuilt per day range."""

from collections import Counter
from datetime import date, timedelta

import dagster as dg
from dagster_duckdb import DuckDBResource

from checks import anomalies as anomaly_checks
from checks.window import validate
from claude_assets.asset_defaults import KINDS, WAREHOUSE_POOL
from claude_assets.config import ProjectConfig
from claude_assets.facts.allocation import ALLOCATION_INPUTS
from claude_assets.facts.cost import COST_INPUTS
from claude_assets.facts.tables import COST_ALLOCATION, FACTS_USAGE
from claude_assets.ingest.enterprise_reports.tables import ENTERPRISE_COST
from claude_assets.insights.anomalies import series, store
from claude_assets.insights.anomalies.find import find
from claude_assets.insights.anomalies.tables import COST_ANOMALIES, MEASURES, SEVERITIES, SLICE_KINDS
from claude_assets.insights.settled import settled_days, unsettled_days
from claude_assets.partitions import daily, day_ranges, from_daily_by_org
from claude_assets.warehouse import figures

#: the raw tables behind the series: a day is judged when every pull of them is settled
RAW_INPUTS = tuple({t.qualified: t for t in (*COST_INPUTS, *ALLOCATION_INPUTS)}.values())
SCHEMA = anomaly_checks.schema(COST_ANOMALIES, SLICE_KINDS, MEASURES, SEVERITIES)


def cost_anomalies_asset(config: ProjectConfig, group: str) -> dg.AssetsDefinition:
    """insights.cost_anomalies, daily: each settled day judged against the trailing weeks before it."""
    settings = config.anomalies
    history = timedelta(days=7 * settings.baseline_weeks)
    enterprise = [dg.AssetDep(ENTERPRISE_COST.asset_key, partition_mapping=from_daily_by_org())]

    @dg.asset(
        key=COST_ANOMALIES.asset_key,
        description=COST_ANOMALIES.description,
        partitions_def=daily(config),
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=group,
        kinds=KINDS,
        pool=WAREHOUSE_POOL,
        deps=[
            dg.AssetDep(COST_ALLOCATION.asset_key),
            dg.AssetDep(FACTS_USAGE.asset_key),
            *(enterprise if config.of_kind("enterprise") else []),
        ],
        check_specs=anomaly_checks.specs(COST_ANOMALIES),
        metadata={"dagster/column_schema": COST_ANOMALIES.dagster_schema()},
    )
    def cost_anomalies(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        """Judge every settled (organization, day) of the run's days; days not settled are left out."""
        ranges = day_ranges(context)
        found: list[dict] = []
        settled_in_run: dict[str, set[date]] = {}
        waiting: dict[str, list[tuple[date, str]]] = {}
        with duckdb.get_connection() as con:
            for start, end in ranges:
                rows = series.read(con, start - history, end)
                settled = settled_days(con, RAW_INPUTS, start - history, end)
                days = [start + timedelta(days=n) for n in range((end - start).days)]
                frame = store.to_frame(
                    [
                        row
                        for org in sorted(settled)
                        for row in find(org, rows[rows.org_id == org], settled[org], days, settings)
                    ]
                )
                validate(SCHEMA, COST_ANOMALIES, frame)  # a failure writes nothing
                store.write(con, start, end, frame)
                found.extend(frame.to_dict("records"))
                for org, ds in settled.items():
                    settled_in_run.setdefault(org, set()).update(d for d in ds if start <= d < end)
                for org, ds in unsettled_days(con, RAW_INPUTS, start, end).items():
                    waiting.setdefault(org, []).extend(ds)
            checked = [
                dg.AssetCheckResult(
                    check_name=anomaly_checks.SCHEMA, passed=True, metadata={"rows_validated": len(found)}
                ),
                anomaly_checks.grain_result(con, COST_ANOMALIES, ranges),
                anomaly_checks.settled_result(con, COST_ANOMALIES, ranges, settled_in_run),
            ]
            metadata = {
                **figures.table_rows(con, COST_ANOMALIES),
                **figures.as_run(_metadata(config, found, settled_in_run, waiting, ranges)),
            }
            slots = figures.day_slots(context.partition_keys)
            figures.attach(context, COST_ANOMALIES, figures.by_partition(con, COST_ANOMALIES, slots))
        yield dg.MaterializeResult(metadata=metadata, check_results=checked)

    return cost_anomalies


def _metadata(config, found, settled, waiting, ranges) -> dict:
    per_org = Counter(r["org_id"] for r in found)
    meta: dict = {
        "dagster/row_count": len(found),
        "window": dg.MetadataValue.md("\n".join(f"- {s} → {e} ({(e - s).days} d)" for s, e in ranges)),
        "by_severity": dg.MetadataValue.json(dict(Counter(r["severity"] for r in found))),
        "waiting_to_settle": dg.MetadataValue.md(
            "\n".join(
                f"- `{org}`: {len(days)} day(s), {days[0][0]} → {days[-1][0]} ({', '.join(sorted({s for _, s in days}))})"
                for org, days in sorted(waiting.items())
            )
            or "none: every day of the run was settled"
        ),
    }
    for org in config.organizations:
        meta[f"anomalies_{org.slug}"] = dg.MetadataValue.int(per_org.get(org.slug, 0))  # to plot
        meta[f"days_judged_{org.slug}"] = dg.MetadataValue.int(len(settled.get(org.slug, ())))
        meta[f"days_waiting_to_settle_{org.slug}"] = dg.MetadataValue.int(len(waiting.get(org.slug, ())))
    top = sorted(found, key=lambda r: (r["usage_date"], r["org_id"], r["measure"], r["slice_kind"]))[-10:]
    meta["latest"] = dg.MetadataValue.md("\n".join(f"- {r['explanation']}" for r in top) or "(no anomalies)")
    return meta

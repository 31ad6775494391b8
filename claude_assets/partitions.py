"""One UTC daily partitioning for everything, crossed with an organization dimension per API family."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import dagster as dg

from claude_assets.config import ProjectConfig

DATE, ORG = "date", "org"


def daily(config: ProjectConfig) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=config.history_start.isoformat(), timezone="UTC")


def organizations(config: ProjectConfig, kind: str) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition([o.slug for o in config.of_kind(kind)])


def daily_by_org(config: ProjectConfig, kind: str) -> dg.MultiPartitionsDefinition:
    """Keys look like ``2026-03-01|acme-console`` (dimensions ``date`` and ``org``)."""
    return dg.MultiPartitionsDefinition({DATE: daily(config), ORG: organizations(config, kind)})


def windows_by_org(context: dg.AssetExecutionContext) -> dict[str, list[tuple[date, date]]]:
    """The run's partitions as contiguous ``[start, end)`` day ranges per organization.

    A single-run backfill may cover several organizations and any set of days; grouping the keys
    (rather than trusting one time window) keeps each organization to exactly what was asked.
    """
    refuse_a_range_dagster_narrowed(context)
    days: dict[str, set[date]] = defaultdict(set)
    for key in context.partition_keys:
        dims = (
            key.keys_by_dimension
            if isinstance(key, dg.MultiPartitionKey)
            else dict(zip((DATE, ORG), key.split("|"), strict=True))
        )
        days[dims[ORG]].add(date.fromisoformat(dims[DATE]))
    return {org: contiguous(sorted(ds)) for org, ds in sorted(days.items())}


RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def refuse_a_range_dagster_narrowed(context: dg.AssetExecutionContext) -> None:
    """Fail, before any request, a run whose partitions are not the range it was launched for.

    A *job* backfill of a date x organization job over a range (the job page's "Launch backfill") gives each
    run the range's tags and one partition's dimension tags, and Dagster then runs that one partition only
    (dagster-io/dagster#28861): the rest of the range would be reported done and never pulled."""
    start, end = context.run.tags.get(RANGE_START), context.run.tags.get(RANGE_END)
    partitions_def = context.assets_def.partitions_def
    if not (start and end and isinstance(partitions_def, dg.MultiPartitionsDefinition)):
        return
    asked = {str(k) for k in partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(start, end))}
    given = {str(k) for k in context.partition_keys}
    if given != asked:
        raise dg.Failure(
            f"This run was launched for the partitions {start} to {end} ({len(asked)}) but Dagster gives it "
            f"{', '.join(sorted(given))}: a job backfill of a date x organization job over a range runs one "
            "partition per range (dagster-io/dagster#28861). Nothing was requested or written. Launch the "
            "range as one run instead (the job's Materialize dialog: Launch as... single run), or as an asset "
            "backfill (select the assets in the asset graph, Materialize, pick the range)."
        )


#: the most days a derived table rebuilds in one statement: a year's backfill is one run, in bounded steps
REBUILD_DAYS = 31


def day_ranges(context: dg.AssetExecutionContext, max_days: int = REBUILD_DAYS) -> list[tuple[date, date]]:
    """The run's partitions of a date-only asset (the facts and later layers) as contiguous day ranges of
    at most ``max_days`` each, so memory stays bounded however long the backfill."""
    days = sorted({date.fromisoformat(k) for k in context.partition_keys})
    return [chunk for start, end in contiguous(days) for chunk in split(start, end, max_days)]


def from_daily_by_org() -> dg.MultiToSingleDimensionPartitionMapping:
    """How a date-only asset reads a date x organization one: a day depends on that day of every organization."""
    return dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name=DATE)


def contiguous(days: list[date]) -> list[tuple[date, date]]:
    out: list[tuple[date, date]] = []
    for d in days:
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + timedelta(days=1))
        else:
            out.append((d, d + timedelta(days=1)))
    return out


def split(start: date, end: date, max_days: int) -> list[tuple[date, date]]:
    """Cut ``[start, end)`` into API windows of at most ``max_days``."""
    out = []
    while start < end:
        stop = min(end, start + timedelta(days=max_days))
        out.append((start, stop))
        start = stop
    return out

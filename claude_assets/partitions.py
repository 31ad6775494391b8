"""UTC daily partitions that match the data, crossed with an organization dimension per API family.

Every date dimension starts on the configured history start (``config.history_start``, the earliest of the
organizations'), so a day of a date-only asset (the facts) maps to the same day of every raw table it reads.
Each ends on the newest day its source answers for (``day_published_after``): a day is never selectable
before its source can answer for it, and ``Latest`` in the UI is a day the API has.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

import dagster as dg

from claude_assets.config import OrgConfig, ProjectConfig

DATE, ORG = "date", "org"
DAY = timedelta(days=1)


def end_offset(published_after: timedelta) -> int:
    """Dagster's ``end_offset`` for a source that first answers for a day ``published_after`` after it ends.

    With 0 the newest partition is the newest day that has ended; each whole or started day of delay holds
    one more back (10 hours: a day becomes selectable at the end of the next day, never before it is published).
    """
    return -math.ceil(published_after / DAY)


def daily(config: ProjectConfig, published_after: timedelta = timedelta(0)) -> dg.DailyPartitionsDefinition:
    """Days from the configured history start to the newest day a source ``published_after`` has answered for."""
    return dg.DailyPartitionsDefinition(
        start_date=config.history_start.isoformat(), timezone="UTC", end_offset=end_offset(published_after)
    )


def organizations(config: ProjectConfig, kind: str | None) -> dg.StaticPartitionsDefinition:
    """The organizations of one kind, or (``None``) every organization, for an API both kinds serve."""
    return of_organizations(config.organizations if kind is None else config.of_kind(kind))


def of_organizations(orgs: Sequence[OrgConfig]) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition([o.slug for o in orgs])


def daily_by_org(
    config: ProjectConfig,
    kind: str | None,
    published_after: timedelta = timedelta(0),
    orgs: Sequence[OrgConfig] | None = None,
) -> dg.MultiPartitionsDefinition:
    """Keys look like ``2026-03-01|acme-console`` (dimensions ``date`` and ``org``): the days of ``daily``, and
    the organizations of ``kind`` (None: every kind; or ``orgs``, those of the kind that read the source)."""
    members = (config.organizations if kind is None else config.of_kind(kind)) if orgs is None else orgs
    return dg.MultiPartitionsDefinition(
        {DATE: daily(config, published_after), ORG: of_organizations(members)}
    )


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

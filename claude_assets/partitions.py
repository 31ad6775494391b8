"""One UTC daily partitioning for everything, crossed with an organization dimension per API family."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import dagster as dg

from claude_assets.config import ProjectConfig

DATE, ORG = "date", "org"


def daily(config: ProjectConfig) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=config.history_start.isoformat(), timezone="UTC")


def organizations(config: ProjectConfig, kind: str | None) -> dg.StaticPartitionsDefinition:
    """The organizations of one kind, or (``None``) every organization, for an API both kinds serve."""
    orgs = config.organizations if kind is None else config.of_kind(kind)
    return dg.StaticPartitionsDefinition([o.slug for o in orgs])


def daily_by_org(config: ProjectConfig, kind: str | None) -> dg.MultiPartitionsDefinition:
    """Keys look like ``2026-03-01|acme-console`` (dimensions ``date`` and ``org``); ``kind`` None: every
    organization."""
    return dg.MultiPartitionsDefinition({DATE: daily(config), ORG: organizations(config, kind)})


def windows_by_org(context: dg.AssetExecutionContext) -> dict[str, list[tuple[date, date]]]:
    """The run's partitions as contiguous ``[start, end)`` day ranges per organization.

    A single-run backfill may cover several organizations and any set of days; grouping the keys
    (rather than trusting one time window) keeps each organization to exactly what was asked.
    """
    days: dict[str, set[date]] = defaultdict(set)
    for key in context.partition_keys:
        dims = (
            key.keys_by_dimension
            if isinstance(key, dg.MultiPartitionKey)
            else dict(zip((DATE, ORG), key.split("|"), strict=True))
        )
        days[dims[ORG]].add(date.fromisoformat(dims[DATE]))
    return {org: contiguous(sorted(ds)) for org, ds in sorted(days.items())}


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

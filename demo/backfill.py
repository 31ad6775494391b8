"""Single-run backfills of a date range over every organization, with ``dg.materialize``.

The demo and the benchmarks use this: the assets are grouped by partitions definition (the Console
assets share ``date x org``), and each group runs once over the partition range from
``START|first-org`` to ``END|last-org``, which Dagster reads as every day of the range for every
organization. Days outside the partitions (before ``history_start``, after the last complete day)
are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import dagster as dg

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@dataclass
class Group:
    partitions_def: dg.PartitionsDefinition | None
    assets: list[dg.AssetsDefinition]

    @property
    def keys(self) -> list[dg.AssetKey]:
        return [k for a in self.assets for k in a.keys]


def groups(defs: dg.Definitions, selection: Iterable[dg.AssetKey] | None = None) -> list[Group]:
    """The definitions' assets (or those with a key in ``selection``), grouped by partitions definition."""
    wanted = set(selection) if selection is not None else None
    out: list[Group] = []
    for a in defs.assets or []:
        if not isinstance(a, dg.AssetsDefinition) or not a.is_executable:
            continue
        if wanted is not None and not (set(a.keys) & wanted):
            continue
        for g in out:
            if g.partitions_def == a.partitions_def:
                g.assets.append(a)
                break
        else:
            out.append(Group(a.partitions_def, [a]))
    return out


def _days_in(time_def: dg.TimeWindowPartitionsDefinition, start: date, end: date) -> list[str]:
    keys = []
    for key in time_def.get_partition_keys():
        day = datetime.strptime(key, time_def.fmt).date()
        if start <= day < end:
            keys.append(key)
    return keys


def partition_range(
    partitions_def: dg.PartitionsDefinition | None, start: date, end: date
) -> tuple[str, str] | None:
    """``(first, last)`` partition keys covering ``[start, end)`` x every other dimension, or ``None``
    when the definition has no partition there. Unpartitioned assets give ``("", "")``."""
    if partitions_def is None:
        return "", ""
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        time_dim = partitions_def.time_window_dimension
        other = next(d for d in partitions_def.partitions_defs if d.name != time_dim.name)
        days = _days_in(time_dim.partitions_def, start, end)
        values = other.partitions_def.get_partition_keys()
        if not days or not values:
            return None
        return (
            str(dg.MultiPartitionKey({time_dim.name: days[0], other.name: values[0]})),
            str(dg.MultiPartitionKey({time_dim.name: days[-1], other.name: values[-1]})),
        )
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        days = _days_in(partitions_def, start, end)
    else:
        days = list(partitions_def.get_partition_keys())
    return (days[0], days[-1]) if days else None


def backfill(
    defs: dg.Definitions,
    start: date,
    end: date,
    *,
    instance: dg.DagsterInstance | None = None,
    selection: Iterable[dg.AssetKey] | None = None,
    tags: dict[str, str] | None = None,
    run_config: dict | None = None,
    resources: dict | None = None,
    raise_on_error: bool = False,
) -> list[dg.ExecuteInProcessResult]:
    """One run per partitions definition over ``[start, end)`` and every organization."""
    everything = [*(defs.assets or []), *(defs.asset_checks or [])]
    results = []
    for group in groups(defs, selection):
        bounds = partition_range(group.partitions_def, start, end)
        if bounds is None:
            continue
        run_tags = dict(tags or {})
        if group.partitions_def is not None:
            run_tags.update({RANGE_START: bounds[0], RANGE_END: bounds[1]})
        results.append(
            dg.materialize(
                everything,
                selection=dg.AssetSelection.assets(*group.keys),
                instance=instance,
                tags=run_tags,
                run_config=run_config,
                resources={**(defs.resources or {}), **(resources or {})},
                raise_on_error=raise_on_error,
            )
        )
    return results


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
"""Run config that keeps Dagster's console logger to warnings (events still reach the instance)."""

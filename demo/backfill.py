"""Single-run backfills of a date range over every organization, with ``dg.materialize``.

The demo and the benchmarks use this: the assets are grouped by partitions definition (the Console
assets share ``date x org``), and each group runs once over the partition range from
``START|first-org`` to ``END|last-org``, which Dagster reads as every day of the range for every
organization. Days outside the partitions (before ``history_start``, after the last complete day)
are left out.

Ctrl-C stops the whole backfill, not just the run in progress: Dagster turns the interrupt into a
failed run and returns, so each run's result is read for it, and ``BackfillInterrupted`` (a
``KeyboardInterrupt``) is raised with the runs done and the groups not run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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
    planned = [
        (g, b) for g in groups(defs, selection) if (b := partition_range(g.partitions_def, start, end))
    ]
    results = []
    for i, (group, bounds) in enumerate(planned):
        run_tags = dict(tags or {})
        if group.partitions_def is not None:
            run_tags.update({RANGE_START: bounds[0], RANGE_END: bounds[1]})
        not_run = [g.keys for g, _ in planned[i + 1 :]]
        try:
            result = dg.materialize(
                everything,
                selection=dg.AssetSelection.assets(*group.keys),
                instance=instance,
                tags=run_tags,
                run_config=run_config,
                resources={**(defs.resources or {}), **(resources or {})},
                raise_on_error=raise_on_error,
            )
        except KeyboardInterrupt as exc:  # outside the part of the run where Dagster catches it
            done = exc.done if isinstance(exc, BackfillInterrupted) else results
            raise BackfillInterrupted(done, [group.keys, *not_run]) from None
        results.append(result)
        if interrupted(result):
            raise BackfillInterrupted(results, not_run)
    return results


@dataclass
class BackfillInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a run interrupted or canceled) stopped a backfill: the runs that ran (the last one
    interrupted, unless the interrupt came between runs) and the asset keys of each run not started."""

    done: list[dg.ExecuteInProcessResult]
    not_run: list[list[dg.AssetKey]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"interrupted after {len(self.done)} run(s); {len(self.not_run)} run(s) not started"


#: Ctrl-C as each layer reports it: Python, Dagster, and DuckDB
_INTERRUPTS = {"KeyboardInterrupt", "DagsterExecutionInterruptedError", "InterruptException"}
#: DuckDB's error for a query running when SIGINT arrives (a RuntimeError)
_DUCKDB_INTERRUPTED = "Query interrupted"


def interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Whether a run was stopped by an interrupt (Ctrl-C, SIGINT) or canceled, rather than failing."""
    if result.dagster_run.status == dg.DagsterRunStatus.CANCELED:
        return True
    return any(
        _caused_by_interrupt(getattr(e.event_specific_data, "error", None))
        for e in result.all_events
        if e.event_type in (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.STEP_FAILURE)
    )


def _caused_by_interrupt(error) -> bool:
    while error is not None:
        if error.cls_name in _INTERRUPTS or _DUCKDB_INTERRUPTED in (error.message or ""):
            return True
        error = error.cause or error.context
    return False


def run_keys(results: Sequence[dg.ExecuteInProcessResult]) -> list[list[dg.AssetKey]]:
    """The asset keys each run materialized (or was asked to)."""
    return [sorted(r.dagster_run.asset_selection or []) for r in results]


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
"""Run config that keeps Dagster's console logger to warnings (events still reach the instance)."""

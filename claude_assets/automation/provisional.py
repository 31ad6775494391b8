"""The provisional re-pull sensor: a day pulled before its source had finished it is pulled again once
its ``final_after`` has passed (``raw.ingest_log``), exactly once per pull.

It watches every asset that declares the ``provisional_days_repulled`` check and requests one run per
(asset, partition) whose latest pull is provisional and due. The run key names the pull (the run that
wrote it and when), so Dagster starts one run per pull however often the sensor ticks; a new pull that
is still provisional gets a new key once its own ``final_after`` passes. It runs by default beside the
readiness sensors (``automation.readiness``), which leave provisional days to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb as duckdb_module
from dagster_duckdb import DuckDBResource

from checks import provisional as provisional_checks
from claude_assets.partitions import DATE, ORG

SENSOR_NAME = "provisional_days_repull"
REPULL_TAG = "claude_assets/repull_of_run"


def _watched(assets: Sequence[object]) -> dict[str, tuple[str, tuple[dg.AssetKey, ...], set[str] | None]]:
    """Table (qualified name) -> (its node, the keys that must run with it, the organizations it has)."""
    out = {}
    for a in assets:
        if not isinstance(a, dg.AssetsDefinition):
            continue
        for spec in a.check_specs:
            if spec.name != provisional_checks.PROVISIONAL:
                continue
            together = (spec.asset_key,) if a.can_subset else tuple(sorted(a.keys))
            out[".".join(spec.asset_key.path)] = (a.node_def.name, together, _orgs(a.partitions_def))
    return out


def _orgs(partitions_def) -> set[str] | None:
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        for dim in partitions_def.partitions_defs:
            if dim.name == ORG:
                return set(dim.partitions_def.get_partition_keys())
    return None


T = TypeVar("T")


def read_ingest_log(
    duckdb: DuckDBResource, read: Callable[[duckdb_module.DuckDBPyConnection], T]
) -> T | dg.SkipReason:
    """``read`` on the warehouse opened read-only, or why a sensor's tick skips: no warehouse yet, a run holding
    its write lock (look again at the next tick), or no ``raw.ingest_log`` yet."""
    path = duckdb.database
    if path != ":memory:" and not Path(path).exists():
        return dg.SkipReason(f"no warehouse at {path} yet")
    try:
        with duckdb_module.connect(path, read_only=True) as con:
            return read(con)
    except duckdb_module.IOException as exc:  # a run holds the write lock: look again at the next tick
        return dg.SkipReason(f"the warehouse is busy ({type(exc).__name__}); trying again at the next tick")
    except duckdb_module.CatalogException:
        return dg.SkipReason("the warehouse has no raw.ingest_log yet")


def provisional_repull_sensor(
    assets: Sequence[object],
    *,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds: int = 300,
) -> dg.SensorDefinition:
    """The sensor over ``assets`` (those with the provisional check are watched)."""
    watched = _watched(assets)
    keys = sorted({k for _, together, _ in watched.values() for k in together})

    @dg.sensor(
        name=SENSOR_NAME,
        description="Pulls again each day logged provisional (partial at the source) once its final_after "
        "has passed: one run per (asset, partition) and pull.",
        asset_selection=keys,
        default_status=default_status,
        minimum_interval_seconds=minimum_interval_seconds,
    )
    def _sensor(context: dg.SensorEvaluationContext, duckdb: DuckDBResource):
        found = read_ingest_log(
            duckdb, lambda con: provisional_checks.due(con, sorted(watched), datetime.now(UTC))
        )
        if isinstance(found, dg.SkipReason):
            return found
        requests: dict[tuple[str, str, str], dict] = {}
        for day in found:
            node, together, orgs = watched[day.table_name]
            if orgs is not None and day.org_id not in orgs:
                continue  # an organization no longer configured
            partition = dg.MultiPartitionKey({DATE: day.usage_date.isoformat(), ORG: day.org_id})
            group = requests.setdefault(
                (node, str(partition), day.run_id), {"keys": set(), "fetched_at": day.fetched_at}
            )
            group["keys"].update(together)
            group["fetched_at"] = max(group["fetched_at"], day.fetched_at)
        if not requests:
            return dg.SkipReason("no provisional day is due for a new pull")
        return [
            dg.RunRequest(
                run_key=f"repull:{node}:{partition}:{run_id}:{group['fetched_at'].astimezone(UTC).isoformat()}",
                asset_selection=sorted(group["keys"]),
                partition_key=partition,
                tags={REPULL_TAG: run_id or "unknown"},
            )
            for (node, partition, run_id), group in sorted(requests.items())
        ]

    return _sensor

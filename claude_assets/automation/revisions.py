"""The metric revision re-pull sensor: a day pulled before a declared revision of its metrics took effect
(``claude_assets.ingest.revisions``) is pulled again, once per revision.

The revisions are the ones the project ships beside each source (``METRIC_REVISIONS_FILE``) and those of
the configuration's ``metric_revisions_file``; an invalid file fails the code location's load, naming the
file, line and field. The sensor reads ``raw.ingest_log`` and, once a revision is in effect by the API's
clock, requests one run per (revision, asset, partition) whose latest pull is stale. The run key names the
revision, so Dagster starts one run per revision and partition however often the sensor ticks, and the
re-pull, logged after ``effective_at``, is no longer stale. The run's tags name the revision and why the
day is pulled again; the materialization carries the reason as ``repull_reason``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb as duckdb_module
from dagster_duckdb import DuckDBResource

from claude_assets.automation.families import FAMILIES
from claude_assets.config import ProjectConfig
from claude_assets.ingest.enterprise_engagement.tables import METRIC_REVISIONS_FILE
from claude_assets.ingest.revisions import MetricRevision, load_revisions, stale_days
from claude_assets.ingest.runner import REPULL_REASON_TAG
from claude_assets.partitions import DATE, ORG

SENSOR_NAME = "metric_revisions_repull"
REVISION_TAG = "claude_assets/metric_revision"
#: the revisions the project ships, one file per source that declares any
SHIPPED_FILES = (METRIC_REVISIONS_FILE,)


def revision_files(config: ProjectConfig) -> list[Path]:
    """The shipped files, then the configuration's ``metric_revisions_file`` (if any)."""
    return [*SHIPPED_FILES, *([config.metric_revisions_file] if config.metric_revisions_file else [])]


def declared_revisions(config: ProjectConfig) -> tuple[MetricRevision, ...]:
    """Every declared revision, each naming a daily table the project pulls and columns of it."""
    return load_revisions(revision_files(config), [t for f in FAMILIES for t in f.tables])


def _watched(
    assets: Sequence[object], tables: set[str]
) -> dict[str, tuple[str, tuple[dg.AssetKey, ...], set[str]]]:
    """Table (qualified name) -> (its node, the keys that must run with it, the organizations it has)."""
    out = {}
    for a in assets:
        if not isinstance(a, dg.AssetsDefinition):
            continue
        for key in a.keys:
            name = ".".join(key.path)
            if name in tables:
                together = (key,) if a.can_subset else tuple(sorted(a.keys))
                out[name] = (a.node_def.name, together, _orgs(a.partitions_def))
    return out


def _orgs(partitions_def) -> set[str]:
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        for dim in partitions_def.partitions_defs:
            if dim.name == ORG:
                return set(dim.partitions_def.get_partition_keys())
    return set()


def reason(revision: MetricRevision, pulled_at: datetime) -> str:
    """Why a day is pulled again, as the run's tag and the materialization's ``repull_reason`` say it."""
    return (
        f"metric revision {revision.describe()} This day was last pulled at "
        f"{pulled_at.astimezone(UTC).isoformat()}, before the revision took effect."
    )


def metric_revision_sensor(
    config: ProjectConfig,
    assets: Sequence[object],
    *,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds: int = 300,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dg.SensorDefinition:
    """The sensor over the assets of the revised tables (an invalid revision file raises here); ``clock``
    is the local clock (the API's is estimated from it per pull)."""
    revisions = declared_revisions(config)
    watched = _watched(assets, {r.table for r in revisions})
    keys = sorted({k for _, together, _ in watched.values() for k in together})

    @dg.sensor(
        name=SENSOR_NAME,
        description="Pulls again, once per revision, each day pulled before a declared revision of its "
        "metrics took effect (metric_revisions.yaml and the configuration's metric_revisions_file).",
        asset_selection=keys,
        default_status=default_status,
        minimum_interval_seconds=minimum_interval_seconds,
    )
    def _sensor(context: dg.SensorEvaluationContext, duckdb: DuckDBResource):
        path = duckdb.database
        if path != ":memory:" and not Path(path).exists():
            return dg.SkipReason(f"no warehouse at {path} yet")
        now = clock()
        try:
            with duckdb_module.connect(path, read_only=True) as con:
                found = [
                    (r, *day) for r in revisions if r.table in watched for day in stale_days(con, r, now)
                ]
        except duckdb_module.IOException as exc:  # a run holds the write lock: look again at the next tick
            return dg.SkipReason(
                f"the warehouse is busy ({type(exc).__name__}); trying again at the next tick"
            )
        except duckdb_module.CatalogException:
            return dg.SkipReason("the warehouse has no raw.ingest_log yet")
        requests = []
        for revision, org_id, day, pulled_at in found:
            node, together, orgs = watched[revision.table]
            if org_id not in orgs:
                continue  # an organization no longer configured
            partition = dg.MultiPartitionKey({DATE: day.isoformat(), ORG: org_id})
            requests.append(
                dg.RunRequest(
                    run_key=f"revision:{revision.id}:{node}:{partition}",
                    asset_selection=list(together),
                    partition_key=partition,
                    tags={REVISION_TAG: revision.id, REPULL_REASON_TAG: reason(revision, pulled_at)},
                )
            )
        if not requests:
            return dg.SkipReason(
                "no day pulled before a declared metric revision took effect "
                f"({', '.join(r.id for r in revisions) or 'none declared'})"
            )
        return requests

    return _sensor

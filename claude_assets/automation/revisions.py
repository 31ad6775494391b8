"""The metric revision re-pull sensor: a day pulled before a declared revision of its metrics took effect
(``claude_assets.ingest.revisions``) is pulled again, once per revision.

The revisions are the ones the project ships beside each source (``METRIC_REVISIONS_FILE``) and those of
the configuration's ``metric_revisions_file``; an invalid file fails the code location's load, naming the
file, line and field. The sensor reads ``raw.ingest_log`` and, once a revision is in effect by the API's
clock, requests one run per (revision, asset, partition) whose latest pull is stale. The run key names the
revision, so Dagster starts one run per revision and partition however often the sensor ticks, and the
re-pull, logged after ``effective_at``, is no longer stale. The run's tags name the revision and why the
day is pulled again; the materialization carries the reason as ``repull_reason``.

The days a revision makes stale are marked by the check ``metric_revisions_current`` (WARN) on each
revised table: the sensor reports it whenever the stale days change (failed while any is stale, naming
the revision, organization and days; passed once they are pulled again), and it runs after each re-pull
and by hand, reading the warehouse the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from claude_assets.automation.families import FAMILIES
from claude_assets.automation.provisional import read_ingest_log
from claude_assets.config import ProjectConfig
from claude_assets.ingest.enterprise_engagement.tables import METRIC_REVISIONS_FILE
from claude_assets.ingest.revisions import MetricRevision, load_revisions, stale_days
from claude_assets.ingest.runner import REPULL_REASON_TAG
from claude_assets.partitions import DATE, ORG

SENSOR_NAME = "metric_revisions_repull"
CHECK_NAME = "metric_revisions_current"
REVISION_TAG = "claude_assets/metric_revision"
#: the revisions the project ships, one file per source that declares any
SHIPPED_FILES = (METRIC_REVISIONS_FILE,)


def revision_files(config: ProjectConfig) -> list[Path]:
    """The shipped files, then the configuration's ``metric_revisions_file`` (if any)."""
    return [*SHIPPED_FILES, *([config.metric_revisions_file] if config.metric_revisions_file else [])]


def declared_revisions(config: ProjectConfig) -> tuple[MetricRevision, ...]:
    """Every declared revision, each naming a daily table the project pulls and columns of it."""
    return load_revisions(revision_files(config), [t for f in FAMILIES for t in f.tables])


@dataclass(frozen=True)
class _Watched:
    """A revised table's asset: its node, key, the keys that must run with it, their own checks, and the
    organizations it has."""

    node: str
    key: dg.AssetKey
    together: tuple[dg.AssetKey, ...]
    own_checks: tuple[dg.AssetCheckKey, ...]
    orgs: frozenset[str]


#: one stale day: (revision, organization, day, when it was last pulled)
Stale = tuple[MetricRevision, str, date, datetime]


def _watched(assets: Sequence[object], tables: set[str]) -> dict[str, _Watched]:
    """Table (qualified name) -> its asset, for the revised tables the project has assets of."""
    out = {}
    for a in assets:
        if not isinstance(a, dg.AssetsDefinition):
            continue
        for key in a.keys:
            name = ".".join(key.path)
            if name in tables:
                together = (key,) if a.can_subset else tuple(sorted(a.keys))
                own = tuple(sorted((c for c in a.check_keys if c.asset_key in together), key=str))
                out[name] = _Watched(a.node_def.name, key, together, own, frozenset(_orgs(a.partitions_def)))
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


def _stale(
    con, revisions: Sequence[MetricRevision], watched: dict[str, _Watched], now: datetime
) -> list[Stale]:
    """The stale days of the watched tables, for the organizations configured."""
    return [
        (r, org, day, pulled)
        for r in revisions
        if r.table in watched
        for org, day, pulled in stale_days(con, r, now)
        if org in watched[r.table].orgs
    ]


def _evaluations(watched: dict[str, _Watched], stale: list[Stale]) -> list[dg.AssetCheckEvaluation]:
    """``metric_revisions_current`` of each revised table: failed (WARN) while a day of it is stale."""
    out = []
    for table, w in sorted(watched.items()):
        days: dict[str, dict[str, list[str]]] = {}
        for revision, org, day, _ in stale:
            if revision.table == table:
                days.setdefault(revision.id, {}).setdefault(org, []).append(day.isoformat())
        description = (
            "; ".join(
                f"revision {rid}: {org} {', '.join(found[:10])}{' …' if len(found) > 10 else ''}"
                for rid, by_org in days.items()
                for org, found in by_org.items()
            )
            + " pulled before the revision took effect: the metric_revisions_repull sensor pulls them again"
            if days
            else f"{table}: no day pulled before a declared metric revision took effect"
        )
        out.append(
            dg.AssetCheckEvaluation(
                asset_key=w.key,
                check_name=CHECK_NAME,
                passed=not days,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"stale_days": dg.MetadataValue.json(days)},
                description=description,
            )
        )
    return out


def _digest(stale: list[Stale]) -> str:
    """The sensor's cursor: what is stale now (a change is reported to the check)."""
    keys = sorted((r.id, org, day.isoformat()) for r, org, day, _ in stale)
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()


def metric_revision_check(
    config: ProjectConfig,
    assets: Sequence[object],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dg.AssetChecksDefinition | None:
    """``metric_revisions_current`` on the revised tables, run after each re-pull and by hand (None: no
    revised table has an asset)."""
    revisions = declared_revisions(config)
    watched = _watched(assets, {r.table for r in revisions})
    if not watched:
        return None

    @dg.multi_asset_check(
        name=CHECK_NAME,
        specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=w.key,
                blocking=False,
                description="No day of the table was last pulled before a declared revision of its metrics "
                "took effect (metric_revisions.yaml, metric_revisions_file); such days are pulled again "
                "by the metric_revisions_repull sensor.",
            )
            for w in watched.values()
        ],
        required_resource_keys={"duckdb"},
        can_subset=True,
    )
    def _check(context):  # an AssetCheckExecutionContext (left unannotated, as readiness.on_time_check)
        with context.resources.duckdb.get_connection() as con:
            found = _stale(con, revisions, watched, clock())
        for evaluation in _evaluations(watched, found):
            if dg.AssetCheckKey(evaluation.asset_key, CHECK_NAME) in context.selected_asset_check_keys:
                yield dg.AssetCheckResult(
                    asset_key=evaluation.asset_key,
                    check_name=CHECK_NAME,
                    passed=evaluation.passed,
                    severity=evaluation.severity,
                    metadata=evaluation.metadata,
                    description=evaluation.description,
                )

    return _check


def metric_revision_sensor(
    config: ProjectConfig,
    assets: Sequence[object],
    *,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds: int = 300,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dg.SensorDefinition | None:
    """The sensor over the assets of the revised tables (an invalid revision file raises here; None: no
    revised table has an asset); ``clock`` is the local clock (the API's is estimated from it per pull)."""
    revisions = declared_revisions(config)
    watched = _watched(assets, {r.table for r in revisions})
    keys = sorted({k for w in watched.values() for k in w.together})
    if not keys:
        return None

    @dg.sensor(
        name=SENSOR_NAME,
        description="Pulls again, once per revision, each day pulled before a declared revision of its "
        "metrics took effect (metric_revisions.yaml and the configuration's metric_revisions_file).",
        asset_selection=keys,
        default_status=default_status,
        minimum_interval_seconds=minimum_interval_seconds,
    )
    def _sensor(context: dg.SensorEvaluationContext, duckdb: DuckDBResource):
        found = read_ingest_log(duckdb, lambda con: _stale(con, revisions, watched, clock()))
        if isinstance(found, dg.SkipReason):
            return found
        requests = []
        for revision, org_id, day, pulled_at in found:
            w = watched[revision.table]
            partition = dg.MultiPartitionKey({DATE: day.isoformat(), ORG: org_id})
            requests.append(
                dg.RunRequest(
                    run_key=f"revision:{revision.id}:{w.node}:{partition}",
                    asset_selection=list(w.together),
                    asset_check_keys=[*w.own_checks, dg.AssetCheckKey(w.key, CHECK_NAME)],
                    partition_key=partition,
                    tags={REVISION_TAG: revision.id, REPULL_REASON_TAG: reason(revision, pulled_at)},
                )
            )
        cursor = _digest(found)
        return dg.SensorResult(
            run_requests=requests,
            asset_events=_evaluations(watched, found) if cursor != context.cursor else [],
            cursor=cursor,
            skip_reason=None
            if requests
            else "no day pulled before a declared metric revision took effect "
            f"({', '.join(r.id for r in revisions) or 'none declared'})",
        )

    return _sensor

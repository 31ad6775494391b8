"""Readiness sensors, one per source family: each day is requested once its source has it ready.

Every tick probes each organization's source with a few small requests (``automation.probes``, through
the organization's shared rate limiter, with short deadlines so a tick stays well inside Dagster's
budget), then compares with ``raw.ingest_log`` and requests, one run per ``date|org`` partition:

- **ready**: a day the source has ready (by the API's own answer) that the warehouse lacks, within
  ``source_timing.catch_up_days`` of the newest ready day. Run key ``ready:<family>:<partition>``: the
  same for every tick, so Dagster starts it once, across ticks and daemon restarts (run keys are kept
  by the instance, not by the sensor).
- **revision**: a day inside the source's revision window (``day_revisable_for``) whose last pull was final and is older than
  ``revision_cadence`` (and, for the Enterprise reports, older than the source's newest export). Run key
  ``revise:<family>:<partition>:<the pull's run ids>``: once per pull. Provisional days are left to the
  ``provisional_days_repull`` sensor, which requests them once per pull when their ``final_after`` passes.
- **settle**: a day whose revision window has closed since its last pull (logged ``revisable``) is pulled
  once more, so the warehouse holds its settled values and logs it ``settled`` (what the insights wait
  for). Run key ``settle:<family>:<partition>:<the pull's run ids>``.

Each tick also judges whether the source is late or has stalled (``automation.lateness``) and reports
the ``source_on_time`` check of the family's assets (``automation.on_time``) whenever a verdict or a
watermark changes.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import duckdb as duckdb_module

from claude_assets.automation.families import API_RESOURCE, FAMILIES, Family
from claude_assets.automation.lateness import Seen, Verdict, judge
from claude_assets.automation.on_time import evaluations, remembered, spec
from claude_assets.automation.probes import Probe
from claude_assets.config import ProjectConfig
from claude_assets.partitions import DATE, ORG, contiguous
from resources.errors import AnthropicApiError, ConfigurationError, OrganizationNotEligible

READINESS_TAG = "claude_assets/readiness"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
#: a probe's budget: one retry, short waits; a slow API waits for the next tick rather than holding this one
#: a day whose revision window has closed while its last pull was still revisable is pulled once more, to
#: store its settled values; days that closed this many days ago or fewer are looked at
SETTLING_DAYS = 7
PROBE_LIMITS = {
    "max_concurrency": 1,
    "timeout_seconds": 5.0,
    "max_retries": 1,
    "backoff_seconds": 0.2,
    "max_retry_after_seconds": 2.0,
    "request_deadline_seconds": 8.0,
}


@dataclass
class Pulled:
    """What ``raw.ingest_log`` holds of one (organization, day) for a family's tables."""

    tables: set[str] = field(default_factory=set)
    provisional: bool = False
    runs: set[str] = field(default_factory=set)
    api_time: datetime | None = None  # the oldest of the tables' pulls
    refreshed: datetime | None = None  # the oldest data_refreshed_at
    settled: bool = True  # every table's pull was logged settled

    def add(self, table, provisional, run_id, api_time, refreshed, status="settled") -> None:
        self.tables.add(table)
        self.provisional |= bool(provisional)
        self.settled &= status == "settled"
        self.runs.add(run_id or "unknown")
        if api_time is not None and (self.api_time is None or api_time < self.api_time):
            self.api_time = api_time
        if refreshed is not None and (self.refreshed is None or refreshed < self.refreshed):
            self.refreshed = refreshed


def probe_all(
    family: Family, config: ProjectConfig, resources, log
) -> tuple[dict[str, Probe], dict[str, str]]:
    """Each organization's probe, or why it failed (one failing organization does not hide the others).
    An organization the source refuses (``OrganizationNotEligible``, e.g. HIPAA readiness) is neither: it
    is logged and left out, as its asset skips it."""
    found, failed = {}, {}
    for org in family.organizations(config):
        api = getattr(resources, API_RESOURCE[org.kind])
        prober = type(api)(**PROBE_LIMITS)
        prober._transport = getattr(api, "_transport", None)
        try:
            with prober.client(org) as client:
                found[org.slug] = family.probe(client, org, family.delay(config))
        except OrganizationNotEligible as exc:
            log.info(f"{family.label} of {org.slug}: the source refuses this organization, not probed: {exc}")
        except (AnthropicApiError, ConfigurationError, dg.Failure, KeyError, TypeError, ValueError) as exc:
            message = getattr(exc, "description", None) or str(exc)
            failed[org.slug] = f"{type(exc).__name__}: {message}"
            log.warning(f"{family.label} of {org.slug}: the readiness probe failed: {failed[org.slug]}")
    return found, failed


def verdicts(
    family: Family, config: ProjectConfig, found: dict[str, Probe], memory: dict
) -> tuple[list[Verdict], dict]:
    timing = family.timing(config)
    out, remembered = [], {}
    for slug, probe in sorted(found.items()):
        verdict, seen = judge(
            family.label,
            slug,
            watermark=probe.watermark,
            latest_day=probe.latest_day,
            api_time=probe.api_time,
            timing=timing,
            seen=Seen.from_json(memory.get(slug)),
        )
        out.append(verdict)
        if seen is not None:
            remembered[slug] = seen.as_json()
    return out, remembered


def read_pulls(path: str, family: Family, since: date) -> dict[tuple[str, date], Pulled]:
    """(organization, day) -> what the warehouse logged of it for the family's tables (read-only)."""
    names = [t.qualified for t in family.tables]
    pulls: dict[tuple[str, date], Pulled] = defaultdict(Pulled)
    with duckdb_module.connect(path, read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, org_id, usage_date, provisional, run_id, coalesce(api_time, fetched_at), "
            f"data_refreshed_at, status FROM raw.ingest_log WHERE usage_date >= ? AND table_name IN "
            f"({', '.join('?' for _ in names)})",
            [since, *names],
        ).fetchall()
    for table, org, day, provisional, run_id, api_time, refreshed, status in rows:
        pulls[(org, day)].add(table, provisional, run_id, api_time, refreshed, status)
    return pulls


def requests_for(
    family: Family,
    config: ProjectConfig,
    found: dict[str, Probe],
    pulls: dict[tuple[str, date], Pulled],
    last_partition_day: date,
    checks: list[dg.AssetCheckKey],
) -> list[dg.RunRequest]:
    """One run request per partition that is ready and missing; one per contiguous range of an
    organization's days due for a revision, or to settle."""
    timing = family.timing(config)
    revisable_for = family.revisable_for(config)
    wanted = {t.qualified for t in family.tables}
    out = []
    for slug, probe in sorted(found.items()):
        if probe.latest_day is None:
            continue
        org = config.get(slug)
        newest = min(probe.latest_day, last_partition_day)
        first = max(org.history_start, newest - timedelta(days=config.source_timing.catch_up_days - 1))
        # a day is revisable while the API's clock is before its end plus the source's revision window
        revisable_from = max(org.history_start, (probe.api_time - revisable_for).date())
        settling_from = max(org.history_start, revisable_from - timedelta(days=SETTLING_DAYS))
        start = min(first, settling_from) if revisable_for else first
        again: dict[str, list[tuple[date, Pulled]]] = {"revision": [], "settle": []}
        for offset in range((newest - start).days + 1):
            day = start + timedelta(days=offset)
            pulled = pulls.get((slug, day))
            partition = dg.MultiPartitionKey({DATE: day.isoformat(), ORG: slug})
            if pulled is None or not wanted <= pulled.tables:
                if day >= first:  # older gaps are a backfill's, not the sensor's
                    out.append(
                        _request(family, partition, f"ready:{family.name}:{partition}", "ready", checks)
                    )
            elif revisable_for and day >= revisable_from and _revisable(family, timing, probe, pulled):
                again["revision"].append((day, pulled))
            elif (
                revisable_for
                and day < revisable_from
                and _settling(family, revisable_for, probe, day, pulled)
            ):
                again["settle"].append((day, pulled))
        for why, days in again.items():
            out.extend(_pull_again(family, slug, why, days, checks))
    return out


def _pull_again(
    family: Family, slug: str, why: str, days: list[tuple[date, Pulled]], checks: list[dg.AssetCheckKey]
) -> list[dg.RunRequest]:
    """One run per contiguous range of days of one organization to pull again (revised or settling days
    are many at once: a month of Enterprise days a day), keyed by the range and the pulls it replaces."""
    out = []
    for start, end in contiguous([d for d, _ in days]):
        pulls = sorted({run for d, p in days if start <= d < end for run in p.runs})
        first, last = (
            dg.MultiPartitionKey({DATE: d.isoformat(), ORG: slug}) for d in (start, end - timedelta(1))
        )
        prefix = "revise" if why == "revision" else why
        if first == last:
            run_key = f"{prefix}:{family.name}:{first}:{'+'.join(pulls)}"
        else:  # the pulls of a month of days: a digest keeps the key short
            digest = hashlib.sha256("+".join(pulls).encode()).hexdigest()[:16]
            run_key = f"{prefix}:{family.name}:{first}..{last}:{digest}"
        out.append(_request(family, (first, last), run_key, why, checks))
    return out


def _settling(family: Family, revisable_for: timedelta, probe: Probe, day: date, pulled: Pulled) -> bool:
    """The day's revision window has closed (by the API's clock and, for the Enterprise reports, their
    export watermark) but its last pull was logged before: one more pull stores its settled values."""
    if pulled.settled or pulled.provisional:
        return False
    settles_after = datetime.combine(day + timedelta(days=1), time(), UTC) + revisable_for
    if probe.api_time < settles_after:
        return False
    return not family.watermarked or (probe.watermark is not None and probe.watermark >= settles_after)


def _revisable(family: Family, timing, probe: Probe, pulled: Pulled) -> bool:
    if pulled.provisional or pulled.api_time is None:
        return False  # the provisional sensor re-pulls it; an unknown API clock is never guessed at
    if probe.api_time - pulled.api_time < timing.revision_cadence:
        return False
    if family.watermarked:
        return probe.watermark is not None and (
            pulled.refreshed is None or pulled.refreshed < probe.watermark
        )
    return True


def _request(
    family: Family,
    partitions: dg.MultiPartitionKey | tuple[dg.MultiPartitionKey, dg.MultiPartitionKey],
    run_key: str,
    why: str,
    checks: list[dg.AssetCheckKey],
) -> dg.RunRequest:
    """A run of the family's assets for one partition, or for a range of one organization's days (the
    range tags of a single-run backfill: one run, one request window per API limit)."""
    tags = {READINESS_TAG: why}
    if isinstance(partitions, tuple) and partitions[0] != partitions[1]:
        tags |= {RANGE_START: str(partitions[0]), RANGE_END: str(partitions[1])}
        partition = None
    else:
        partition = partitions[0] if isinstance(partitions, tuple) else partitions
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=family.asset_keys,
        asset_check_keys=checks,  # the assets' own checks; source_on_time is the sensor's to report
        partition_key=partition,
        tags=tags,
    )


def readiness_sensor(
    family: Family,
    config: ProjectConfig,
    partitions_def: dg.MultiPartitionsDefinition | None,
    checks: list[dg.AssetCheckKey],
    *,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds: int = 120,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=family.sensor_name,
        description=f"Requests each day of the {family.label} once it is ready at the source, re-requests "
        "revised days, and reports source_on_time (late or stalled) on its assets.",
        asset_selection=family.asset_keys,
        default_status=default_status,
        minimum_interval_seconds=minimum_interval_seconds,
        required_resource_keys={"duckdb", *family.resource_keys},
    )
    def _sensor(context: dg.SensorEvaluationContext):
        memory = json.loads(context.cursor) if context.cursor else {}
        found, failed = probe_all(family, config, context.resources, context.log)
        judged, seen = verdicts(family, config, found, memory.get("seen", {}))
        # reported again when a verdict or a watermark changes (the check's metadata shows where data stands)
        reported = {v.org: [v.problem, v.watermark and v.watermark.isoformat()] for v in judged}
        events = evaluations(family, judged, failed) if reported != memory.get("reported") or failed else []
        cursor = json.dumps({"seen": seen, "reported": reported}, sort_keys=True)
        requests, skipped = [], None
        if found:
            try:
                requests = requests_for(
                    family,
                    config,
                    found,
                    _pulls(context.resources.duckdb.database, family, config, found),
                    _last_day(partitions_def),
                    checks,
                )
            except duckdb_module.IOException as exc:  # a run holds the write lock: the next tick asks again
                skipped = f"the warehouse is busy ({type(exc).__name__}); no run requested this tick"
        return dg.SensorResult(
            run_requests=requests,
            asset_events=events,
            cursor=cursor,
            skip_reason=skipped or (None if requests else "every ready day is in the warehouse"),
        )

    return _sensor


def _pulls(path: str, family: Family, config: ProjectConfig, found: dict[str, Probe]) -> dict:
    """The warehouse's pulls of the days a tick may request (none when it has no warehouse or log yet)."""
    if not Path(path).exists():
        return {}
    back = max(config.source_timing.catch_up_days, family.revisable_for(config).days) + SETTLING_DAYS + 2
    since = min(p.latest_day or p.api_time.date() for p in found.values()) - timedelta(days=back)
    try:
        return read_pulls(path, family, since)
    except duckdb_module.CatalogException:
        return {}


def _last_day(partitions_def: dg.MultiPartitionsDefinition | None) -> date:
    """The newest day that has a partition (a day the local clock has not ended has none yet)."""
    if partitions_def is None:
        return date.max
    daily = next(d.partitions_def for d in partitions_def.partitions_defs if d.name == DATE)
    last = daily.get_last_partition_key()
    return date.fromisoformat(last) if last else date.min


def on_time_check(family: Family, config: ProjectConfig) -> dg.AssetChecksDefinition:
    """``source_on_time`` on the family's assets, executable by hand: probes and judges now."""

    @dg.multi_asset_check(
        name=f"{family.name}_on_time",
        specs=[spec(family, key) for key in family.asset_keys],
        required_resource_keys=set(family.resource_keys),
        can_subset=True,
    )
    def _check(context):  # an AssetCheckExecutionContext (left unannotated: the annotations are strings here)
        found, failed = probe_all(family, config, context.resources, context.log)
        judged, _ = verdicts(family, config, found, remembered(context, family))
        for evaluation in evaluations(family, judged, failed):
            key = dg.AssetCheckKey(evaluation.asset_key, evaluation.check_name)
            if key in context.selected_asset_check_keys:
                yield dg.AssetCheckResult(
                    asset_key=evaluation.asset_key,
                    check_name=evaluation.check_name,
                    passed=evaluation.passed,
                    severity=evaluation.severity,
                    metadata=evaluation.metadata,
                    description=evaluation.description,
                )

    return _check


def own_checks(family: Family, by_key: dict) -> list[dg.AssetCheckKey]:
    """The checks the family's assets run with each materialization."""
    return sorted(
        {c for k in family.asset_keys for c in by_key[k].check_keys if c.asset_key in family.asset_keys},
        key=lambda c: (c.asset_key.to_user_string(), c.name),
    )


@dataclass(frozen=True)
class Automation:
    sensors: list[dg.SensorDefinition]
    checks: list[dg.AssetChecksDefinition]


def readiness_automation(config: ProjectConfig, assets) -> Automation:
    """A readiness sensor and a source_on_time check per source family that has an organization to read."""
    by_key = {k: a for a in assets if isinstance(a, dg.AssetsDefinition) for k in a.keys}
    families = [f for f in FAMILIES if f.organizations(config) and f.asset_keys[0] in by_key]
    return Automation(
        sensors=[
            readiness_sensor(f, config, by_key[f.asset_keys[0]].partitions_def, own_checks(f, by_key))
            for f in families
        ],
        checks=[on_time_check(f, config) for f in families],
    )

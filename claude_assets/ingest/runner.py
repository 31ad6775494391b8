"""The loop every raw asset shares: run partitions -> API windows -> validate -> atomic write -> checks.

An asset supplies a *fetcher* (one organization, one API window -> staged frames) and the tables it
writes; the runner cuts the run's partitions into the API's largest windows, fetches them with
bounded concurrency under the organization's rate limit, validates each window with pandera before
anything is written, replaces each window in one transaction, then reports metadata and checks.

Each day written is logged with whether its source had finished it (``completeness``): by the API's
clock (the ``Date`` header of the window's responses), ``data_refreshed_at`` and the source's delay.
A run that asks for a day the API's clock has not ended fails before anything is written.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import dagster as dg
import duckdb as duckdb_module
import pandas as pd
import pandera.pandas as pa
from dagster_duckdb import DuckDBResource

from checks import provisional as provisional_checks
from checks import window as window_checks
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.ingest.completeness import CompleteAfter, judge, last_ended_day, not_ended
from claude_assets.partitions import DATE, ORG, contiguous, split, windows_by_org
from claude_assets.privacy.pseudonyms import Pseudonyms
from claude_assets.warehouse import figures, identity, restatements
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.preflight import check_writable
from claude_assets.warehouse.sql import table_exists
from claude_assets.warehouse.writes import DayCompleteness, WindowWrite, write_windows
from resources.apis import _AnthropicApi
from resources.client import ApiClient, CallStats


@dataclass(frozen=True)
class Fetched:
    """One organization's window, staged: rows per table, the days the API answered for, and the request.

    ``data_refreshed_at``: the oldest export watermark of the window's pages, for a source that has one
    (None there means no export yet). ``refused``: the API refused the organization itself for this source
    (its reason): the window is skipped, nothing is written, and the run goes on.
    """

    frames: dict[Table, pd.DataFrame]
    days: frozenset[date]
    source_request: str
    data_refreshed_at: datetime | None = None
    refused: str | None = None


Fetcher = Callable[[ApiClient, OrgConfig, date, date, CallStats], Fetched]
Windows = dict[str, list[tuple[date, date]]]
#: checks an asset adds to the window checks: (connection, windows written per org) -> results
ExtraChecks = Callable[[duckdb_module.DuckDBPyConnection, Windows], Iterable[dg.AssetCheckResult]]
HISTORY_START_REASON = "before the organization's history_start"
#: a run tag saying why the run pulls its days again (set by the automation that requested it); every
#: materialization of the run carries it as ``repull_reason``
REPULL_REASON_TAG = "claude_assets/repull_reason"


@dataclass(frozen=True)
class Availability:
    """The days an API can answer for, beyond the organization's own ``history_start``.

    - ``floor``: the API holds nothing before this day. Such days are skipped: no request is sent and
      the materialization's metadata says how many days were skipped and why (``floor_reason``).
    - ``latest``: asked once per organization and run (one small request) for the newest day the API
      serves. A run that asks for a newer day fails before anything is fetched, naming that day
      (``latest_hint`` adds what to do).
    - ``skip``: an organization the asset does not read at all (e.g. a beta endpoint it has not
      enabled): returns the reason, and its days are skipped like days before ``floor``; None reads it.
    """

    floor: date | None = None
    floor_reason: str = "before the first day the API has data for"
    latest: Callable[[ApiClient, OrgConfig, CallStats], date] | None = None
    latest_hint: str = ""
    skip: Callable[[OrgConfig], str | None] | None = None


def describe_request(path: str, params: dict) -> str:
    return f"GET {path}?{urlencode(params, doseq=True, safe='[]:')}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def extra_json(record: dict, known: set[str]) -> str | None:
    """Fields the API sent that the table has no column for: kept, never dropped."""
    extra = {k: v for k, v in record.items() if k not in known}
    return json.dumps(extra, sort_keys=True, default=str) if extra else None


def run_windows(
    context: dg.AssetExecutionContext,
    *,
    config: ProjectConfig,
    api: _AnthropicApi,
    duckdb: DuckDBResource,
    tables: list[Table],
    schemas: dict[Table, pa.DataFrameSchema],
    fetch: Fetcher,
    max_days: int,
    availability: Availability | None = None,
    extra_checks: ExtraChecks | None = None,
    complete_after: CompleteAfter | None = None,
    revisable_for: timedelta = timedelta(0),
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """``complete_after``: how the source finishes a day (None: it serves only finished days);
    ``revisable_for``: how long after a day ends the source may still revise it (``day_revisable_for``)."""
    check_writable(duckdb)  # before any request: a warehouse this run cannot write fails it now
    pseudonyms = Pseudonyms.of(config)  # pseudonymization on without its secret fails here too
    stats = CallStats()
    covered, skipped = _plan(context, config, availability)
    latest = _check_latest(config, api, covered, availability, tables, stats)
    rows: dict[Table, int] = defaultdict(int)
    source = complete_after.source if complete_after else ", ".join(t.qualified for t in tables)
    clock = _ApiClock(config, covered, source)
    partitions = _partition_keys(context)
    refused: Windows = {}  # windows the API refused the organization for: skipped, not written
    completeness: dict[str, dict] = {}  # partition key -> its completeness, the same for every table
    for slug, kept in covered.items():
        org = config.get(slug)
        api_windows = [w for s, e in kept for w in split(s, e, max_days)]
        with api.client(org) as client:

            def pull(
                w: tuple[date, date], c=client, o=org
            ) -> tuple[tuple[date, date], Fetched, datetime | None]:
                own = CallStats()  # this window's responses, so its days are judged by their own Date header
                try:
                    fetched = fetch(c, o, w[0], w[1], own)
                except Exception as exc:
                    clock.refuse_if_not_ended(o, w, own.server_time, exc)
                    raise
                finally:
                    stats.merge(own)
                return w, fetched, own.server_time

            results = client.map(pull, api_windows)
            batch = _Batch(slug, context.run.run_id)
            batch.guard = identity.guard(org, client.seen_organizations.ids, context.run.run_id)
            for (start, end), fetched, api_time in results:
                clock.seen(org, api_time)
                if fetched.refused:
                    _refused(context, tables, partitions, slug, start, end, fetched.refused, skipped)
                    refused.setdefault(slug, []).append((start, end))
                    continue
                for table, frame in fetched.frames.items():
                    _refuse_rows_outside(slug, table, frame, start, end, fetched.source_request)
                    try:
                        window_checks.validate(schemas[table], table, frame)
                    except window_checks.SchemaViolation as found:
                        shown = window_checks.SchemaViolation(  # the failure is shown in the UI: below raw
                            table, pseudonyms.mask_failures(table, slug, found.failures)
                        )
                        raise dg.Failure(
                            description=f"{slug} {start}..{end}: {shown}",
                            metadata={
                                "failure_cases": dg.MetadataValue.md(
                                    shown.failures.head(50).to_markdown(index=False)
                                )
                            },
                        ) from None
                    fetched.frames[table] = pseudonyms.for_raw(table, frame)  # privacy.raw_emails
                if batch.windows and (batch.end != start or batch.days >= WRITE_DAYS):
                    batch.flush(context, duckdb, rows)
                judged = {
                    d: judge(complete_after, d, api_time, fetched.data_refreshed_at, revisable_for)
                    for d in fetched.days
                }
                batch.add(start, end, fetched, judged)
                completeness.update(_completeness_metadata(partitions, slug, judged))
                if batch.rows >= WRITE_ROWS:
                    batch.flush(context, duckdb, rows)
            batch.flush(context, duckdb, rows)
    covered = _without(covered, refused)
    with duckdb.get_connection() as con:
        restated = restatements.of_run(con, tables, context.run.run_id)
        slots = {key: (day, org) for (org, day), key in partitions.items()}
        for table in tables:
            own = (
                figures.by_partition(con, table, slots, person=pseudonyms.user)
                if table_exists(con, table.qualified)
                else {}
            )
            _partition_metadata(context, table, partitions, completeness, restated, own)
            meta = _metadata(con, table, covered, rows[table], stats, skipped, pseudonyms)
            meta.update(
                {
                    f"{figures.RUN}{k}": v
                    for k, v in restatements.summary(restated.get(table.qualified, [])).items()
                }
            )
            if latest:
                meta["latest_available_day"] = {k: v.isoformat() for k, v in latest.items()}
            if context.run.tags.get(REPULL_REASON_TAG):
                meta["repull_reason"] = context.run.tags[REPULL_REASON_TAG]
            yield dg.MaterializeResult(asset_key=table.asset_key, metadata=meta)
        for table in tables:
            if covered:
                yield from window_checks.results(con, table, covered, rows[table])
            else:
                yield from _nothing_to_check(table, skipped)
        if complete_after is not None:
            for table in tables:
                yield provisional_checks.result(con, table)
        if extra_checks is not None:
            yield from extra_checks(con, covered)


class _ApiClock:
    """The API's clock as the run's responses give it; refuses days it has not ended, before any write.

    The first response from an API (a base URL) is checked against the last day of *every* organization of
    the run on that API, so a run that asks for a day not yet over fails before anything is written.
    """

    def __init__(self, config: ProjectConfig, covered: Windows, source: str) -> None:
        self.config, self.covered, self.source = config, covered, source
        self.checked: set[str] = set()

    def seen(self, org: OrgConfig, api_time: datetime | None) -> None:
        base = org.resolved_base_url()
        if api_time is None or base in self.checked:
            return
        self.checked.add(base)
        for slug, spans in self.covered.items():
            other = self.config.get(slug)
            if other.resolved_base_url() == base:
                self._refuse(other, spans[0][0], spans[-1][1], api_time, None)

    def refuse_if_not_ended(
        self, org: OrgConfig, window: tuple[date, date], api_time: datetime | None, exc: BaseException
    ) -> None:
        """A window refused by the API (e.g. a 400 for a range not over yet) is explained by the clock."""
        if api_time is not None:
            self._refuse(org, window[0], window[1], api_time, exc)

    def _refuse(
        self, org: OrgConfig, start: date, end: date, api_time: datetime, exc: BaseException | None
    ) -> None:
        last = end - timedelta(days=1)
        if not not_ended(last, api_time):
            return
        ended = last_ended_day(api_time)
        first = max(start, ended + timedelta(days=1))
        days = f"{first}" + (f" to {last}" if last > first else "")
        raise dg.Failure(
            description=(
                f"{self.source}: organization {org.slug!r} asked for {days}, which has not ended by the "
                f"API's clock ({api_time.isoformat()}, its Date header); nothing was written. A day is "
                f"pulled once it is over: materialize up to {ended} now and {days} once it has ended."
            ),
            metadata={
                "organization": org.slug,
                "days_not_ended": days,
                "api_time": api_time.isoformat(),
                "last_ended_day": ended.isoformat(),
            },
        ) from exc


def _refused(
    context: dg.AssetExecutionContext,
    tables: list[Table],
    partitions: dict[tuple[str, date], str],
    slug: str,
    start: date,
    end: date,
    reason: str,
    skipped: dict[str, dict[str, int]],
) -> None:
    """A window the API refused the organization for: in the run's log, the skipped days of the
    materialization and each of its partitions' own metadata, with the API's reason."""
    days = (end - start).days
    skipped.setdefault(reason, {})[slug] = skipped.get(reason, {}).get(slug, 0) + days
    context.log.warning(
        f"{slug} {start}..{end - timedelta(days=1)}: "
        f"{', '.join(t.qualified for t in tables)} skipped, nothing written: {reason}"
    )
    for i in range(days):
        key = partitions.get((slug, start + timedelta(days=i)))
        if key is not None:
            for table in tables:
                context.add_asset_metadata(
                    {"skipped": True, "skipped_reason": reason}, asset_key=table.asset_key, partition_key=key
                )


def _without(covered: Windows, refused: Windows) -> Windows:
    """The run's windows less those the API refused (their days were neither written nor are checked)."""
    out: Windows = {}
    for slug, spans in covered.items():
        gone = {s + timedelta(days=i) for s, e in refused.get(slug, []) for i in range((e - s).days)}
        days = [s + timedelta(days=i) for s, e in spans for i in range((e - s).days)]
        kept = contiguous([d for d in days if d not in gone])
        if kept:
            out[slug] = kept
    return out


def _partition_keys(context: dg.AssetExecutionContext) -> dict[tuple[str, date], str]:
    """The run's partition keys by (organization, day)."""
    out: dict[tuple[str, date], str] = {}
    for key in context.partition_keys:
        dims = (
            key.keys_by_dimension
            if isinstance(key, dg.MultiPartitionKey)
            else dict(zip((DATE, ORG), key.split("|"), strict=True))
        )
        out[(dims[ORG], date.fromisoformat(dims[DATE]))] = key
    return out


def _completeness_metadata(
    partitions: dict[tuple[str, date], str], slug: str, judged: dict[date, DayCompleteness]
) -> dict[str, dict]:
    """Each partition's own completeness (partition key -> metadata)."""
    out: dict[str, dict] = {}
    for day, state in judged.items():
        key = partitions.get((slug, day))
        if key is None:
            continue
        meta: dict = {
            "provisional": state.provisional,
            "provisional_days": [day.isoformat()] if state.provisional else [],
            "status": state.status,
        }
        for name in ("final_after", "api_time", "data_refreshed_at", "settles_after"):
            value = getattr(state, name)
            if value is not None:
                meta[name] = dg.MetadataValue.timestamp(value)
        out[key] = meta
    return out


def _partition_metadata(
    context: dg.AssetExecutionContext,
    table: Table,
    partitions: dict[tuple[str, date], str],
    completeness: dict[str, dict],
    restated: dict[str, list[restatements.Restated]],
    own: dict[str, dict],
) -> None:
    """Each partition's own metadata on that partition's materialization only (not the run's): its
    completeness, whether it was restated (raw.restatements) and what changed, and its figures as the
    warehouse holds them (``figures.by_partition``). One call per partition: Dagster checks the key against
    the run's whole range on each call. This is how a single-run backfill shows true figures per partition:
    Dagster otherwise copies the run's metadata onto every partition (dagster-io/dagster#18123)."""
    changes = {
        partitions[(d.org_id, d.usage_date)]: {"restated": True, "restated_changes": d.describe()}
        for d in restated.get(table.qualified, [])
        if (d.org_id, d.usage_date) in partitions
    }
    for key in partitions.values():
        meta = {**completeness.get(key, {}), **changes.get(key, {}), **own.get(key, {})}
        if meta:
            context.add_asset_metadata(meta, asset_key=table.asset_key, partition_key=key)


def _refuse_rows_outside(
    slug: str, table: Table, frame: pd.DataFrame, start: date, end: date, request: str
) -> None:
    """Fail the run when the API answered with rows dated outside the window it was asked for: such a row
    would be written under a day no later run of that day deletes, so it could be kept twice, forever."""
    if not len(frame) or "usage_date" not in frame.columns:
        return
    days = frame["usage_date"].astype("string").str[:10]
    outside = days.isna() | (days < start.isoformat()) | (days >= end.isoformat())
    if outside.any():
        dates = sorted({str(d) for d in days[outside]})
        raise dg.Failure(
            description=(
                f"{slug} {table.qualified}: {int(outside.sum())} row(s) dated {', '.join(dates[:5])} in the answer "
                f"to a request for {start}..{end - timedelta(days=1)} ({request}); rows are kept only for the "
                "days asked for, so nothing of this window was written. The API answered outside the window: "
                "re-run the window; if it persists, report the request."
            ),
            metadata={"endpoint_request": request, "window": f"{start}..{end}", "row_dates": dates[:50]},
        )


#: Consecutive API windows (e.g. one-day requests) are written together, up to this many days a transaction
#: or until this many rows are staged (so a run's memory stays bounded whatever the organization's size).
WRITE_DAYS = 31
WRITE_ROWS = 200_000


class _Batch:
    """Validated windows of one organization waiting to be written in one transaction."""

    def __init__(self, org_id: str, run_id: str) -> None:
        self.org_id, self.run_id = org_id, run_id
        self.windows: list[tuple[date, date, Fetched]] = []
        self.completeness: dict[date, DayCompleteness] = {}
        self.guard: identity.WriteGuard | None = None  # the organization check inside each write

    @property
    def end(self) -> date | None:
        return self.windows[-1][1] if self.windows else None

    @property
    def rows(self) -> int:
        return sum(len(frame) for _, _, f in self.windows for frame in f.frames.values())

    @property
    def days(self) -> int:
        return sum((e - s).days for s, e, _ in self.windows)

    def add(self, start: date, end: date, fetched: Fetched, judged: dict[date, DayCompleteness]) -> None:
        self.windows.append((start, end, fetched))
        self.completeness.update(judged)

    def flush(
        self, context: dg.AssetExecutionContext, duckdb: DuckDBResource, rows: dict[Table, int]
    ) -> None:
        if not self.windows:
            return
        start, end = self.windows[0][0], self.windows[-1][1]
        tables = list(self.windows[0][2].frames)
        frames = {t: _concat([f.frames[t] for _, _, f in self.windows]) for t in tables}
        requests = {d: f.source_request for _, _, f in self.windows for d in f.days}
        completeness, self.completeness = self.completeness, {}
        self.windows = []  # the windows' frames are released as soon as they are concatenated
        with duckdb.get_connection() as con:
            written = write_windows(
                con,
                WindowWrite(
                    org_id=self.org_id,
                    start=start,
                    end=end,
                    frames=frames,
                    requests=requests,
                    fetched_at=now_iso(),
                    run_id=self.run_id,
                    completeness=completeness,
                    guard=self.guard,
                ),
            )
        for table, n in written.items():
            rows[table] += n
        provisional = sorted(d.isoformat() for d, c in completeness.items() if c.provisional)
        context.log.info(
            f"{self.org_id} {start}..{end}: "
            + ", ".join(f"{t.qualified} {n} rows" for t, n in written.items())
            + (
                f"; provisional (not yet complete at the source): {', '.join(provisional)}"
                if provisional
                else ""
            )
        )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    non_empty = [f for f in frames if len(f)]
    if len(non_empty) == 1:
        return non_empty[0]
    return pd.concat(non_empty, ignore_index=True) if non_empty else frames[0]


def _days(spans: list[tuple[date, date]]) -> int:
    return sum((e - s).days for s, e in spans)


def _plan(
    context: dg.AssetExecutionContext, config: ProjectConfig, availability: Availability | None
) -> tuple[Windows, dict[str, dict[str, int]]]:
    """The run's days per organization that the API can hold, and the days skipped (reason -> org -> days)."""
    covered: Windows = {}
    skipped: dict[str, dict[str, int]] = {}
    for slug, spans in windows_by_org(context).items():
        org = config.get(slug)
        not_read = availability.skip(org) if availability is not None and availability.skip else None
        if not_read:
            skipped.setdefault(not_read, {})[slug] = _days(spans)
            continue
        floor, reason = org.history_start, HISTORY_START_REASON
        if availability is not None and availability.floor is not None and availability.floor > floor:
            floor, reason = availability.floor, availability.floor_reason
        kept = [(max(s, floor), e) for s, e in spans if e > floor]
        if _days(spans) > _days(kept):
            skipped.setdefault(reason, {})[slug] = _days(spans) - _days(kept)
        if kept:
            covered[slug] = kept
    return covered, skipped


def _check_latest(
    config: ProjectConfig,
    api: _AnthropicApi,
    covered: Windows,
    availability: Availability | None,
    tables: list[Table],
    stats: CallStats,
) -> dict[str, date]:
    """Ask each organization's newest available day; fail before any fetch when the run asks for a newer one."""
    if availability is None or availability.latest is None:
        return {}
    latest: dict[str, date] = {}
    late: list[str] = []
    for slug, kept in covered.items():
        org = config.get(slug)
        with api.client(org) as client:
            latest[slug] = availability.latest(client, org, stats)
        last = kept[-1][1] - timedelta(days=1)
        if last > latest[slug]:
            first = max(kept[0][0], latest[slug] + timedelta(days=1))
            late.append(
                f"{slug}: {first}{f' to {last}' if last > first else ''} is not available yet; the most "
                f"recent available day is {latest[slug]}"
            )
    if late:
        names = ", ".join(t.qualified for t in tables)
        raise dg.Failure(
            description=f"{names}: nothing was fetched or written. "
            + "; ".join(late)
            + ". "
            + availability.latest_hint,
            metadata={
                "latest_available_day": {k: v.isoformat() for k, v in latest.items()},
                "unavailable": dg.MetadataValue.md("\n".join(f"- {x}" for x in late)),
            },
        )
    return latest


def _nothing_to_check(table: Table, skipped: dict[str, dict[str, int]]) -> list[dg.AssetCheckResult]:
    note = {
        "note": "no requested day can hold data: " + "; ".join(skipped) + ". Nothing was requested.",
        "skipped_days": skipped,
    }
    return [
        dg.AssetCheckResult(asset_key=table.asset_key, check_name=s.name, passed=True, metadata=note)
        for s in window_checks.specs(table)
    ]


def _metadata(
    con,
    table: Table,
    covered: Windows,
    rows: int,
    stats: CallStats,
    skipped: dict[str, dict[str, int]],
    pseudonyms: Pseudonyms,
) -> dict:
    """The run's figures, each named as the run's (every partition of the run shows them, beside its own),
    and the whole table's row count as the asset's headline."""
    meta: dict = {
        # the table's rows (none yet when no day of it was ever written)
        **(
            figures.table_rows(con, table) if table_exists(con, table.qualified) else {"dagster/row_count": 0}
        ),
        "dagster/column_schema": table.dagster_schema(),
        "run_rows_written": dg.MetadataValue.int(rows),
        "run_window": dg.MetadataValue.md(
            "\n".join(
                f"- `{org}`: " + ", ".join(f"{s} → {e} ({(e - s).days} d)" for s, e in spans)
                for org, spans in covered.items()
            )
            or "nothing in range"
        ),
        **figures.run_stats(stats.as_dict()),
    }
    if skipped:
        meta["run_skipped_days"] = skipped  # reason -> organization -> days (no request was sent for them)
        if HISTORY_START_REASON in skipped:
            meta["run_skipped_days_before_history_start"] = skipped[HISTORY_START_REASON]
    if not covered:
        return meta
    where = " OR ".join(
        "(org_id = ? AND usage_date >= ? AND usage_date < ?)" for spans in covered.values() for _ in spans
    )
    params = [x for org, spans in covered.items() for s, e in spans for x in (org, s, e)]
    meta.update(figures.run_totals(con, table, where, params))
    preview = con.execute(
        f"SELECT * EXCLUDE (extra, fetched_at, source_request) FROM {table.qualified} "
        f"WHERE {where} ORDER BY ALL LIMIT 10",
        params,
    ).df()
    preview = pseudonyms.mask(table, preview)  # the UI is below raw: no email or name of a pseudonymized org
    meta["run_preview"] = dg.MetadataValue.md(
        preview.to_markdown(index=False) if len(preview) else "(no rows)"
    )
    return meta

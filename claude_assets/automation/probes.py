"""Cheap probes of each source's readiness: one to three small requests that say how far its data goes.

Each probe answers with the API's own clock (the ``Date`` header) and the source's watermark, the
instant its data stands at: the end of the newest completed cost day, the start of the newest Console
usage bucket, the end of the newest Claude Code day with rows, the end of the newest engagement day,
or the Enterprise reports' ``data_refreshed_at``. Requests are sized by the API's clock, not the local
one: a probe that guessed the day wrong by the local clock asks once more by the API's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from claude_assets.config import OrgConfig
from claude_assets.ingest.completeness import day_end
from claude_assets.ingest.console.fetch import CLAUDE_CODE_PATH, COST_PATH, USAGE_PATH
from claude_assets.ingest.enterprise_engagement.fetch import probe_latest_day
from claude_assets.ingest.enterprise_reports.api import BASE, BETA_HEADERS
from resources.client import ApiClient, CallStats
from resources.errors import InvalidRequest

LEGACY_REPORT_PATH = f"{BASE}/usage_report"
BETA_REPORT_PATH = f"{BASE}/usage"


@dataclass(frozen=True)
class Probe:
    """What a source showed: the API's clock, its watermark, and the newest day it has ready (None: none)."""

    api_time: datetime
    watermark: datetime | None
    latest_day: date | None
    requests: int


ProbeFn = Callable[[ApiClient, OrgConfig, timedelta], Probe]


def _midnight(day: date) -> str:
    return datetime.combine(day, time(0), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _by_api_clock(ask: Callable[[date, CallStats], dict], stats: CallStats) -> dict:
    """``ask(today)`` by the local clock, asked again by the API's clock when the two disagree on the day."""
    today = datetime.now(UTC).date()
    try:
        body = ask(today, stats)
    except InvalidRequest:
        if stats.server_time is None or stats.server_time.date() == today:
            raise
        return ask(stats.server_time.astimezone(UTC).date(), stats)
    if stats.server_time is not None and stats.server_time.astimezone(UTC).date() != today:
        body = ask(stats.server_time.astimezone(UTC).date(), stats)
    return body


def _instant(text: object) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(UTC)


def _api_time(stats: CallStats) -> datetime:
    return (stats.server_time or datetime.now(UTC)).astimezone(UTC)


def _ready_by_delay(newest: date | None, api_time: datetime, delay: timedelta) -> date | None:
    """The newest day served, if the API's clock has passed its end plus the source's delay; else the one before."""
    if newest is None:
        return None
    return newest if api_time >= day_end(newest) + delay else newest - timedelta(days=1)


def console_cost(client: ApiClient, org: OrgConfig, delay: timedelta) -> Probe:
    """The cost report holds completed days only: its newest bucket is the newest day ready."""
    stats = CallStats()

    def ask(today: date, s: CallStats) -> dict:
        start = today - timedelta(days=7)
        return client.get(COST_PATH, {"starting_at": _midnight(start), "limit": 7}, stats=s)

    body = _by_api_clock(ask, stats)
    days = [date.fromisoformat(str(b["starting_at"])[:10]) for b in body.get("data") or []]
    newest = max(days, default=None)
    api_time = _api_time(stats)
    return Probe(
        api_time, newest and day_end(newest), _ready_by_delay(newest, api_time, delay), stats.requests
    )


def console_usage(client: ApiClient, org: OrgConfig, delay: timedelta) -> Probe:
    """The usage report's newest hourly bucket: a day is ready once a bucket starts ``delay`` after it ends."""
    stats = CallStats()

    def ask(today: date, s: CallStats) -> dict:
        start = today - timedelta(days=1)
        params = {"starting_at": _midnight(start), "bucket_width": "1h", "limit": 48}
        return client.get(USAGE_PATH, params, stats=s)

    body = _by_api_clock(ask, stats)  # 48 hourly buckets from yesterday's start: one page holds them all
    starts = [_instant(b["starting_at"]) for b in body.get("data") or []]
    newest = max(starts, default=None)
    latest = None if newest is None else (newest - delay).date() - timedelta(days=1)
    return Probe(_api_time(stats), newest, latest, stats.requests)


def claude_code(client: ApiClient, org: OrgConfig, delay: timedelta) -> Probe:
    """Claude Code: "only data older than 1 hour is included", so a day is ready ``delay`` after it ends,
    while the source shows rows on one of the last three ended days (one row asked for per day). Its
    watermark is the end of the newest day with rows: a day without activity cannot be told from a
    stalled source, so it is judged over days (``source_timing.claude_code``) and re-pulled
    within its revision window."""
    stats = CallStats()
    newest: date | None = None

    def ask(today: date, s: CallStats) -> dict:
        params = {"starting_at": (today - timedelta(days=1)).isoformat(), "limit": 1}
        return client.get(CLAUDE_CODE_PATH, params, stats=s)

    body = _by_api_clock(ask, stats)
    yesterday = _api_time(stats).date() - timedelta(days=1)
    for back in range(3):
        day = yesterday - timedelta(days=back)
        if back:
            body = client.get(CLAUDE_CODE_PATH, {"starting_at": day.isoformat(), "limit": 1}, stats=stats)
        if body.get("data"):
            newest = day
            break
    api_time = _api_time(stats)
    latest = None if newest is None else _ready_by_delay(yesterday, api_time, delay)
    return Probe(api_time, newest and day_end(newest), latest, stats.requests)


def engagement(client: ApiClient, org: OrgConfig, delay: timedelta) -> Probe:
    """Engagement: the newest day the API serves (the last day of one ``/summaries`` answer)."""
    stats = CallStats()
    newest = probe_latest_day(client, org, stats)
    return Probe(_api_time(stats), day_end(newest), newest, stats.requests)


def _report(path: str, headers: dict[str, str] | None = None) -> ProbeFn:
    def probe(client: ApiClient, org: OrgConfig, delay: timedelta) -> Probe:
        stats = CallStats()

        def ask(today: date, s: CallStats) -> dict:
            params = {"starting_at": _midnight(today - timedelta(days=1)), "limit": 1}
            return client.get(path, params, stats=s, headers=headers)

        body = _by_api_clock(ask, stats)
        raw = body.get("data_refreshed_at")
        refreshed = _instant(raw) if raw else None
        latest = None if refreshed is None else (refreshed - delay).date() - timedelta(days=1)
        return Probe(_api_time(stats), refreshed, latest, stats.requests)

    probe.__doc__ = f"The export watermark ``data_refreshed_at`` of GET {path}: a day is ready once it has "
    "reached the day's end plus the documented delay."
    return probe


enterprise_reports = _report(LEGACY_REPORT_PATH)
analytics_beta = _report(BETA_REPORT_PATH, BETA_HEADERS)

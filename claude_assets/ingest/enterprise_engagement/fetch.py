"""Engagement requests and their pages as rows: the summaries, the per-day endpoints and the latest-day probe."""

import threading
import time
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from claude_assets.config import OrgConfig
from claude_assets.ingest.enterprise_engagement.layout import Layout, parse_record
from claude_assets.ingest.enterprise_engagement.layouts import SUMMARY_LAYOUT
from claude_assets.ingest.enterprise_engagement.tables import BASE, ENTERPRISE_SUMMARY, Endpoint
from claude_assets.ingest.runner import Availability, Fetched, describe_request, now_iso
from claude_assets.ingest.staging import RowBuffer, values_of
from resources.client import ApiClient, CallStats
from resources.errors import InvalidRequest

SUMMARIES_PATH = f"{BASE}/summaries"
API_FLOOR = date(2026, 1, 1)  # "No data before 2026-01-01" (reference B0)
PAGE_LIMIT = 1000  # the largest page the engagement endpoints allow (B0.1)
SUMMARY_MAX_DAYS = 366  # a summaries range spans at most 366 days (B1)
PROBE_DAYS = 31  # the latest-day probe asks for about a month, so its range is always valid
PROBE_TTL_SECONDS = 300.0  # the assets of one run share one probe per organization


# -- the API's available days ---------------------------------------------------------------------------------
def summary_records(page: dict, request: str) -> list[dict]:
    """The day records of a ``/summaries`` response, in either documented envelope (reference B1): the docs'
    ``{"summaries": [...]}`` (no ``data``, no ``next_page``) or the SDK's ``{"data": [...], "next_page": null}``
    (``summaries`` a deprecated alias). A response with both lists must say the same in each; one that asks
    for another page is refused, since the endpoint returns every day at once."""
    lists = {name: page.get(name) for name in ("data", "summaries") if page.get(name) is not None}
    if not lists:
        raise ValueError(
            f"{request}: the response has neither a data nor a summaries list (keys: "
            f"{', '.join(sorted(page)) or 'none'}); the Enterprise Analytics API changed its summaries "
            "envelope: report it with this request"
        )
    for name, value in lists.items():
        if not isinstance(value, list):
            raise ValueError(f"{request}: {name} is a {type(value).__name__}, not a list of days")
    if len(lists) == 2 and lists["data"] != lists["summaries"]:
        raise ValueError(
            f"{request}: data ({len(lists['data'])} days) and its alias summaries "
            f"({len(lists['summaries'])} days) disagree; nothing is written: retry later"
        )
    if page.get("next_page") is not None:
        raise ValueError(
            f"{request}: next_page is {page['next_page']!r}, but the summaries endpoint returns every day "
            "in one response (next_page is always null); nothing is written"
        )
    return list(lists.get("data", lists.get("summaries")))


_latest_cache: dict[tuple[str, str], tuple[float, date]] = {}
_latest_lock = threading.Lock()


def latest_available_day(client: ApiClient, org: OrgConfig, stats: CallStats) -> date:
    """The newest day the engagement endpoints serve (remembered for a few minutes per organization, so the
    seven assets of a run send one probe, not seven; a stale answer is only ever too old, never too new)."""
    key = (org.resolved_base_url(), org.slug)
    with _latest_lock:
        hit = _latest_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < PROBE_TTL_SECONDS:
        return hit[1]
    latest = probe_latest_day(client, org, stats)
    with _latest_lock:
        _latest_cache[key] = (time.monotonic(), latest)
    return latest


def probe_latest_day(client: ApiClient, org: OrgConfig, stats: CallStats) -> date:
    """The newest day the engagement endpoints serve, from one ``/summaries`` request without ``ending_date``.

    ``ending_date`` defaults to the most recent available day + 1 (reference B1), so the last row is that
    day. The request starts about a month before today (so the range stays within 366 days); "today" is the
    local clock, then the API's own (its ``Date`` header) if the two disagree and the first try was refused.
    """
    today = datetime.now(UTC).date()
    tried: set[date] = set()
    while True:
        start = max(API_FLOOR, today - timedelta(days=PROBE_DAYS))
        tried.add(start)
        try:
            page = client.get(SUMMARIES_PATH, {"starting_date": start.isoformat()}, stats=stats)
            break
        except InvalidRequest as exc:
            server_today = stats.server_time.date() if stats.server_time else None
            if server_today is None or max(API_FLOOR, server_today - timedelta(days=PROBE_DAYS)) in tried:
                raise dg.Failure(
                    description=f"{org.slug}: could not learn the most recent day the Enterprise "
                    f"Analytics API serves: {exc}"
                ) from None
            today = server_today
    request = f"{org.slug}: " + describe_request(SUMMARIES_PATH, {"starting_date": start.isoformat()})
    days = [date.fromisoformat(str(r["starting_at"])[:10]) for r in summary_records(page, request)]
    if not days:
        raise dg.Failure(
            description=f"{org.slug}: GET {SUMMARIES_PATH}?starting_date={start} returned no day; "
            "cannot tell which days are available"
        )
    return max(days)


AVAILABILITY = Availability(
    floor=API_FLOOR,
    floor_reason=f"before {API_FLOOR}, the first day the Enterprise Analytics API has data for",
    latest=latest_available_day,
    latest_hint="Engagement data for a day is published once aggregated (about 10:00 UTC the next day): "
    "materialize the range up to that day now and the newer days once they are published.",
)


# -- fetchers -------------------------------------------------------------------------------------------------
def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def _row(org: OrgConfig, day: date, record: dict, layout: Layout, fetched_at: str, request: str) -> dict:
    """One staged row: the keys, a column per layout field, what has no column (``extra``), the lineage."""
    values, extra = parse_record(record, layout)
    return {
        "org_id": org.slug,
        "usage_date": day.isoformat(),
        **values,
        "extra": extra,
        "fetched_at": fetched_at,
        "source_request": request,
    }


def fetch_summaries(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
    params = {"starting_date": start.isoformat(), "ending_date": end.isoformat(), "limit": PAGE_LIMIT}
    request = describe_request(SUMMARIES_PATH, params)
    fetched_at, rows, days = now_iso(), RowBuffer(ENTERPRISE_SUMMARY), set()
    # one response holds every day (no pagination), so a plain GET: its envelope is checked here, since
    # the docs' one has no data list for the client's page check to find
    page = client.get(SUMMARIES_PATH, params, stats=stats)
    for record in summary_records(page, f"{org.slug}: {request}"):
        day = date.fromisoformat(str(record.get("starting_at"))[:10])
        if not start <= day < end:
            raise ValueError(f"{org.slug}: {request} returned {day}, outside the requested window")
        with values_of(ENTERPRISE_SUMMARY, request, org.slug, day):
            rows.add(_row(org, day, record, SUMMARY_LAYOUT, fetched_at, request))
        days.add(day)
    return Fetched({ENTERPRISE_SUMMARY: rows.frame()}, frozenset(days), request)


def daily_fetcher(endpoint: Endpoint):
    """One ``date``-mode query per day (every page at ``limit=1000``); the day counts once it is answered."""

    def fetch(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
        rows, requests = RowBuffer(endpoint.table), []
        for day in _days(start, end):
            params: dict = {"date": day.isoformat(), "limit": PAGE_LIMIT}
            if endpoint.group_by:
                params["group_by[]"] = list(endpoint.group_by)
            request = describe_request(endpoint.path, params)
            requests.append(request)
            mark, fetched_at = rows.mark(), now_iso()
            for page in client.iter_pages(
                endpoint.path, params, stats=stats, restart=lambda m=mark: rows.truncate(m)
            ):
                for record in page.get("data") or []:
                    with values_of(endpoint.table, request, org.slug, day):
                        rows.add(_row(org, day, record, endpoint.layout, fetched_at, request))
        return Fetched({endpoint.table: rows.frame()}, frozenset(_days(start, end)), "; ".join(requests))

    return fetch

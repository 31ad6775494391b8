"""Requests of the Enterprise usage and cost reports over one window, and the days the API can answer for."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd

from claude_assets.config import OrgConfig
from claude_assets.ingest.enterprise_reports.api import (
    BASE,
    BETA_HEADERS,
    CLOCK_MARGIN,
    DATA_FLOOR,
    LOOKBACK_DAYS,
    ROW_LIMIT,
    instant,
)
from claude_assets.ingest.enterprise_reports.bucketed import Part, PlanLog, bucketed_part, under_one_refresh
from claude_assets.ingest.enterprise_reports.groupings import (
    ANALYTICS_COST_SPLIT,
    ANALYTICS_GROUPINGS,
    COST_GROUPINGS,
    USAGE_GROUPINGS,
)
from claude_assets.ingest.enterprise_reports.rows import user_row, v2_row
from claude_assets.ingest.enterprise_reports.tables import (
    ANALYTICS_COST,
    ANALYTICS_USAGE,
    ENTERPRISE_COST,
    ENTERPRISE_USAGE,
    ENTERPRISE_USER_COST,
    ENTERPRISE_USER_USAGE,
)
from claude_assets.ingest.runner import Availability, Fetched, describe_request, now_iso
from claude_assets.ingest.staging import RowBuffer, values_of
from claude_assets.warehouse.contract import Table
from resources.client import ApiClient, CallStats
from resources.errors import OrganizationNotEligible


def _window_days(start: date, end: date) -> set[date]:
    return {start + timedelta(days=i) for i in range((end - start).days)}


def _ranked_pages(
    table: Table,
    rows: RowBuffer,
    client: ApiClient,
    org: OrgConfig,
    path: str,
    query: dict,
    stats: CallStats,
    refreshes: set,
    plan: PlanLog,
    build,
    headers: dict | None,
) -> str:
    """Every row of one paginated query into ``rows`` (a restarted query keeps nothing of its first pass)."""
    request = describe_request(path, query)
    fetched_at, mark = now_iso(), rows.mark()
    for page in client.iter_pages(
        path, query, stats=stats, headers=headers, restart=lambda: rows.truncate(mark)
    ):
        plan.add(f"{path.rsplit('/', 1)[-1]}: requests")
        refreshes.add(page.get("data_refreshed_at"))
        for r in page["data"]:
            with values_of(table, request, org.slug, r.get("starting_at")):
                rows.add(build(org, r, page, request, fetched_at))
    return request


def ranked_part(table: Table, path: str, params: dict, *, cost: bool, headers: dict | None = None) -> Part:
    """A report ranked and paged by rows (per-user reports): one paginated request per window."""
    build = user_row

    def part(client, org, start, end, stats, refreshes, plan):
        query = {"starting_at": instant(start), "ending_at": instant(end), **params}
        rows = RowBuffer(table)
        request = _ranked_pages(
            table,
            rows,
            client,
            org,
            path,
            query,
            stats,
            refreshes,
            plan,
            lambda o, r, page, req, at: build(o, r, page, req, at, cost=cost),
            headers,
        )
        return {table: rows.frame()}, _window_days(start, end), [request]

    return part


USER_GROUP_BY = ["product", "model"]


def _user_part(table: Table, endpoint: str, *, cost: bool) -> Part:
    """A per-user report (B10, B11): per seat user, day, product and model."""
    params = {"bucket_width": "1d", "limit": ROW_LIMIT, "group_by[]": USER_GROUP_BY}
    return ranked_part(table, f"{BASE}/{endpoint}", params, cost=cost)


def _analytics_part(table: Table, endpoint: str, *, cost: bool) -> Part:
    """A Usage and Cost Analytics endpoint (B12): every grouping of ANALYTICS_GROUPINGS per day, each every
    combination of its dimensions (rows tagged with the grouping's name), all read under one
    ``data_refreshed_at`` (else the endpoint is pulled again), so the groupings add up to the total exactly."""
    path = f"{BASE}/{endpoint}"

    def part(client, org, start, end, stats, refreshes, plan):
        def pull(mine: set):
            rows, requests = RowBuffer(table), []
            for grouping in ANALYTICS_GROUPINGS:
                split = ANALYTICS_COST_SPLIT.get(grouping.name, ()) if cost else ()
                group_by = [*grouping.group_by, *split]
                query = {"starting_at": instant(start), "ending_at": instant(end), "time_bucket_width": "1d"}
                query |= {"limit": ROW_LIMIT, **({"group_by[]": group_by} if group_by else {})}

                def build(o, r, page, req, at, name=grouping.name):
                    return {**v2_row(o, r, page, req, at, cost=cost), "grouping": name}

                requests.append(
                    _ranked_pages(
                        table, rows, client, org, path, query, stats, mine, plan, build, BETA_HEADERS
                    )
                )
            return {table: rows.frame()}, _window_days(start, end), requests

        return under_one_refresh(
            pull, endpoint, f"{org.slug} {start}..{end}", refreshes, plan, source=f"GET {path}"
        )

    return part


PARTS: dict[Table, Part] = {
    ENTERPRISE_USAGE: bucketed_part(ENTERPRISE_USAGE, "usage_report", USAGE_GROUPINGS),
    ENTERPRISE_COST: bucketed_part(ENTERPRISE_COST, "cost_report", COST_GROUPINGS),
    ENTERPRISE_USER_USAGE: _user_part(ENTERPRISE_USER_USAGE, "user_usage_report", cost=False),
    ENTERPRISE_USER_COST: _user_part(ENTERPRISE_USER_COST, "user_cost_report", cost=True),
    ANALYTICS_USAGE: _analytics_part(ANALYTICS_USAGE, "usage", cost=False),
    ANALYTICS_COST: _analytics_part(ANALYTICS_COST, "cost", cost=True),
}


def combined_fetcher(tables: Sequence[Table], plan: PlanLog, *, refusals_skip: bool = False):
    """One window of every selected table, written together (each row keeps the data_refreshed_at it was read at).

    The groupings of one bucketed report always share one refresh (see ``bucketed_part``); different
    endpoints may straddle an export, which only the (warning) user-vs-organization check could notice.
    ``refusals_skip``: an API that refuses the organization itself (``OrganizationNotEligible``, e.g. the
    Usage and Cost Analytics API and HIPAA readiness) skips the window with the API's reason instead of
    failing the run.
    """

    def fetch(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
        refreshes: set = set()
        frames: dict[Table, pd.DataFrame] = {}
        days: set[date] | None = None
        requests: list[str] = []
        for table in tables:
            try:
                got, answered, reqs = PARTS[table](client, org, start, end, stats, refreshes, plan)
            except OrganizationNotEligible as exc:
                if not refusals_skip:
                    raise
                plan.add("windows refused by the API for this organization")
                return Fetched({}, frozenset(), exc.path or "", refused=refusal_reason(exc))
            frames |= got
            days = answered if days is None else days & answered
            requests += reqs
        if len(refreshes) > 1:
            plan.add("windows whose endpoints were read under different data_refreshed_at")
        return Fetched(frames, frozenset(days or ()), "; ".join(requests), oldest_refresh(refreshes))

    return fetch


def refusal_reason(exc: OrganizationNotEligible) -> str:
    """The API's reason for refusing the organization, as the metadata and the log give it."""
    return f"refused by the API: GET {exc.path} answered {exc.status} {exc.error_code}: {exc.server_message}"


def oldest_refresh(refreshes: set) -> datetime | None:
    """The oldest ``data_refreshed_at`` of a window's pages; None when a page had none (no export yet)."""
    if not refreshes or None in refreshes:
        return None
    stamps = (datetime.fromisoformat(str(r).replace("Z", "+00:00")) for r in refreshes)
    return min(s if s.tzinfo else s.replace(tzinfo=UTC) for s in stamps)


def first_available_day(now: datetime | None = None) -> tuple[date, str]:
    """The first day a report can start on: 2026-01-01, or the 365-day lookback once that is later."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    edge = now - timedelta(days=LOOKBACK_DAYS) + CLOCK_MARGIN
    lookback = edge.date() + (timedelta(days=1) if edge.time() != time(0) else timedelta(0))
    if lookback > DATA_FLOOR:
        return lookback, f"beyond the API's 365-day lookback (the first day it serves is {lookback})"
    return DATA_FLOOR, "before 2026-01-01 (the Enterprise Analytics API has no data before it)"


def availability(now: datetime | None = None) -> Availability:
    """The days the reports serve. The beta analytics assets need no skip: their partitions hold only the
    organizations that read them (``OrgConfig.reads_analytics_api``)."""
    floor, reason = first_available_day(now)
    return Availability(floor=floor, floor_reason=reason)

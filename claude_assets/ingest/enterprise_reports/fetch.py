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
from claude_assets.ingest.enterprise_reports.bucketed import Part, PlanLog, bucketed_part
from claude_assets.ingest.enterprise_reports.groupings import COST_GROUPINGS, USAGE_GROUPINGS
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


def _window_days(start: date, end: date) -> set[date]:
    return {start + timedelta(days=i) for i in range((end - start).days)}


def ranked_part(
    table: Table, path: str, params: dict, *, cost: bool, v2: bool, headers: dict | None = None
) -> Part:
    """A report ranked and paged by rows (per-user and beta reports): one paginated request per window."""
    build = v2_row if v2 else user_row

    def part(client, org, start, end, stats, refreshes, plan):
        query = {"starting_at": instant(start), "ending_at": instant(end), **params}
        request = describe_request(path, query)
        fetched_at, rows = now_iso(), RowBuffer(table)
        for page in client.iter_pages(
            path, query, stats=stats, headers=headers, restart=lambda: rows.truncate(0)
        ):
            plan.add(f"{path.rsplit('/', 1)[-1]}: requests")
            refreshes.add(page.get("data_refreshed_at"))
            for r in page["data"]:
                with values_of(table, request, org.slug, r.get("starting_at")):
                    rows.add(build(org, r, page, request, fetched_at, cost=cost))
        return {table: rows.frame()}, _window_days(start, end), [request]

    return part


USER_GROUP_BY = ["product", "model"]
V2_GROUP_BY = ["actor", "product", "model", "context_window", "inference_geo"]


def _user_part(table: Table, endpoint: str, *, cost: bool) -> Part:
    """A per-user report (B10, B11): per seat user, day, product and model."""
    params = {"bucket_width": "1d", "limit": ROW_LIMIT, "group_by[]": USER_GROUP_BY}
    return ranked_part(table, f"{BASE}/{endpoint}", params, cost=cost, v2=False)


def _beta_part(table: Table, endpoint: str, group_by: list[str], *, cost: bool) -> Part:
    """A beta Usage and Cost Analytics endpoint (B12): every combination of ``group_by`` per day."""
    params = {"time_bucket_width": "1d", "limit": ROW_LIMIT, "group_by[]": group_by}
    return ranked_part(table, f"{BASE}/{endpoint}", params, cost=cost, v2=True, headers=BETA_HEADERS)


PARTS: dict[Table, Part] = {
    ENTERPRISE_USAGE: bucketed_part(ENTERPRISE_USAGE, "usage_report", USAGE_GROUPINGS),
    ENTERPRISE_COST: bucketed_part(ENTERPRISE_COST, "cost_report", COST_GROUPINGS),
    ENTERPRISE_USER_USAGE: _user_part(ENTERPRISE_USER_USAGE, "user_usage_report", cost=False),
    ENTERPRISE_USER_COST: _user_part(ENTERPRISE_USER_COST, "user_cost_report", cost=True),
    ANALYTICS_USAGE: _beta_part(ANALYTICS_USAGE, "usage", V2_GROUP_BY, cost=False),
    ANALYTICS_COST: _beta_part(ANALYTICS_COST, "cost", [*V2_GROUP_BY, "cost_type"], cost=True),
}


def combined_fetcher(tables: Sequence[Table], plan: PlanLog):
    """One window of every selected table, written together (each row keeps the data_refreshed_at it was read at).

    The groupings of one bucketed report always share one refresh (see ``bucketed_part``); different
    endpoints may straddle an export, which only the (warning) user-vs-organization check could notice.
    """

    def fetch(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
        refreshes: set = set()
        frames: dict[Table, pd.DataFrame] = {}
        days: set[date] | None = None
        requests: list[str] = []
        for table in tables:
            got, answered, reqs = PARTS[table](client, org, start, end, stats, refreshes, plan)
            frames |= got
            days = answered if days is None else days & answered
            requests += reqs
        if len(refreshes) > 1:
            plan.add("windows whose endpoints were read under different data_refreshed_at")
        return Fetched(frames, frozenset(days or ()), "; ".join(requests), oldest_refresh(refreshes))

    return fetch


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
    organizations that read them (``OrgConfig.reads_analytics_beta``)."""
    floor, reason = first_available_day(now)
    return Availability(floor=floor, floor_reason=reason)

"""The bucketed reports (``usage_report``, ``cost_report``): every grouping of a window, no bucket cut at the
API's top-100 groups, all groupings read under one ``data_refreshed_at``."""

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import pandas as pd

from claude_assets.config import OrgConfig
from claude_assets.ingest.enterprise_reports.api import (
    BASE,
    BUCKET_LIMIT,
    GEO_SLICES,
    TOP_GROUPS,
    day_of,
    instant,
)
from claude_assets.ingest.enterprise_reports.groupings import Grouping
from claude_assets.ingest.enterprise_reports.rows import Kept, bucket_row
from claude_assets.ingest.enterprise_reports.tables import ENTERPRISE_COST
from claude_assets.ingest.runner import describe_request, now_iso
from claude_assets.ingest.staging import RowBuffer, values_of
from claude_assets.partitions import contiguous
from claude_assets.warehouse.contract import Table
from resources.client import ApiClient, CallStats

T = TypeVar("T")
REFRESH_ATTEMPTS = 3  # pulls of a window's groupings before giving up on a data refresh between them


class TopGroupsCut(RuntimeError):
    """A bucket still holds 100 groups after splitting by inference geo and by hour."""


@dataclass
class PlanLog:
    """What the run asked, per endpoint and refinement step (shown in the materialization metadata)."""

    counts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def markdown(self) -> str:
        return "\n".join(f"- {k}: {v}" for k, v in sorted(self.counts.items())) or "(no requests)"


#: one endpoint over one window: (client, org, start, end, stats, refreshes seen, plan) -> (frames, days, requests)
Part = Callable[
    [ApiClient, OrgConfig, date, date, CallStats, set, PlanLog],
    tuple[dict[Table, pd.DataFrame], set[date], list[str]],
]


def _pull_bucketed(
    client: ApiClient,
    path: str,
    grouping: Grouping,
    start: date,
    end: date,
    stats: CallStats,
    refreshes: set,
    plan: PlanLog,
) -> tuple[list[Kept], set[date], list[str]]:
    """Every result of one grouping over ``[start, end)``, with no bucket cut at the top 100 groups.

    Daily buckets first; the days with a bucket at 100 results are asked again once per inference
    geo (a partition of all rows), and any (day, geo) still at 100 again with hourly buckets. A
    bucket with fewer than 100 results holds every group, so every kept bucket is complete.
    """
    kept: list[Kept] = []
    answered: set[date] = set()
    requests: list[str] = []
    endpoint = path.rsplit("/", 1)[-1]

    def pull(s: date, e: date, width: str, geo: str | None, only: set[date] | None = None) -> set[date]:
        params: dict = {
            "starting_at": instant(s),
            "ending_at": instant(e),
            "bucket_width": width,
            "limit": BUCKET_LIMIT[width],
        }
        if grouping.group_by:
            params["group_by[]"] = list(grouping.group_by)
        if geo:
            params["inference_geos[]"] = [geo]
        request = describe_request(path, params)
        requests.append(request)
        split = f"inference_geos[]={geo}" if geo else None
        cut: set[date] = set()
        mark, answered_before = len(kept), set(answered)

        def restart() -> None:  # the data was refreshed mid-query: forget its pages
            del kept[mark:]
            cut.clear()
            answered.intersection_update(answered_before)

        step = "daily" if width == "1d" and not geo else ("per geo" if width == "1d" else "per geo and hour")
        for page in client.iter_pages(path, params, stats=stats, restart=restart):
            plan.add(f"{endpoint} {grouping.name} {step}: requests")
            refreshes.add(page.get("data_refreshed_at"))
            for bucket in page["data"]:
                day = day_of(bucket["starting_at"])
                if only is not None and day not in only:
                    continue  # a day between two refined ones: already kept at a coarser step
                if width == "1d" and not geo:
                    answered.add(day)
                results = bucket.get("results") or []
                if len(results) >= TOP_GROUPS:
                    if width == "1h":
                        raise TopGroupsCut(
                            f"GET {path} group_by {list(grouping.group_by)}: the hour {bucket['starting_at']} "
                            f"(inference geo {geo}) still holds {len(results)} groups, the API's cap; nothing was "
                            "written. Use a smaller grouping for this organization."
                        )
                    cut.add(day)
                    continue
                kept.extend(Kept(bucket, r, page, split, request) for r in results)
        if cut:
            plan.add(f"{endpoint} {grouping.name} {step}: buckets at the top-100 cap", len(cut))
        return cut

    cut = pull(start, end, "1d", None)
    for geo in GEO_SLICES if cut else ():
        for s, e in _spans(cut, "1d"):
            still = pull(s, e, "1d", geo, cut)
            for s2, e2 in _spans(still, "1h"):
                pull(s2, e2, "1h", geo, still)
    return kept, answered, requests


def _spans(days: set[date], width: str) -> list[tuple[date, date]]:
    """Request spans covering ``days``: runs of days are merged while that costs no extra page."""
    per_day = 1 if width == "1d" else 24
    limit = BUCKET_LIMIT[width]

    def pages(span: tuple[date, date]) -> int:
        return -(-(span[1] - span[0]).days * per_day // limit)

    out: list[tuple[date, date]] = []
    for run in contiguous(sorted(days)):
        if out and pages((out[-1][0], run[1])) <= pages(out[-1]) + pages(run):
            out[-1] = (out[-1][0], run[1])
        else:
            out.append(run)
    return out


def under_one_refresh(
    pull: Callable[[set], T],
    endpoint: str,
    window: str,
    refreshes: set,
    plan: PlanLog,
    source: str | None = None,
) -> T:
    """``pull(mine)`` of every grouping of one window, again until its groupings saw at most one
    ``data_refreshed_at`` (``mine``: the values seen), so they add up to the total exactly; the value seen
    joins ``refreshes``. After ``REFRESH_ATTEMPTS`` pulls that each saw a refresh, nothing is written and
    the error names ``source`` (default: the endpoint)."""
    seen: list[list[str]] = []
    for _ in range(REFRESH_ATTEMPTS):
        mine: set = set()
        pulled = pull(mine)
        if len(mine) <= 1:
            refreshes |= mine
            return pulled
        seen.append(sorted(map(str, mine)))
        plan.add(f"{endpoint}: windows pulled again (the data was refreshed between its groupings)")
    raise RuntimeError(
        f"{window}: {source or endpoint} was refreshed during each of {REFRESH_ATTEMPTS} "
        f"pulls of its groupings (data_refreshed_at {seen}); nothing was written. Retry the run."
    )


def bucketed_part(table: Table, endpoint: str, groupings: Sequence[Grouping]) -> Part:
    """Every grouping of a bucketed report over one window, all read under one ``data_refreshed_at``.

    The groupings are separate requests; were the data refreshed between them, their sums could
    differ from the total for a reason other than a lost group, so the endpoint is pulled again.
    """
    cost = table is ENTERPRISE_COST
    path = f"{BASE}/{endpoint}"

    def part(client, org, start, end, stats, refreshes, plan):
        def pull(mine: set):
            fetched_at, rows, days, requests = now_iso(), RowBuffer(table), None, []
            for grouping in groupings:
                kept, answered, reqs = _pull_bucketed(client, path, grouping, start, end, stats, mine, plan)
                for k in kept:
                    with values_of(table, k.request, org.slug, k.bucket.get("starting_at")):
                        rows.add(bucket_row(org, grouping, k, fetched_at, cost=cost))
                days = answered if days is None else days & answered
                requests += reqs
            return {table: rows.frame()}, days or set(), requests

        return under_one_refresh(pull, endpoint, f"{org.slug} {start}..{end}", refreshes, plan)

    return part

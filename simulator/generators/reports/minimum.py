"""The fewest requests of a lossless pull of the Enterprise reports (``min_requests_reports``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import numpy as np

from simulator.clock import day_start
from simulator.generators.reports.codes import GEOS
from simulator.generators.reports.frames import Frame, Selection, collect
from simulator.generators.reports.records import ReportData, reports_for
from simulator.generators.reports.truth import truth_header, truth_refresh
from simulator.generators.reports.units import TOP_GROUPS, bucket_rows, ranked_units

#: (same names, dimensions and order): keep the two in step, or the minimum no longer describes the
#: content the client reads.
CLIENT_GROUPINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "usage_report": {
        "total": (),
        "product_model": ("product", "model", "context_window", "inference_geo", "speed"),
        "claude_tag": ("slack_channel_id", "claude_tag_category", "claude_tag_user_id"),
        "rbac_group": ("rbac_group_id", "product"),
    },
    "cost_report": {
        "total": (),
        "product_model": ("product", "model", "context_window", "inference_geo", "speed"),
        "token_type": ("model", "cost_type", "token_type"),
        "claude_tag": ("slack_channel_id", "claude_tag_category", "claude_tag_user_id"),
        "rbac_group": ("rbac_group_id", "product"),
    },
}
#: The Usage and Cost Analytics API (``usage`` / ``cost``) as the client reads it: one paginated daily query per
#: grouping (at most five ``group_by[]`` dimensions each), the cost ones split further by cost (and token) type.
#: Keep in step with the client's ``ANALYTICS_GROUPINGS`` and ``ANALYTICS_COST_SPLIT``.
CLIENT_ANALYTICS_GROUPINGS: dict[str, tuple[str, ...]] = {
    "total": (),
    "billing": ("workspace_id", "model", "service_tier", "context_window", "inference_geo"),
    "actor": ("actor", "actor_type", "product", "model", "speed"),
    "api_key": ("api_key_id", "workspace_id", "organization_id", "product"),
    "claude_tag": ("slack_channel_id", "claude_tag_category", "claude_tag_user_id", "product"),
    "rbac_group": ("rbac_group_id", "product"),
    "managed_agents": ("agent_id", "deployment_id", "environment_id", "session_id", "user_profile_id"),
}
CLIENT_ANALYTICS_COST_SPLIT: dict[str, tuple[str, ...]] = {
    "billing": ("cost_type", "token_type"),
    "actor": ("cost_type",),
}
#: The largest page of the bucketed reports, in buckets, per bucket width.
BUCKET_PAGE = {"1d": 31, "1h": 168}
#: ``inference_geos[]`` slices a cut day is asked again under (a partition of every row) -> ``geo`` code.
GEO_SLICES = {"global": GEOS.index("global"), "us": GEOS.index("us"), "not_available": -1}
#: Rows per page of the per-user and beta reports (their largest ``limit``).
ROW_PAGE = 1000
#: Longest ``starting_at``..``ending_at`` span of every report, in days.
WINDOW_DAYS = 31

#: The queries the minimum counts, per endpoint (largest limits). The per-user ``group_by[]`` mirrors the
#: client's ``USER_GROUP_BY``; the beta ``groupings`` its ``ANALYTICS_GROUPINGS`` (split on /cost).
MIN_REQUEST_PLANS = {
    **{
        name: {
            "bucket_width": "1d",
            "limit": BUCKET_PAGE["1d"],
            "groupings": {g: list(dims) for g, dims in groupings.items()},
            "refine": {
                "inference_geos": list(GEO_SLICES),
                "then": {"bucket_width": "1h", "limit": BUCKET_PAGE["1h"]},
            },
        }
        for name, groupings in CLIENT_GROUPINGS.items()
    },
    "user_usage_report": {"bucket_width": "1d", "limit": ROW_PAGE, "group_by": ["product", "model"]},
    "user_cost_report": {"bucket_width": "1d", "limit": ROW_PAGE, "group_by": ["product", "model"]},
    "usage": {
        "time_bucket_width": "1d",
        "limit": ROW_PAGE,
        "groupings": {g: list(dims) for g, dims in CLIENT_ANALYTICS_GROUPINGS.items()},
    },
    "cost": {
        "time_bucket_width": "1d",
        "limit": ROW_PAGE,
        "groupings": {
            g: [*dims, *CLIENT_ANALYTICS_COST_SPLIT.get(g, ())]
            for g, dims in CLIENT_ANALYTICS_GROUPINGS.items()
        },
    },
}


def span_pages(days: Sequence[int], per_day: int, limit: int) -> int:
    """Fewest pages that cover the (sorted, distinct) day numbers ``days`` with request spans.

    A span covers a run of whole days (and the days between two runs it merges, whose buckets are
    then read but not needed); it costs ``ceil(days x per_day / limit)`` pages. Exact, by dynamic
    programming over the contiguous runs (at most 31 in a window).
    """
    runs: list[list[int]] = []
    for d in days:
        if runs and runs[-1][1] == d:
            runs[-1][1] = d + 1
        else:
            runs.append([d, d + 1])
    best = [0]
    for i, (_, end) in enumerate(runs):
        best.append(min(best[j] + -(-(end - runs[j][0]) * per_day // limit) for j in range(i + 1)))
    return best[-1]


def _rows_per_bucket(rd: ReportData, f: Frame, group_by, grid0: datetime, width: int, n: int, cost: bool):
    """Rows each bucket of a bucketed report holds before the top-100 cut (the route's own grouping)."""

    t = bucket_rows(rd, f, group_by, grid0=grid0, width=width, cost=cost)
    return np.bincount(t.codes["bucket"], minlength=n)


def _bucketed_minimum(rd: ReportData, f: Frame, t0: datetime, ndays: int, group_by, cost: bool) -> dict:
    """Requests of one grouping of a bucketed report over one window [t0, t0 + ndays) read losslessly.

    Daily buckets (one request: a window fits one page); the days whose bucket holds 100 rows are
    asked again under each inference geo slice (fewest spans over those days), and a (geo, day)
    still at 100 rows with hourly buckets (fewest spans at 168 hourly buckets a page).
    """
    steps = ("requests", "daily", "per_geo", "hourly", "cut_days", "cut_geo_days", "hours_at_cap")
    out = dict.fromkeys(steps, 0)
    out["daily"] = -(-ndays // BUCKET_PAGE["1d"])
    day = (f.sec - int(t0.timestamp())) // 86_400
    cut = np.flatnonzero(_rows_per_bucket(rd, f, group_by, t0, 86_400, ndays, cost) >= TOP_GROUPS)
    out["cut_days"] = len(cut)
    if len(cut):
        f_cut = f.take(np.flatnonzero(np.isin(day, cut)))
        day_cut = day[np.isin(day, cut)]
        for geo in GEO_SLICES.values():
            out["per_geo"] += span_pages(cut.tolist(), 1, BUCKET_PAGE["1d"])
            here = np.flatnonzero(f_cut.geo == geo)
            f_geo, day_geo = f_cut.take(here), day_cut[here]
            still = cut[_rows_per_bucket(rd, f_geo, group_by, t0, 86_400, ndays, cost)[cut] >= TOP_GROUPS]
            if not len(still):
                continue
            out["cut_geo_days"] += len(still)
            out["hourly"] += span_pages(still.tolist(), 24, BUCKET_PAGE["1h"])
            f_still = f_geo.take(np.flatnonzero(np.isin(day_geo, still)))
            hourly = _rows_per_bucket(rd, f_still, group_by, t0, 3_600, 24 * ndays, cost)
            out["hours_at_cap"] += int((hourly >= TOP_GROUPS).sum())
    out["requests"] = out["daily"] + out["per_geo"] + out["hourly"]
    return out


def truth_min_requests(sim, org, start: date, end: date, params: dict) -> dict:
    """Fewest requests of a lossless pull of [start, end) that reads what the client reads, per endpoint.

    Consecutive 31-day windows from ``start``, largest limits (``MIN_REQUEST_PLANS``):

    * ``usage_report`` / ``cost_report``: per grouping of the client (``CLIENT_GROUPINGS``), one
      daily request per window (31 daily buckets a page). The days whose bucket holds 100 rows (the
      top-100 cap, so possibly cut) are asked again under each inference geo slice (global, us,
      not_available), in the fewest daily pages that cover them (one request per slice and window);
      the (geo, day)s still at 100 rows are asked with hourly buckets, in the fewest pages of 168
      hourly buckets that cover them (``span_pages``). Row counts come from the route's own
      grouping (``bucket_rows``). ``groupings`` details each grouping; ``hours_at_cap`` > 0 means
      some hour still holds 100 rows in a geo slice, where no such pull is lossless (the client then
      fails rather than keep a cut bucket).
    * ``user_usage_report`` / ``user_cost_report`` (``group_by[]`` product, model), and each grouping of the
      beta ``usage`` / ``cost`` (``CLIENT_ANALYTICS_GROUPINGS``; cost split by cost and token type):
      ``max(1, ceil(units / 1000))`` per window and query, units being the route's ranked rows (a cost
      unit's cost-type rows ride on its page; beta cost units without cost are not returned).
    """

    refreshed = truth_refresh(sim, params, org)
    rd = reports_for(sim, org)
    out = {name: {"requests": 0, "windows": 0, "params": plan} for name, plan in MIN_REQUEST_PLANS.items()}
    for name, groupings in CLIENT_GROUPINGS.items():
        out[name]["groupings"] = {g: {} for g in groupings}
    w0 = start
    while w0 < end:
        w1 = min(end, w0 + timedelta(days=WINDOW_DAYS))
        t0, t1 = day_start(w0), day_start(w1)
        ndays = (w1 - w0).days
        f = collect(rd, t0, t1, refreshed, sim.revision_days, Selection())
        seen: dict[tuple, dict] = {}
        for name, groupings in CLIENT_GROUPINGS.items():
            for g, group_by in groupings.items():
                # a bucket's rows are its groups unless a cost report fans them out per cost component,
                # so a grouping without cost_type/token_type has the same rows on both reports
                fanout = name == "cost_report" and bool({"cost_type", "token_type"} & set(group_by))
                key = (group_by, fanout)
                if key not in seen:
                    seen[key] = _bucketed_minimum(rd, f, t0, ndays, group_by, cost=fanout)
                got = seen[key]
                acc = out[name]["groupings"][g]
                for k, v in got.items():
                    acc[k] = acc.get(k, 0) + v
                out[name]["requests"] += got["requests"]
        seat = f.take(np.flatnonzero(f.user >= 0))  # the per-user reports' seat_only selection
        day = (t0, 86_400)
        queries = [
            (name, True, seat, MIN_REQUEST_PLANS[name]["group_by"])
            for name in ("user_usage_report", "user_cost_report")
        ]
        queries += [
            (name, False, f, group_by)
            for name in ("usage", "cost")
            for group_by in MIN_REQUEST_PLANS[name]["groupings"].values()
        ]
        for name, per_user, frame, group_by in queries:
            cost = name.endswith("cost_report") or name == "cost"
            n = ranked_units(rd, frame, group_by, per_user=per_user, bucket=day, cost=cost).n
            out[name]["requests"] += max(1, -(-n // ROW_PAGE))
        for v in out.values():
            v["windows"] += 1
        w0 = w1
    return {
        **truth_header(sim, org, start, end, refreshed),
        "endpoints": out,
        "total": sum(v["requests"] for v in out.values()),
    }

"""B8/B9: the bucketed usage and cost reports (time buckets, each with its top 100 groups)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from simulator.catalog import format_cents
from simulator.clock import iso
from simulator.generators.reports.dims import LEGACY_COST_GROUP_BY, LEGACY_DIMS, LEGACY_GROUP_BY
from simulator.generators.reports.frames import collect
from simulator.generators.reports.grouping import component_labels
from simulator.generators.reports.records import ReportData, reports_for
from simulator.generators.reports.units import (
    TOP_GROUPS,
    U_REQ,
    Rows,
    Table,
    bucket_rows,
    reorder,
    split_dims,
)
from simulator.routes.context import Ctx
from simulator.routes.paging import offset_window
from simulator.routes.reports.params import (
    BUCKET_LIMITS,
    WIDTH_SECONDS,
    ceil_to,
    check_cursor,
    floor_to,
    group_by_param,
    refresh_of,
    selection,
    time_range,
)
from simulator.routes.reports.render import (
    cache_key,
    dim_fields,
    envelope,
    legacy_spelling,
    today_of,
    usage_fields,
)


@dataclass
class BucketReport:
    grid0: datetime
    width: int
    buckets: int
    table: Table  # rows sorted by bucket, then rank
    starts: np.ndarray  # first row of each bucket (len buckets + 1)


def _bucket_report(ctx: Ctx, *, cost: bool) -> dict:
    q = ctx.query
    rd = reports_for(ctx.sim, ctx.org)
    width_name = q.choice("bucket_width", tuple(WIDTH_SECONDS), "1d")
    default, maximum = BUCKET_LIMITS[width_name]
    limit = q.integer("limit", default, 1, maximum)
    start, end = time_range(ctx)
    group_by = group_by_param(ctx, LEGACY_COST_GROUP_BY if cost else LEGACY_GROUP_BY)
    sel = selection(ctx, rd, group_by, v2=False, seat_only=False)
    refreshed = refresh_of(ctx)
    check_cursor(ctx, iso(refreshed))
    width = WIDTH_SECONDS[width_name]
    grid0, grid1 = floor_to(start, width), ceil_to(end, width)
    buckets = int((grid1 - grid0).total_seconds()) // width
    _, mode = split_dims(group_by)

    def compute() -> BucketReport:
        f = collect(rd, grid0, grid1, refreshed, ctx.sim.revision_days, sel)
        t = bucket_rows(rd, f, group_by, grid0=grid0, width=width, cost=cost, sel=sel)
        metric = t.sums[:, 1] if cost else t.sums[:, :5].sum(axis=1)
        order = np.lexsort((np.arange(t.n), -metric, t.codes["bucket"]))
        t = reorder(t, order)
        b = t.codes["bucket"]
        starts = np.searchsorted(b, np.arange(buckets + 1), side="left")
        rank = np.arange(t.n) - starts[b]
        keep = np.flatnonzero(rank < TOP_GROUPS)
        t = Table({k: v[keep] for k, v in t.codes.items()}, t.sums[keep])
        return BucketReport(
            grid0, width, buckets, t, np.searchsorted(t.codes["bucket"], np.arange(buckets + 1))
        )

    report = rd.cached(cache_key(ctx, "bucket" + ("-cost" if cost else ""), refreshed, grid0, grid1), compute)
    lo, hi, nxt = offset_window(ctx, report.buckets, limit, refresh=iso(refreshed))
    today = today_of(refreshed)
    first = int(report.starts[lo])
    page = report.table.rows(first, int(report.starts[hi]))
    data = []
    for b in range(lo, hi):
        s = report.grid0 + timedelta(seconds=b * report.width)
        rows = [
            _legacy_row(rd, page, i - first, group_by, cost=cost, mode=mode, today=today, shapes=ctx.shapes)
            for i in range(int(report.starts[b]), int(report.starts[b + 1]))
        ]
        data.append(
            {"starting_at": iso(s), "ending_at": iso(s + timedelta(seconds=report.width)), "results": rows}
        )
    return envelope(ctx, data, nxt, refreshed)


def _legacy_row(
    rd: ReportData,
    t: Rows,
    i: int,
    group_by: list[str],
    *,
    cost: bool,
    mode: str | None,
    today: int,
    shapes: str,
) -> dict:
    dims = legacy_spelling(dim_fields(rd, t, i, LEGACY_DIMS, group_by, v2=False, today=today), shapes)
    s = t.sums[i]
    if not cost:
        return {**dims, "requests": s[U_REQ], **usage_fields(s)}
    if mode:
        cost_type, token_type = component_labels(mode, t.codes["component"][i])
        return {
            "currency": "USD",
            "amount": format_cents(s[1]),
            "list_amount": format_cents(s[0]),
            "requests": None,
            **dims,
            "cost_type": cost_type,
            "token_type": token_type,
        }
    return {
        "currency": "USD",
        "amount": format_cents(s[1]),
        "list_amount": format_cents(s[0]),
        "requests": s[2],
        **dims,
        "cost_type": None,
        "token_type": None,
    }


def usage_report(ctx: Ctx) -> dict:
    return _bucket_report(ctx, cost=False)


def cost_report(ctx: Ctx) -> dict:
    return _bucket_report(ctx, cost=True)

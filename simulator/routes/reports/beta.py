"""B12: the beta usage and cost reports of Enterprise and (Admin key) Console organizations."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from simulator.catalog import format_cents
from simulator.clock import iso
from simulator.errors import ApiError, bad_request
from simulator.generators.reports.console import console_reports_for
from simulator.generators.reports.dims import CONSOLE_CONSTANT_DIMS, COST_DIMS, V2_DIMS
from simulator.generators.reports.frames import collect
from simulator.generators.reports.grouping import component_labels
from simulator.generators.reports.records import reports_for
from simulator.generators.reports.units import (
    U_REQ,
    Table,
    order_metric,
    rank_units,
    ranked_units,
    reorder,
    split_dims,
    v2_table,
)
from simulator.routes.context import Ctx
from simulator.routes.paging import offset_window
from simulator.routes.reports.params import (
    BETA_FLAG,
    COST_ORDER,
    MAX_V2_GROUPS,
    USAGE_ORDER,
    WIDTH_SECONDS,
    ceil_to,
    check_cursor,
    console_filters,
    floor_to,
    group_by_param,
    refresh_of,
    selection,
    time_range,
)
from simulator.routes.reports.per_user import Ranked
from simulator.routes.reports.render import cache_key, dim_fields, envelope, today_of, usage_fields

#: B13: the Usage and Cost Analytics API refuses organizations with HIPAA readiness enabled
NOT_ELIGIBLE = (
    "The Usage and Cost Analytics API is not available to organizations with HIPAA readiness enabled."
)


def _v2_report(ctx: Ctx, *, cost: bool) -> dict:
    if ctx.org.hipaa_ready:
        raise ApiError(400, NOT_ELIGIBLE, details={"error_code": "organization_not_eligible"})
    if not ctx.beta(BETA_FLAG):
        raise bad_request(
            f"anthropic-beta: this endpoint is in beta; send the header anthropic-beta: {BETA_FLAG}"
        )
    q = ctx.query
    width_name = q.choice("time_bucket_width", tuple(WIDTH_SECONDS))
    limit = q.integer("limit", 20, 1, 1000)
    order_by = q.choice(
        "order_by",
        (*COST_ORDER, "time") if cost else (*USAGE_ORDER, "time"),
        "amount" if cost else "total_tokens",
    )
    descending = q.choice("order", ("asc", "desc"), "desc") == "desc"
    exclude_deleted = q.boolean("exclude_deleted_users")
    start, end = time_range(
        ctx,
        end_required_by="time_bucket_width" if width_name else None,
        minute_buckets=width_name == "1m",
        minute_param="time_bucket_width",
    )
    group_by = group_by_param(ctx, tuple(sorted((*V2_DIMS, *COST_DIMS))) if cost else V2_DIMS)
    if len([d for d in group_by if d not in COST_DIMS]) > MAX_V2_GROUPS:
        raise bad_request(
            f"group_by[]: at most {MAX_V2_GROUPS} dimensions (not counting cost_type and token_type)"
        )
    if exclude_deleted and "actor" not in group_by:
        raise bad_request("exclude_deleted_users: requires group_by[]=actor")
    refreshed = refresh_of(ctx)
    width = WIDTH_SECONDS[width_name] if width_name else None
    t0, t1 = (
        (floor_to(start, width), ceil_to(end, width))
        if width
        else (floor_to(start, 3600), floor_to(end, 3600))
    )
    today = today_of(refreshed)
    enterprise = ctx.org.kind == "enterprise"
    if enterprise:
        rd, src = reports_for(ctx.sim, ctx.org), None
        dims, mode = split_dims(group_by)
        sel = selection(ctx, rd, group_by, v2=True, seat_only=False)
        label, removed = None, rd.removed_ordinal
    else:  # an Admin key: the Console organization's own API usage
        rd, src = None, console_reports_for(ctx.sim, ctx.org)
        dims, mode = split_dims(group_by, CONSOLE_CONSTANT_DIMS)
        selection(ctx, None, group_by, v2=True, seat_only=False)  # validates the common filters
        sel = console_filters(ctx, src)
        label, removed = src.label, src.removed_ordinal
    check_cursor(ctx, iso(refreshed))
    metric_name = order_by if order_by != "time" else ("amount" if cost else "total_tokens")

    def compute() -> Ranked:
        bucket = (t0, width) if width else None
        if enterprise:
            f = collect(rd, t0, t1, refreshed, ctx.sim.revision_days, sel)
            t = ranked_units(rd, f, group_by, per_user=False, bucket=bucket, cost=cost, sel=sel)
        else:
            f = src.frame(t0, t1, refreshed, sel, minutes=width == 60)
            t = v2_table(f, dims, mode, bucket=bucket, cost=cost)
        if not dims and not width and t.n == 0:  # ungrouped and unbucketed: always the one row
            t = Table(
                {},
                np.zeros((1, t.sums.shape[1]), dtype=np.int64),
                None,
                *((np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 2), np.int64)) if mode else ()),
            )
        if exclude_deleted:
            a = t.codes["actor"]
            keep = np.flatnonzero((a < 0) | (removed[np.maximum(a, 0)] > today))
            t = reorder(t, keep) if len(keep) < t.n else t
        by_time = order_by == "time" and width is not None
        return Ranked(
            rank_units(
                t, order_metric(t, cost, metric_name), descending, by_time=by_time, time_descending=descending
            ),
            t0,
            width,
        )

    ranked = (rd or src).cached(cache_key(ctx, "v2" + ("-cost" if cost else ""), refreshed, t0, t1), compute)
    table = ranked.table
    lo, hi, nxt = offset_window(ctx, table.n, limit, refresh=iso(refreshed))
    t = table.rows(lo, hi)
    names = (*V2_DIMS, *COST_DIMS) if cost else V2_DIMS
    skew = ctx.sim.analytics_cost_skew_cents * 1_000_000 if cost else 0  # micro-cents
    data = []
    for i in range(hi - lo):
        if width:
            s0 = t0 + timedelta(seconds=t.codes["bucket"][i] * width)
            span = {"starting_at": iso(s0), "ending_at": iso(s0 + timedelta(seconds=width))}
        else:
            span = {"starting_at": iso(t0), "ending_at": iso(t1)}
        group = dim_fields(rd, t, i, names, group_by, v2=True, today=today, label=label)
        s = t.sums[i]
        if not cost:
            usage = {
                **usage_fields(s),
                "total_tokens": sum(s[:5]),
                "requests": s[U_REQ] if enterprise else None,
            }
            data.append({**span, "group": group, "usage": usage})
        elif mode:
            for j in table.components(t.orig[i]):
                cost_type, token_type = component_labels(mode, int(table.comp_code[j]))
                data.append(
                    {
                        **span,
                        "group": {**group, "cost_type": cost_type, "token_type": token_type},
                        "cost": {
                            "amount": format_cents(
                                int(table.comp_sums[j, 1]) + (skew if group.get("model") else 0)
                            ),
                            "list_amount": format_cents(int(table.comp_sums[j, 0])),
                            "currency": "USD",
                            "requests": None,
                        },
                    }
                )
        else:
            data.append(
                {
                    **span,
                    "group": group,
                    "cost": {
                        "amount": format_cents(int(s[1]) + (skew if group.get("model") else 0)),
                        "list_amount": format_cents(s[0]),
                        "currency": "USD",
                        "requests": s[2] if enterprise else None,
                    },
                }
            )
    return envelope(ctx, data, nxt, refreshed)


def usage(ctx: Ctx) -> dict:
    return _v2_report(ctx, cost=False)


def cost(ctx: Ctx) -> dict:
    return _v2_report(ctx, cost=True)

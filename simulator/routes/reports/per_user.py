"""B10/B11: the per-user usage and cost reports (ranked seat-user rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from simulator.catalog import format_cents
from simulator.clock import iso
from simulator.generators.reports import units
from simulator.generators.reports.dims import LEGACY_COST_GROUP_BY, LEGACY_DIMS, LEGACY_GROUP_BY
from simulator.generators.reports.frames import collect
from simulator.generators.reports.grouping import component_labels
from simulator.generators.reports.records import reports_for
from simulator.routes.context import Ctx
from simulator.routes.paging import offset_window
from simulator.routes.reports import params
from simulator.routes.reports.render import (
    actor_object,
    cache_key,
    dim_fields,
    email_keys,
    envelope,
    legacy_spelling,
    today_of,
    usage_fields,
)


@dataclass
class Ranked:
    table: units.Table
    grid0: datetime | None
    width: int | None


def _user_report(ctx: Ctx, *, cost: bool) -> dict:
    q = ctx.query
    rd = reports_for(ctx.sim, ctx.org)
    width_name = q.choice("bucket_width", tuple(params.WIDTH_SECONDS))
    limit = q.integer("limit", 20, 1, 1000)
    order_by = q.choice(
        "order_by", params.COST_ORDER if cost else params.USAGE_ORDER, "amount" if cost else "total_tokens"
    )
    descending = q.choice("order", ("asc", "desc"), "desc") == "desc"
    exclude_deleted = q.boolean("exclude_deleted_users")
    start, end = params.time_range(
        ctx, end_required_by="bucket_width" if width_name else None, minute_buckets=width_name == "1m"
    )
    group_by = params.group_by_param(ctx, LEGACY_COST_GROUP_BY if cost else LEGACY_GROUP_BY)
    sel = params.selection(ctx, rd, group_by, v2=False, seat_only=True)
    refreshed = params.refresh_of(ctx)
    params.check_cursor(ctx, iso(refreshed))
    width = params.WIDTH_SECONDS[width_name] if width_name else None
    t0, t1 = (params.floor_to(start, width), params.ceil_to(end, width)) if width else (start, end)
    _, mode = units.split_dims(group_by)
    today = today_of(refreshed)

    def compute() -> Ranked:
        f = collect(rd, t0, t1, refreshed, ctx.sim.revision_days, sel)
        t = units.ranked_units(
            rd, f, group_by, per_user=True, bucket=(t0, width) if width else None, cost=cost, sel=sel
        )
        if exclude_deleted:
            keep = np.flatnonzero(rd.removed_ordinal[t.codes["actor"]] > today)
            t = units.reorder(t, keep) if len(keep) < t.n else t
        return Ranked(
            units.rank_units(t, units.order_metric(t, cost, order_by), descending),
            t0 if width else None,
            width,
        )

    ranked = rd.cached(cache_key(ctx, "user" + ("-cost" if cost else ""), refreshed, t0, t1), compute)
    table = ranked.table
    lo, hi, nxt = offset_window(ctx, table.n, limit, refresh=iso(refreshed))
    t = table.rows(lo, hi)
    data = []
    for i in range(hi - lo):
        actor = actor_object(rd, t.codes["actor"][i], today, email_keys(ctx.shapes))
        if width:
            s = ranked.grid0 + timedelta(seconds=t.codes["bucket"][i] * width)
            span = {"starting_at": iso(s), "ending_at": iso(s + timedelta(seconds=width))}
        else:
            span = {"starting_at": None, "ending_at": None}
        dimvals = legacy_spelling(
            dim_fields(rd, t, i, LEGACY_DIMS, group_by, v2=False, today=today), ctx.shapes
        )
        s = t.sums[i]
        if not cost:
            data.append(
                {
                    "actor": actor,
                    **span,
                    **dimvals,
                    "requests": s[units.U_REQ],
                    "total_tokens": sum(s[:5]),
                    **usage_fields(s),
                }
            )
        elif mode:
            for j in table.components(t.orig[i]):
                cost_type, token_type = component_labels(mode, int(table.comp_code[j]))
                data.append(
                    {
                        "actor": actor,
                        "amount": format_cents(int(table.comp_sums[j, 1])),
                        "list_amount": format_cents(int(table.comp_sums[j, 0])),
                        "currency": "USD",
                        "requests": None,
                        **span,
                        **dimvals,
                        "cost_type": cost_type,
                        "token_type": token_type,
                    }
                )
        else:
            data.append(
                {
                    "actor": actor,
                    "amount": format_cents(s[1]),
                    "list_amount": format_cents(s[0]),
                    "currency": "USD",
                    "requests": s[2],
                    **span,
                    **dimvals,
                    "cost_type": None,
                    "token_type": None,
                }
            )
    return envelope(ctx, data, nxt, refreshed)


def user_usage_report(ctx: Ctx) -> dict:
    return _user_report(ctx, cost=False)


def user_cost_report(ctx: Ctx) -> dict:
    return _user_report(ctx, cost=True)

"""B1 summaries and B2 users, and every engagement route."""

from __future__ import annotations

from datetime import date

import numpy as np

from simulator import cursors
from simulator.errors import bad_request
from simulator.generators.engagement import revisions
from simulator.generators.engagement.arrays import Scope, Table
from simulator.generators.engagement.generator import engagement
from simulator.generators.engagement.vocab import USER_LAYOUT
from simulator.routes.context import Ctx, Endpoint
from simulator.routes.engagement.entities import SPECS, entity_handler, project_filter
from simulator.routes.engagement.params import (
    BASE,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    latest_day,
    page_window,
    parse_filters,
    parse_group_by,
    parse_order,
    parse_range,
    parse_window,
    peek_as_of,
    sort_rows,
    user_scope,
    with_as_of,
)
from simulator.routes.engagement.records import compile_record, masked_rank, row_values, template


# -- B1 summaries ---------------------------------------------------------------------------------------
def summaries(ctx: Ctx) -> dict:
    q = ctx.query
    eng = engagement(ctx.sim, ctx.org)
    latest = latest_day(ctx)
    start = q.day("starting_date", required=True)
    win = parse_range(ctx, start, latest)
    q.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)  # validated; the series is returned in full
    page = q.one("page")
    if page:  # next_page is always null, so no cursor is ever valid here
        cursors.decode(page, q.canonical())
    f = parse_filters(ctx, ("rbac_group_id",))
    scope = user_scope(eng, f)[0]
    rows = eng.cached(
        ("summaries", q.canonical(exclude=("page", "limit", "ending_date")), win.start, win.end),
        lambda: eng.summaries(win.start, win.end, scope),
    )
    if ctx.shapes == "docs":  # docs 2026-08: the summaries envelope, without the SDK 2.12 fields
        return {"summaries": [_without(r, SDK_ONLY_SUMMARY_PREFIXES) for r in rows]}
    if ctx.shapes == "sdk":  # SDK 1.10+: the data / next_page envelope (summaries is a deprecated alias)
        return {"data": rows, "next_page": None}
    return {"data": rows, "summaries": rows, "next_page": None}


#: summary fields the SDK 2.12 adds to the docs' record (reference B1)
SDK_ONLY_SUMMARY_PREFIXES = ("claude_tag_", "chat_cowork_unified_")
#: user-record fields the SDK 2.12 adds to the docs' record (reference B2)
SDK_ONLY_USER_FIELDS = ("chat_cowork_unified_metrics", "claude_tag_metrics")
SDK_ONLY_USER_BLOCK_FIELDS = (("claude_code_metrics", "core_metrics"), ("cowork_metrics",))


def _without(row: dict, prefixes: tuple[str, ...]) -> dict:
    return {k: v for k, v in row.items() if not k.startswith(prefixes)}


def docs_user_record(record: dict) -> dict:
    """A user record as the docs (2026-08) print it: without the fields the SDK 2.12 adds."""
    out = {k: v for k, v in record.items() if k not in SDK_ONLY_USER_FIELDS}
    for path in SDK_ONLY_USER_BLOCK_FIELDS:
        parent = out
        for key in path[:-1]:
            parent[key] = parent = dict(parent[key])
        parent[path[-1]] = {k: v for k, v in parent[path[-1]].items() if k != "artifacts_created_count"}
    return out


# -- B2 users -------------------------------------------------------------------------------------------
USER_METRICS = (*(p for p, _ in USER_LAYOUT), "distinct_user_count")
USER_RECORD_COLUMNS, user_record = compile_record(
    {
        "user": "$user",
        **template([x for x in USER_LAYOUT if not x[0].startswith("claude_tag_metrics.")]),
        "last_activity_date": "$last_activity_date",
        "distinct_user_count": "distinct_user_count",
        "rbac_group_id": "$rbac_group_id",
        "rbac_group_name": "$rbac_group_name",
        "chat_cowork_unified_metrics": None,
        "claude_tag_metrics": template(
            [x for x in USER_LAYOUT if x[0].startswith("claude_tag_metrics.")], "claude_tag_metrics."
        ),
    }
)


def users(ctx: Ctx) -> dict:
    q = ctx.query
    eng = engagement(ctx.sim, ctx.org)
    win = parse_window(ctx)
    limit = q.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    f = parse_filters(ctx, ("project_id", "rbac_group_id", "user_id"))
    group_by = parse_group_by(ctx, ("rbac_group_id",))
    if "project_id" in f and (group_by or "rbac_group_id" in f):
        raise bad_request(
            "filter[]: a project_id filter cannot be combined with group_by[] or an rbac_group_id filter"
        )
    grouped = bool(group_by)
    by, desc = parse_order(
        ctx, ("rbac_group_id",) if grouped else ("email", "email_address", "user.email_address"), USER_METRICS
    )
    members, groups = user_scope(eng, f)
    projects = project_filter(eng, f)
    scope = Scope(users=members, groups=groups, group_by=group_by)

    # a pagination shows the values of its first page's instant (they are revised between days)
    as_of = peek_as_of(q.one("page")) or ctx.now
    win = with_as_of(win, as_of)

    def build() -> Table:
        t = eng.users_query(win.days, scope, projects, as_of)
        primary = (
            masked_rank(eng.group_rank, t.cols["grp"])
            if grouped
            else masked_rank(eng.email_rank, t.cols["user"])
        )
        return sort_rows(t, by, desc, primary, ())

    served = tuple(revisions.version(d, as_of) for d in win.days)
    table = eng.cached(("users", q.canonical(), win.start, win.end, served), build)
    start, end, nxt = page_window(ctx, "users", table.n, limit, win)
    sel = np.arange(start, end)
    vals = row_values(table, sel, [c for c in USER_RECORD_COLUMNS if not c.startswith("$")])
    uidx, gidx, days = (table.cols[k][sel].tolist() for k in ("user", "grp", "day"))
    vals["$user"] = [eng.user_objects[u] if u >= 0 else None for u in uidx]
    vals["$last_activity_date"] = [date.fromordinal(d).isoformat() for d in days]
    vals["$rbac_group_id"] = [eng.group_ids[g] if g >= 0 else None for g in gidx]
    vals["$rbac_group_name"] = [eng.group_names[g] if g >= 0 else None for g in gidx]
    if not grouped:
        vals["distinct_user_count"] = [None] * len(sel)
    data = [user_record(r) for r in zip(*(vals[c] for c in USER_RECORD_COLUMNS), strict=True)]
    if ctx.shapes == "docs":
        data = [docs_user_record(r) for r in data]
    return {"data": data, "next_page": nxt}


ANALYTICS = ("analytics",)
#: B0.1: the parameters of the engagement endpoints (artifacts: B6)
ENGAGEMENT_PARAMS = (
    "date",
    "starting_date",
    "ending_date",
    "limit",
    "page",
    "filter[]",
    "group_by[]",
    "order",
    "order_by",
)
ENDPOINTS: list[Endpoint] = [
    Endpoint(
        f"{BASE}/summaries",
        summaries,
        ANALYTICS,
        ("starting_date", "ending_date", "filter[]", "limit", "page"),
    ),
    Endpoint(f"{BASE}/users", users, ANALYTICS, ENGAGEMENT_PARAMS),
    Endpoint(f"{BASE}/apps/chat/projects", entity_handler(SPECS["projects"]), ANALYTICS, ENGAGEMENT_PARAMS),
    Endpoint(f"{BASE}/skills", entity_handler(SPECS["skills"]), ANALYTICS, ENGAGEMENT_PARAMS),
    Endpoint(f"{BASE}/connectors", entity_handler(SPECS["connectors"]), ANALYTICS, ENGAGEMENT_PARAMS),
    Endpoint(
        f"{BASE}/artifacts",
        entity_handler(SPECS["artifacts"]),
        ANALYTICS,
        ("date", "filter[]", "group_by[]", "limit", "page"),
    ),
    Endpoint(f"{BASE}/plugins", entity_handler(SPECS["plugins"]), ANALYTICS, ENGAGEMENT_PARAMS),
]

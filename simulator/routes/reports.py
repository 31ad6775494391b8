"""Claude Enterprise usage and cost reports (api-reference B8-B12).

* ``GET /v1/organizations/analytics/usage_report`` and ``/cost_report``: time buckets (``1d``/``1h``/``1m``),
  oldest first including empty ones, ``limit`` buckets per page, each with its top 100 groups.
* ``GET /v1/organizations/analytics/user_usage_report`` and ``/user_cost_report``: ranked per-user rows
  (seat users only), ``limit`` rows per page; ``cost_type``/``token_type`` fan-out rows do not count.
* ``GET /v1/organizations/analytics/usage`` and ``/cost`` (beta ``analytics-usage-cost-2026-08-24``):
  ``{starting_at, ending_at, group, usage|cost}`` rows, every combination returned across pages.

All share the report cursor envelope (``data``, ``has_more``, ``next_page``, ``data_refreshed_at``,
``organization_id``). Cursors are bound to the query (400) and to the data refresh (410).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from simulator.app import Ctx, Endpoint
from simulator.catalog import format_cents
from simulator.errors import bad_request
from simulator.freshness import lookback_floor, report_refreshed_at
from simulator.report_data import ACTOR_TYPES as CONSOLE_ACTOR_TYPES
from simulator.report_data import (
    CONSOLE_PRODUCTS,
    CONTEXT_WINDOWS,
    GEOS,
    MODEL_IDS,
    PRODUCTS,
    PRODUCTS_V2,
    SPEEDS,
    TAG_CATEGORIES,
    ConsoleReports,
    Frame,
    ReportData,
    Selection,
    collect,
    component_fanout,
    component_labels,
    console_reports_for,
    expand_rbac,
    group_sum,
    reports_for,
    usage_values,
)
from simulator.report_data import SERVICE_TIERS as CONSOLE_SERVICE_TIERS
from simulator.routes.paging import offset_window
from simulator.world import iso

BASE = "/v1/organizations/analytics"
BETA_FLAG = "analytics-usage-cost-2026-08-24"
WIDTH_SECONDS = {"1d": 86_400, "1h": 3_600, "1m": 60}
BUCKET_LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 256)}  # (default, max) buckets per page
MAX_SPAN = timedelta(days=31)
MINUTE_SPAN = timedelta(hours=24)
TOP_GROUPS = 100
MAX_V2_GROUPS = 5

#: Dimension fields of the legacy rows, in the documented order.
LEGACY_DIMS = (
    "product",
    "model",
    "context_window",
    "inference_geo",
    "speed",
    "rbac_group_id",
    "slack_channel_id",
    "claude_tag_category",
    "claude_tag_user_id",
)
LEGACY_GROUP_BY = tuple(sorted(LEGACY_DIMS))
LEGACY_COST_GROUP_BY = tuple(sorted((*LEGACY_DIMS, "cost_type", "token_type")))
V2_DIMS = (
    "actor",
    "actor_type",
    "agent_id",
    "api_key_id",
    "claude_tag_category",
    "claude_tag_user_id",
    "context_window",
    "deployment_id",
    "environment_id",
    "inference_geo",
    "model",
    "organization_id",
    "product",
    "rbac_group_id",
    "service_tier",
    "session_id",
    "slack_channel_id",
    "speed",
    "user_profile_id",
    "workspace_id",
)
COST_DIMS = ("cost_type", "token_type")
#: Beta dimensions that only Claude Platform organizations populate: constant for an Enterprise org.
CONSTANT_DIMS = frozenset(
    {
        "agent_id",
        "api_key_id",
        "deployment_id",
        "environment_id",
        "organization_id",
        "service_tier",
        "session_id",
        "user_profile_id",
        "workspace_id",
    }
)
#: Beta dimensions a Console (Claude Platform) organization's usage never splits on.
CONSOLE_CONSTANT_DIMS = frozenset(
    set(V2_DIMS)
    - {
        "actor",
        "actor_type",
        "api_key_id",
        "workspace_id",
        "service_tier",
        "product",
        "model",
        "context_window",
        "inference_geo",
        "speed",
    }
)
#: Record column behind each dimension.
COLUMN = {
    "product": "product",
    "model": "model",
    "context_window": "cw",
    "inference_geo": "geo",
    "speed": "speed",
    "rbac_group_id": "rbac",
    "slack_channel_id": "channel",
    "claude_tag_category": "tag_cat",
    "claude_tag_user_id": "tag_user",
    "actor": "user",
    "actor_type": "actor_type",
}

#: products[] filter values -> record code (None: a product this organization never has).
LEGACY_PRODUCT_FILTER = {
    "chat": 0,
    "claude_code": 1,
    "cowork": 2,
    "office_agent": 3,
    "claude_in_chrome": 4,
    "claude_design": 5,
    "claude-tag": 6,
    "claude-in-slack": 6,
    "claude_in_slack": None,
    "chat_cowork_unified": None,
    "other": 7,
}
V2_PRODUCT_FILTER = {
    "chat": 0,
    "claude_code": 1,
    "cowork": 2,
    "office_agent": 3,
    "claude_in_chrome": 4,
    "claude_design": 5,
    "claude_tag": 6,
    "chat_cowork_unified": None,
    "claude_console": None,
    "managed_agents_api": None,
    "message_batches_api": None,
    "messages_api": None,
}
SERVICE_TIERS = ("batch", "flex", "flex_discount", "priority", "priority_on_demand", "standard")
ACTOR_TYPES = ("api_actor", "federated_actor", "service_account_actor", "user_actor")
USAGE_ORDER = ("total_tokens", "output_tokens", "requests", "uncached_input_tokens")
COST_ORDER = ("amount", "list_amount")
# columns of the usage value vector: uncached, 5m, 1h, cache read, output, requests, web searches
U_REQ, U_WEB = 5, 6


# ---------------------------------------------------------------------------------------------
# Parameters


def _refreshed(ctx: Ctx) -> datetime:
    return report_refreshed_at(ctx.now, ctx.sim.refresh_hours)


def _time_range(
    ctx: Ctx,
    *,
    end_required_by: str | None = None,
    minute_buckets: bool = False,
    minute_param: str = "bucket_width",
) -> tuple[datetime, datetime]:
    q = ctx.query
    start = q.instant("starting_at", required=True)
    floor = lookback_floor(ctx.now)
    if start < floor:
        raise bad_request(
            f"starting_at: must be no earlier than {iso(floor)} (data starts on 2026-01-01 and "
            "the lookback is 365 days)"
        )
    if start > ctx.now:
        raise bad_request("starting_at: must not be in the future")
    end = q.instant("ending_at")
    if end is None:
        if end_required_by:
            raise bad_request(f"ending_at: required when {end_required_by} is set")
        end = min(ctx.now, start + MAX_SPAN)
    if end <= start:
        raise bad_request("Invalid date range: ending date must be after starting date")
    if end - start > MAX_SPAN:
        raise bad_request("Invalid date range: the range may span at most 31 days")
    if minute_buckets and end - start > MINUTE_SPAN:
        raise bad_request(f"Invalid date range: with {minute_param}=1m the range may span at most 24 hours")
    return start, end


def _floor(t: datetime, seconds: int) -> datetime:
    s = int(t.timestamp())
    return datetime.fromtimestamp(s - s % seconds, UTC)


def _ceil(t: datetime, seconds: int) -> datetime:
    s = int(t.timestamp()) + (1 if t.microsecond else 0)
    return datetime.fromtimestamp(-(-s // seconds) * seconds, UTC)


def _group_by(ctx: Ctx, allowed: tuple[str, ...]) -> list[str]:
    return ctx.query.choices("group_by", allowed)


def _check_cursor(ctx: Ctx, refreshed: str) -> None:
    """Validate ``page`` before any work: 400 for another query's cursor, 410 after a refresh."""
    if ctx.query.one("page"):
        offset_window(ctx, 2**62, 1, refresh=refreshed)


def _codes(values: list[str], index: dict[str, int]) -> frozenset[int]:
    return frozenset(index[v] for v in values if v in index)


def _selection(
    ctx: Ctx, rd: ReportData | None, group_by: list[str], *, v2: bool, seat_only: bool
) -> Selection:
    """The record filters of the query (validated even for an organization without Enterprise data)."""
    q = ctx.query
    users, slack, channels = (rd.user_index, rd.slack_index, rd.channel_index) if rd else ({}, {}, {})
    sel = Selection(seat_only=seat_only)
    table = V2_PRODUCT_FILTER if v2 else LEGACY_PRODUCT_FILTER
    if q.has("products"):
        values = q.choices("products", tuple(table))
        sel.products = frozenset(table[v] for v in values if table[v] is not None)
    if q.has("models"):
        sel.models = frozenset(MODEL_IDS.index(m) for m in q.many("models") if m in MODEL_IDS)
    users_param = "actor_ids" if v2 else "user_ids"
    if q.has(users_param):
        sel.users = _codes(q.many(users_param), users)
    if q.has("rbac_group_ids"):
        found = (rd.rbac_index(v) if rd else None for v in q.many("rbac_group_ids"))
        sel.rbac_groups = tuple(sorted({i for i in found if i is not None}))
    if q.has("slack_channel_ids"):
        sel.channels = _codes(q.many("slack_channel_ids"), channels)
    if q.has("context_windows"):
        values = q.many("context_windows")
        if len(values) > 100:
            raise bad_request("context_windows[]: at most 100 entries")
        sel.cws = frozenset(CONTEXT_WINDOWS.index(v) for v in q.choices("context_windows", CONTEXT_WINDOWS))
    if q.has("inference_geos"):
        geos = q.choices("inference_geos", ("global", "not_available", "us"))
        sel.geos = frozenset(-1 if v == "not_available" else GEOS.index(v) for v in geos)
    if q.has("speeds"):
        sel.speeds = frozenset(SPEEDS.index(v) for v in q.choices("speeds", ("fast", "standard")))
    if q.has("claude_tag_categories"):
        cats = q.choices("claude_tag_categories", tuple(sorted(TAG_CATEGORIES)))
        sel.tag_cats = frozenset(TAG_CATEGORIES.index(v) for v in cats)
    if q.has("claude_tag_user_ids"):
        sel.tag_users = _codes(q.many("claude_tag_user_ids"), slack)
    tag_user = "claude_tag_user_id" in group_by or q.has("claude_tag_user_ids")
    if tag_user and ("rbac_group_id" in group_by or q.has("rbac_group_ids")):
        raise bad_request(
            "claude_tag_user_id (group_by[] or claude_tag_user_ids[]) cannot be combined with "
            "group_by[]=rbac_group_id or the rbac_group_ids[] filter"
        )
    if v2:
        if q.has("actor_types"):
            types = q.choices("actor_types", ACTOR_TYPES)
            if "user_actor" in types:
                sel.seat_only = True
            else:
                sel.nothing = True
        if q.has("service_tiers"):
            q.choices("service_tiers", SERVICE_TIERS)
            sel.nothing = True  # Claude Platform organizations only
        for name in (
            "agent_ids",
            "deployment_ids",
            "environment_ids",
            "session_ids",
            "user_profile_ids",
            "workspace_ids",
        ):
            if q.has(name):
                sel.nothing = True  # Claude Platform dimensions: an Enterprise org has no such usage
        if q.has("api_key_ids") and "" not in q.many("api_key_ids"):
            sel.nothing = True  # Enterprise usage is never authenticated by an API key
        if q.has("organization_ids") and not {ctx.org.uuid, ctx.org.analytics_id} & set(
            q.many("organization_ids")
        ):
            sel.nothing = True
    return sel


def _console_filters(ctx: Ctx, src: ConsoleReports) -> dict:
    """Filters of a beta query on a Console organization: record column -> allowed codes."""
    q = ctx.query
    f: dict = {}

    def codes(values, index: dict) -> frozenset[int]:
        return frozenset(index[v] for v in values if v in index)

    if q.has("products"):
        f["product"] = codes(q.many("products"), {p: i for i, p in enumerate(CONSOLE_PRODUCTS)})
    if q.has("models"):
        f["model"] = codes(q.many("models"), {m: i for i, m in enumerate(MODEL_IDS)})
    if q.has("context_windows"):
        f["cw"] = codes(q.many("context_windows"), {c: i for i, c in enumerate(CONTEXT_WINDOWS)})
    if q.has("inference_geos"):
        f["geo"] = codes(q.many("inference_geos"), {"global": 0, "us": 1, "not_available": -1})
    if q.has("speeds"):
        f["speed"] = codes(q.many("speeds"), {s: i for i, s in enumerate(SPEEDS)})
    if q.has("actor_ids"):
        f["actor"] = codes(q.many("actor_ids"), src.actor_index)
    if q.has("actor_types"):
        f["actor_type"] = codes(q.many("actor_types"), {a: i for i, a in enumerate(CONSOLE_ACTOR_TYPES)})
    if q.has("api_key_ids"):
        f["api_key_id"] = codes(q.many("api_key_ids"), {"": -1, **src.key_index})
    if q.has("workspace_ids"):
        f["workspace_id"] = codes(q.many("workspace_ids"), src.workspace_index)
    if q.has("service_tiers"):
        f["service_tier"] = codes(
            q.choices("service_tiers", SERVICE_TIERS), {t: i for i, t in enumerate(CONSOLE_SERVICE_TIERS)}
        )
    if q.has("organization_ids") and not {ctx.org.uuid, ctx.org.analytics_id} & set(
        q.many("organization_ids")
    ):
        f["nothing"] = True
    for name in (
        "rbac_group_ids",
        "slack_channel_ids",
        "claude_tag_categories",
        "claude_tag_user_ids",
        "agent_ids",
        "deployment_ids",
        "environment_ids",
        "session_ids",
        "user_profile_ids",
    ):
        if q.has(name):
            f["nothing"] = True  # no Console usage carries these attributions
    return f


# ---------------------------------------------------------------------------------------------
# Aggregation


def _columns(f: Frame, dims: list[str]) -> list[np.ndarray]:
    out = []
    for d in dims:
        col = COLUMN.get(d)
        if d in f.extra:
            out.append(f.extra[d])
        elif col == "rbac":
            out.append(f.extra["rbac"])
        elif col == "actor_type":
            out.append(np.where(f.user >= 0, 0, -1))
        else:
            out.append(getattr(f, col))
    return out


def _split_dims(
    group_by: list[str], constant: frozenset[str] = CONSTANT_DIMS
) -> tuple[list[str], str | None]:
    """(dimensions that split rows, cost fan-out mode)."""
    dims = [d for d in group_by if d not in COST_DIMS and d not in constant]
    mode = None
    if "token_type" in group_by:
        mode = "token_type"
    elif "cost_type" in group_by:
        mode = "cost_type"
    return dims, mode


def _prepare(rd: ReportData, f: Frame, dims: list[str], sel: Selection) -> Frame:
    if "rbac_group_id" in dims:
        f = expand_rbac(rd, f, sel.rbac_groups)
    return f


def _bucket_col(f: Frame, grid0: datetime, width: int) -> np.ndarray:
    return (f.sec - int(grid0.timestamp())) // width


@dataclass
class Table:
    """Aggregated rows in page order: dimension codes, value sums and (optional) fan-out components."""

    codes: dict[str, np.ndarray]
    sums: np.ndarray
    orig: np.ndarray | None = None  # unit number (as grouped) of each row; the key of its components
    comp_unit: np.ndarray | None = None  # unit number of each component row, sorted
    comp_code: np.ndarray | None = None
    comp_sums: np.ndarray | None = None  # [list, amount]

    def __post_init__(self) -> None:
        if self.orig is None:
            self.orig = np.arange(len(self.sums))

    @property
    def n(self) -> int:
        return len(self.sums)

    def components(self, unit: int) -> range:
        """Component rows of a unit (by its ``orig`` number)."""
        lo = int(np.searchsorted(self.comp_unit, unit, side="left"))
        hi = int(np.searchsorted(self.comp_unit, unit, side="right"))
        return range(lo, hi)

    def rows(self, lo: int, hi: int) -> Rows:
        return Rows(
            {k: v[lo:hi].tolist() for k, v in self.codes.items()},
            self.sums[lo:hi].tolist(),
            self.orig[lo:hi].tolist(),
        )


@dataclass
class Rows:
    """A page of a Table as Python lists (fast to render)."""

    codes: dict[str, list[int]]
    sums: list[list[int]]
    orig: list[int]


def _cost_values(f: Frame) -> np.ndarray:
    return np.column_stack([f.lst.sum(axis=1), f.amt.sum(axis=1), f.requests]).astype(np.int64)


def _units(
    f: Frame, dims: list[str], *, bucket: tuple[datetime, int] | None, cost: bool, mode: str | None
) -> Table:
    """One unit per (bucket, dims) combination with usage, plus its cost fan-out rows."""
    names = (["bucket"] if bucket else []) + dims
    cols = ([_bucket_col(f, *bucket)] if bucket else []) + _columns(f, dims)
    values = _cost_values(f) if cost else usage_values(f)
    g = group_sum(cols, values)
    codes = {name: col[g.rep] for name, col in zip(names, cols, strict=True)}
    table = Table(codes, g.sums)
    if mode:
        table.comp_unit, table.comp_code, table.comp_sums = component_fanout(f, g, mode)
    return table


def bucket_rows(
    rd: ReportData,
    f: Frame,
    group_by: list[str] | tuple[str, ...],
    *,
    grid0: datetime,
    width: int,
    cost: bool,
    sel: Selection | None = None,
) -> Table:
    """Every row of a bucketed report (B8/B9) before the top-100 cut, in no particular order.

    One row per (bucket, group), or per (bucket, group, cost component) when a cost report groups by
    ``cost_type``/``token_type``: each counts against the bucket's top 100. ``f`` holds the query's
    records (:func:`collect` under its selection). Shared by the route and ``min_requests_reports``.
    """
    dims, mode = _split_dims(list(group_by))
    f = _prepare(rd, f, dims, sel or Selection())
    t = _units(f, dims, bucket=(grid0, width), cost=cost, mode=mode if cost else None)
    if cost and mode:  # every (group, cost component) is a row of its own
        unit, comp, sums = t.comp_unit, t.comp_code, t.comp_sums
        t = Table({**{k: v[unit] for k, v in t.codes.items()}, "component": comp}, sums)
    return t


def user_units(
    rd: ReportData,
    f: Frame,
    group_by: list[str] | tuple[str, ...],
    *,
    bucket: tuple[datetime, int] | None,
    cost: bool,
    sel: Selection | None = None,
) -> Table:
    """The ranked units of a per-user report (B10/B11): one per (actor, bucket, group), the paging unit.

    ``f`` holds the query's seat-user records. Shared by the route and ``min_requests_reports``.
    """
    dims, mode = _split_dims(list(group_by))
    f = _prepare(rd, f, dims, sel or Selection())
    return _units(f, ["actor", *dims], bucket=bucket, cost=cost, mode=mode)


def _v2_table(
    f: Frame, dims: list[str], mode: str | None, *, bucket: tuple[datetime, int] | None, cost: bool
) -> Table:
    t = _units(f, dims, bucket=bucket, cost=cost, mode=mode)
    if cost:  # one row per combination *with cost* (e.g. no priority-tier or free code-execution rows)
        t = _reorder(t, np.flatnonzero(t.sums[:, :2].any(axis=1)))
        if mode:
            billed = t.comp_sums.any(axis=1)
            t.comp_unit, t.comp_code, t.comp_sums = (
                t.comp_unit[billed],
                t.comp_code[billed],
                t.comp_sums[billed],
            )
    return t


def v2_units(
    rd: ReportData,
    f: Frame,
    group_by: list[str] | tuple[str, ...],
    *,
    bucket: tuple[datetime, int] | None,
    cost: bool,
    sel: Selection | None = None,
) -> Table:
    """The ranked units of a beta report (B12) of an Enterprise organization, the paging unit.

    ``f`` holds the query's records. Shared by the route and ``min_requests_reports``.
    """
    dims, mode = _split_dims(list(group_by))
    f = _prepare(rd, f, dims, sel or Selection())
    return _v2_table(f, dims, mode, bucket=bucket, cost=cost)


def _reorder(t: Table, order: np.ndarray) -> Table:
    """The table with its units in ``order`` (a permutation or a subset); components stay keyed by unit."""
    return Table(
        {k: v[order] for k, v in t.codes.items()},
        t.sums[order],
        t.orig[order],
        t.comp_unit,
        t.comp_code,
        t.comp_sums,
    )


def _metric(t: Table, cost: bool, order_by: str) -> np.ndarray:
    if cost:
        return t.sums[:, 0 if order_by == "list_amount" else 1]
    if order_by == "total_tokens":
        return t.sums[:, :5].sum(axis=1)
    return t.sums[:, {"output_tokens": 4, "requests": U_REQ, "uncached_input_tokens": 0}[order_by]]


def _rank(
    t: Table, metric: np.ndarray, descending: bool, by_time: bool = False, time_descending: bool = True
) -> Table:
    """Units ranked by ``metric`` (ties: dimension order); or by bucket, then metric highest first."""
    tie = np.arange(t.n)
    if by_time:
        b = t.codes["bucket"]
        order = np.lexsort((tie, -metric, -b if time_descending else b))
    else:
        order = np.lexsort((tie, -metric if descending else metric))
    return _reorder(t, order)


# ---------------------------------------------------------------------------------------------
# Rendering


def _actor(rd: ReportData, u: int, today_ordinal: int) -> dict:
    user = rd.org.users[u]
    deleted = bool(rd.removed_ordinal[u] <= today_ordinal)
    email = None if deleted else user.email
    return {
        "type": "user_actor",
        "user_id": user.id,
        "email": email,
        "email_address": email,
        "name": "Deleted User" if deleted else user.name,
        "deleted": deleted,
    }


def _dim_value(rd: ReportData, name: str, code: int, *, v2: bool, today: int):
    if name in CONSTANT_DIMS:
        return rd.org.uuid if name == "organization_id" else None
    if code < 0:
        return None
    if name == "product":
        return (PRODUCTS_V2 if v2 else PRODUCTS)[code]
    if name == "model":
        return MODEL_IDS[code]
    if name == "context_window":
        return CONTEXT_WINDOWS[code]
    if name == "inference_geo":
        return GEOS[code]
    if name == "speed":
        return SPEEDS[code]
    if name == "rbac_group_id":
        return rd.rbac_ids[code]
    if name == "slack_channel_id":
        return rd.channels[code]
    if name == "claude_tag_category":
        return TAG_CATEGORIES[code]
    if name == "claude_tag_user_id":
        return rd.slack_users[code]
    if name == "actor":
        return _actor(rd, code, today)
    if name == "actor_type":
        return "user_actor"
    raise KeyError(name)


def _dims(
    rd: ReportData | None,
    t: Rows,
    i: int,
    names: tuple[str, ...],
    grouped: list[str],
    *,
    v2: bool,
    today: int,
    label=None,
) -> dict:
    out = {}
    for name in names:
        if name in grouped:
            code = t.codes[name][i] if name in t.codes else -1
            out[name] = label(name, code, today) if label else _dim_value(rd, name, code, v2=v2, today=today)
        else:
            out[name] = None
    return out


def _usage_fields(s: list[int]) -> dict:
    return {
        "uncached_input_tokens": s[0],
        "output_tokens": s[4],
        "cache_read_input_tokens": s[3],
        "cache_creation": {"ephemeral_1h_input_tokens": s[2], "ephemeral_5m_input_tokens": s[1]},
        "server_tool_use": {"web_search_requests": s[U_WEB]},
    }


def _envelope(ctx: Ctx, data: list, nxt: str | None, refreshed: datetime) -> dict:
    return {
        "data": data,
        "data_refreshed_at": iso(refreshed),
        "has_more": nxt is not None,
        "next_page": nxt,
        "organization_id": ctx.org.analytics_id,
    }


def _today(refreshed: datetime) -> int:
    return refreshed.date().toordinal()


def _cache_key(ctx: Ctx, kind: str, refreshed: datetime, *resolved) -> tuple:
    return (kind, ctx.query.canonical(), iso(refreshed), ctx.sim.revision_days, *resolved)


# ---------------------------------------------------------------------------------------------
# B8 / B9: bucketed reports


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
    start, end = _time_range(ctx)
    group_by = _group_by(ctx, LEGACY_COST_GROUP_BY if cost else LEGACY_GROUP_BY)
    sel = _selection(ctx, rd, group_by, v2=False, seat_only=False)
    refreshed = _refreshed(ctx)
    _check_cursor(ctx, iso(refreshed))
    width = WIDTH_SECONDS[width_name]
    grid0, grid1 = _floor(start, width), _ceil(end, width)
    buckets = int((grid1 - grid0).total_seconds()) // width
    _, mode = _split_dims(group_by)

    def compute() -> BucketReport:
        f = collect(rd, grid0, grid1, refreshed, ctx.sim.revision_days, sel)
        t = bucket_rows(rd, f, group_by, grid0=grid0, width=width, cost=cost, sel=sel)
        metric = t.sums[:, 1] if cost else t.sums[:, :5].sum(axis=1)
        order = np.lexsort((np.arange(t.n), -metric, t.codes["bucket"]))
        t = _reorder(t, order)
        b = t.codes["bucket"]
        starts = np.searchsorted(b, np.arange(buckets + 1), side="left")
        rank = np.arange(t.n) - starts[b]
        keep = np.flatnonzero(rank < TOP_GROUPS)
        t = Table({k: v[keep] for k, v in t.codes.items()}, t.sums[keep])
        return BucketReport(
            grid0, width, buckets, t, np.searchsorted(t.codes["bucket"], np.arange(buckets + 1))
        )

    report = rd.cached(
        _cache_key(ctx, "bucket" + ("-cost" if cost else ""), refreshed, grid0, grid1), compute
    )
    lo, hi, nxt = offset_window(ctx, report.buckets, limit, refresh=iso(refreshed))
    today = _today(refreshed)
    first = int(report.starts[lo])
    page = report.table.rows(first, int(report.starts[hi]))
    data = []
    for b in range(lo, hi):
        s = report.grid0 + timedelta(seconds=b * report.width)
        rows = [
            _legacy_row(rd, page, i - first, group_by, cost=cost, mode=mode, today=today)
            for i in range(int(report.starts[b]), int(report.starts[b + 1]))
        ]
        data.append(
            {"starting_at": iso(s), "ending_at": iso(s + timedelta(seconds=report.width)), "results": rows}
        )
    return _envelope(ctx, data, nxt, refreshed)


def _legacy_row(
    rd: ReportData, t: Rows, i: int, group_by: list[str], *, cost: bool, mode: str | None, today: int
) -> dict:
    dims = _dims(rd, t, i, LEGACY_DIMS, group_by, v2=False, today=today)
    s = t.sums[i]
    if not cost:
        return {**dims, "requests": s[U_REQ], **_usage_fields(s)}
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


# ---------------------------------------------------------------------------------------------
# B10 / B11: per-user reports


@dataclass
class Ranked:
    table: Table
    grid0: datetime | None
    width: int | None


def _user_report(ctx: Ctx, *, cost: bool) -> dict:
    q = ctx.query
    rd = reports_for(ctx.sim, ctx.org)
    width_name = q.choice("bucket_width", tuple(WIDTH_SECONDS))
    limit = q.integer("limit", 20, 1, 1000)
    order_by = q.choice("order_by", COST_ORDER if cost else USAGE_ORDER, "amount" if cost else "total_tokens")
    descending = q.choice("order", ("asc", "desc"), "desc") == "desc"
    exclude_deleted = q.boolean("exclude_deleted_users")
    start, end = _time_range(
        ctx, end_required_by="bucket_width" if width_name else None, minute_buckets=width_name == "1m"
    )
    group_by = _group_by(ctx, LEGACY_COST_GROUP_BY if cost else LEGACY_GROUP_BY)
    sel = _selection(ctx, rd, group_by, v2=False, seat_only=True)
    refreshed = _refreshed(ctx)
    _check_cursor(ctx, iso(refreshed))
    width = WIDTH_SECONDS[width_name] if width_name else None
    t0, t1 = (_floor(start, width), _ceil(end, width)) if width else (start, end)
    _, mode = _split_dims(group_by)
    today = _today(refreshed)

    def compute() -> Ranked:
        f = collect(rd, t0, t1, refreshed, ctx.sim.revision_days, sel)
        t = user_units(rd, f, group_by, bucket=(t0, width) if width else None, cost=cost, sel=sel)
        if exclude_deleted:
            keep = np.flatnonzero(rd.removed_ordinal[t.codes["actor"]] > today)
            t = _reorder(t, keep) if len(keep) < t.n else t
        return Ranked(_rank(t, _metric(t, cost, order_by), descending), t0 if width else None, width)

    ranked = rd.cached(_cache_key(ctx, "user" + ("-cost" if cost else ""), refreshed, t0, t1), compute)
    table = ranked.table
    lo, hi, nxt = offset_window(ctx, table.n, limit, refresh=iso(refreshed))
    t = table.rows(lo, hi)
    data = []
    for i in range(hi - lo):
        actor = _actor(rd, t.codes["actor"][i], today)
        if width:
            s = ranked.grid0 + timedelta(seconds=t.codes["bucket"][i] * width)
            span = {"starting_at": iso(s), "ending_at": iso(s + timedelta(seconds=width))}
        else:
            span = {"starting_at": None, "ending_at": None}
        dimvals = _dims(rd, t, i, LEGACY_DIMS, group_by, v2=False, today=today)
        s = t.sums[i]
        if not cost:
            data.append(
                {
                    "actor": actor,
                    **span,
                    **dimvals,
                    "requests": s[U_REQ],
                    "total_tokens": sum(s[:5]),
                    **_usage_fields(s),
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
    return _envelope(ctx, data, nxt, refreshed)


def user_usage_report(ctx: Ctx) -> dict:
    return _user_report(ctx, cost=False)


def user_cost_report(ctx: Ctx) -> dict:
    return _user_report(ctx, cost=True)


# ---------------------------------------------------------------------------------------------
# B12: beta usage and cost


def _v2_report(ctx: Ctx, *, cost: bool) -> dict:
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
    start, end = _time_range(
        ctx,
        end_required_by="time_bucket_width" if width_name else None,
        minute_buckets=width_name == "1m",
        minute_param="time_bucket_width",
    )
    group_by = _group_by(ctx, tuple(sorted((*V2_DIMS, *COST_DIMS))) if cost else V2_DIMS)
    if len([d for d in group_by if d not in COST_DIMS]) > MAX_V2_GROUPS:
        raise bad_request(
            f"group_by[]: at most {MAX_V2_GROUPS} dimensions (not counting cost_type and token_type)"
        )
    if exclude_deleted and "actor" not in group_by:
        raise bad_request("exclude_deleted_users: requires group_by[]=actor")
    refreshed = _refreshed(ctx)
    width = WIDTH_SECONDS[width_name] if width_name else None
    t0, t1 = (_floor(start, width), _ceil(end, width)) if width else (_floor(start, 3600), _floor(end, 3600))
    today = _today(refreshed)
    enterprise = ctx.org.kind == "enterprise"
    if enterprise:
        rd, src = reports_for(ctx.sim, ctx.org), None
        dims, mode = _split_dims(group_by)
        sel = _selection(ctx, rd, group_by, v2=True, seat_only=False)
        label, removed = None, rd.removed_ordinal
    else:  # an Admin key: the Console organization's own API usage
        rd, src = None, console_reports_for(ctx.sim, ctx.org)
        dims, mode = _split_dims(group_by, CONSOLE_CONSTANT_DIMS)
        _selection(ctx, None, group_by, v2=True, seat_only=False)  # validates the common filters
        sel = _console_filters(ctx, src)
        label, removed = src.label, src.removed_ordinal
    _check_cursor(ctx, iso(refreshed))
    metric_name = order_by if order_by != "time" else ("amount" if cost else "total_tokens")

    def compute() -> Ranked:
        bucket = (t0, width) if width else None
        if enterprise:
            f = collect(rd, t0, t1, refreshed, ctx.sim.revision_days, sel)
            t = v2_units(rd, f, group_by, bucket=bucket, cost=cost, sel=sel)
        else:
            f = src.frame(t0, t1, refreshed, sel, minutes=width == 60)
            t = _v2_table(f, dims, mode, bucket=bucket, cost=cost)
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
            t = _reorder(t, keep) if len(keep) < t.n else t
        by_time = order_by == "time" and width is not None
        return Ranked(
            _rank(t, _metric(t, cost, metric_name), descending, by_time=by_time, time_descending=descending),
            t0,
            width,
        )

    ranked = (rd or src).cached(_cache_key(ctx, "v2" + ("-cost" if cost else ""), refreshed, t0, t1), compute)
    table = ranked.table
    lo, hi, nxt = offset_window(ctx, table.n, limit, refresh=iso(refreshed))
    t = table.rows(lo, hi)
    names = (*V2_DIMS, *COST_DIMS) if cost else V2_DIMS
    data = []
    for i in range(hi - lo):
        if width:
            s0 = t0 + timedelta(seconds=t.codes["bucket"][i] * width)
            span = {"starting_at": iso(s0), "ending_at": iso(s0 + timedelta(seconds=width))}
        else:
            span = {"starting_at": iso(t0), "ending_at": iso(t1)}
        group = _dims(rd, t, i, names, group_by, v2=True, today=today, label=label)
        s = t.sums[i]
        if not cost:
            usage = {
                **_usage_fields(s),
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
                            "amount": format_cents(int(table.comp_sums[j, 1])),
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
                        "amount": format_cents(s[1]),
                        "list_amount": format_cents(s[0]),
                        "currency": "USD",
                        "requests": s[2] if enterprise else None,
                    },
                }
            )
    return _envelope(ctx, data, nxt, refreshed)


def usage(ctx: Ctx) -> dict:
    return _v2_report(ctx, cost=False)


def cost(ctx: Ctx) -> dict:
    return _v2_report(ctx, cost=True)


ENDPOINTS: list[Endpoint] = [
    Endpoint(f"{BASE}/usage_report", usage_report, keys=("analytics",)),
    Endpoint(f"{BASE}/cost_report", cost_report, keys=("analytics",)),
    Endpoint(f"{BASE}/user_usage_report", user_usage_report, keys=("analytics",)),
    Endpoint(f"{BASE}/user_cost_report", user_cost_report, keys=("analytics",)),
    Endpoint(f"{BASE}/usage", usage, keys=("analytics", "admin")),
    Endpoint(f"{BASE}/cost", cost, keys=("analytics", "admin")),
]

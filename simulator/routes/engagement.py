"""Enterprise Analytics engagement endpoints (reference B0, B0.1, B1-B7).

``/summaries`` returns the day series in one page (``data`` + the deprecated ``summaries`` alias +
``next_page: null``). The other six use the opaque-cursor envelope ``{"data": [...], "next_page": ...}``
with cursors bound to the query. Every record is rendered from the columnar results of
:mod:`simulator.engagement_data`, so only the rows of the requested page are ever turned into JSON.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from simulator import cursors
from simulator.app import Ctx, Endpoint
from simulator.engagement_data import (
    OFFICE_APPS,
    PRODUCT_CODE,
    PRODUCTS,
    USER_LAYOUT,
    EngagementData,
    Scope,
    Table,
    day_range,
    engagement,
    money,
    normalize_connector,
)
from simulator.errors import bad_request
from simulator.freshness import latest_engagement_day
from simulator.world import ENTERPRISE_DATA_FLOOR

BASE = "/v1/organizations/analytics"
MAX_RANGE_DAYS = 366
MAX_LIST_ENTRIES = 100
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
UNIFIED = "chat_cowork_unified"  # a product value only where Chat and Cowork unified is available (not here)


# -- dates --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    start: date
    end: date  # exclusive
    single: bool
    end_tag: str | None = None  # set when ending_date was defaulted: the cursor carries the resolved end

    @property
    def days(self) -> list[date]:
        return day_range(self.start, self.end)


def _latest(ctx: Ctx) -> date:
    return latest_engagement_day(ctx.now, ctx.sim.engagement_lag_days)


def _not_yet(name: str, d: date, latest: date) -> Exception:
    return bad_request(
        f"{name}: data for {d.isoformat()} is not available yet; the most recent available day is "
        f"{latest.isoformat()}"
    )


def _check_floor(name: str, d: date) -> None:
    if d < ENTERPRISE_DATA_FLOOR:
        raise bad_request(
            f"{name}: no data is available before {ENTERPRISE_DATA_FLOOR.isoformat()}; got {d.isoformat()}"
        )


def _peek_end(page: str | None) -> date | None:
    """The ending_date a cursor was issued under when the request left ending_date to its default."""
    if not page:
        return None
    try:
        body = page.removeprefix("page_")
        state = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        tag = state.get("r")
        if isinstance(tag, str) and tag.startswith("end="):
            return date.fromisoformat(tag[4:])
    except (ValueError, TypeError, AttributeError):
        return None
    return None


def _range(ctx: Ctx, start: date, latest: date) -> Window:
    """The [starting_date, ending_date) window; ending_date defaults to the most recent available day + 1."""
    q = ctx.query
    _check_floor("starting_date", start)
    if start > latest:
        raise _not_yet("starting_date", start, latest)
    end = q.day("ending_date")
    tag = None
    if end is None:
        end = _peek_end(q.one("page")) or latest + timedelta(days=1)
        tag = f"end={end.isoformat()}"
    elif end <= start:
        raise bad_request(
            "Invalid date range: ending_date must be after starting_date "
            f"(got starting_date={start.isoformat()}, ending_date={end.isoformat()})"
        )
    elif end - timedelta(days=1) > latest:
        raise bad_request(
            f"ending_date: data for {(end - timedelta(days=1)).isoformat()} is not available yet; the most "
            f"recent available day is {latest.isoformat()} (ending_date is exclusive, so it can be at "
            f"most {(latest + timedelta(days=1)).isoformat()})"
        )
    if (end - start).days > MAX_RANGE_DAYS:
        raise bad_request(
            f"Invalid date range: the range may span at most {MAX_RANGE_DAYS} days; got "
            f"{(end - start).days} days ({start.isoformat()} to {end.isoformat()})"
        )
    return Window(start, end, False, tag)


def _window(ctx: Ctx, *, ranged: bool = True) -> Window:
    """``date`` (single day) or ``starting_date``/``ending_date`` (rollup), never both."""
    q = ctx.query
    latest = _latest(ctx)
    has_date, has_start = q.one("date") is not None, q.one("starting_date") is not None
    if not ranged:
        for name in ("starting_date", "ending_date"):
            if q.one(name) is not None:
                raise bad_request(
                    f"{name}: not supported on this endpoint; pass a single day as date=YYYY-MM-DD"
                )
    if has_date and has_start:
        raise bad_request("Use either date or starting_date (with an optional ending_date), not both")
    if q.one("ending_date") is not None and not has_start:
        raise bad_request("ending_date: only valid with starting_date")
    if has_date or not ranged:
        d = q.day("date", required=True)
        _check_floor("date", d)
        if d > latest:
            raise _not_yet("date", d, latest)
        return Window(d, d + timedelta(days=1), True)
    if not has_start:
        raise bad_request("One of date (a single day) or starting_date (a date range) is required")
    return _range(ctx, q.day("starting_date"), latest)


def _page(ctx: Ctx, kind: str, total: int, limit: int, win: Window) -> tuple[int, int, str | None]:
    """[start, end) of the sorted rows and the next cursor.

    Like ``paging.offset_window``, but the cursor is also bound to the endpoint (a /users cursor is
    not accepted by /skills with the same parameters) and, when ending_date was left to its default,
    carries the ending_date resolved on the first page.
    """
    canonical = f"{kind}?{ctx.query.canonical()}"
    page = ctx.query.one("page")
    start = cursors.decode(page, canonical, win.end_tag) if page else 0
    end = min(total, start + limit)
    return start, end, (cursors.encode(end, canonical, win.end_tag) if end < total else None)


# -- filter[], group_by[], order ------------------------------------------------------------------------
def _filters(ctx: Ctx, allowed: Sequence[str]) -> dict[str, list[str]]:
    raw = ctx.query.many("filter")
    if len(raw) > MAX_LIST_ENTRIES:
        raise bad_request(f"filter[]: at most {MAX_LIST_ENTRIES} entries; got {len(raw)}")
    out: dict[str, list[str]] = {}
    for item in raw:
        dim, sep, value = item.partition(":")
        dim, value = dim.strip(), value.strip()
        if not sep or not dim or not value:
            raise bad_request(
                f"filter[]: expected dimension:value (e.g. rbac_group_id:rbac_group_01...), got {item!r}"
            )
        if dim not in allowed:
            raise bad_request(
                f"filter[]: unsupported dimension {dim!r} on this endpoint; supported dimensions: "
                f"{', '.join(allowed)}"
            )
        out.setdefault(dim, []).append(value)
    return out


def _group_by(ctx: Ctx, allowed: Sequence[str]) -> tuple[str, ...]:
    raw = ctx.query.many("group_by")
    if len(raw) > MAX_LIST_ENTRIES:
        raise bad_request(f"group_by[]: at most {MAX_LIST_ENTRIES} entries; got {len(raw)}")
    for v in raw:
        if v not in allowed:
            raise bad_request(
                f"group_by[]: unsupported dimension {v!r} on this endpoint; supported: "
                f"{', '.join(allowed) or 'none'}"
            )
    return tuple(dict.fromkeys(raw))


def _order(ctx: Ctx, sort_columns: Sequence[str], metrics: Sequence[str]) -> tuple[str | None, bool]:
    """(metric column or None for the sort column, descending?)."""
    q = ctx.query
    order = q.choice("order", ("asc", "desc"))
    by = q.one("order_by")
    if by is None or by in sort_columns:
        return None, order == "desc"
    if by in metrics:
        return by, order != "asc"
    leaf = [m for m in metrics if m.rsplit(".", 1)[-1] == by]
    if len(leaf) == 1:
        return leaf[0], order != "asc"
    hint = f"; {by!r} is ambiguous, use one of: {', '.join(leaf)}" if leaf else ""
    raise bad_request(
        f"order_by: {by!r} is not orderable on this endpoint; use the sort column "
        f"({sort_columns[0]}) or a numeric metric of the record by name or dotted path "
        f"(e.g. {metrics[0]}){hint}"
    )


def _sort(t: Table, by: str | None, desc: bool, primary: np.ndarray, ties: Sequence[np.ndarray]) -> Table:
    keys = [*reversed(ties)]
    if by is None:
        keys.append(-primary if desc else primary)
    else:
        values = t.cols.get(by)
        nulls = t.null(by) if values is not None else np.ones(t.n, dtype=bool)
        values = np.zeros(t.n, dtype=np.int64) if values is None else values
        keys += [primary, np.where(nulls, 0, -values if desc else values), nulls]
    return t.take(np.lexsort(keys)) if t.n else t


def _product_filter(values: list[str] | None, allowed: Sequence[str]) -> tuple[int, ...] | None:
    if values is None:
        return None
    for v in values:
        if v == UNIFIED:
            raise bad_request(
                "filter[]: product 'chat_cowork_unified' is not available for this organization "
                "(Chat and Cowork unified is not enabled)"
            )
        if v not in allowed:
            raise bad_request(f"filter[]: product {v!r} is not one of {', '.join(allowed)} on this endpoint")
    return tuple(sorted({PRODUCT_CODE[v] for v in values}))


def _user_scope(eng: EngagementData, f: dict[str, list[str]]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(users mask, groups mask) from the user_id and rbac_group_id filters."""
    users = groups = None
    if "user_id" in f:
        users = np.zeros(eng.n_users, dtype=bool)
        for v in f["user_id"]:
            if not v.startswith("user_"):
                raise bad_request(f"filter[]: user_id takes a tagged user id (user_...), got {v!r}")
            i = eng.user_index.get(v)
            if i is not None:
                users[i] = True
    if "rbac_group_id" in f:
        groups = np.zeros(len(eng.group_ids), dtype=bool)
        for v in f["rbac_group_id"]:
            if not v.startswith("rbac_group_"):
                try:
                    uuid.UUID(v)
                except ValueError:
                    raise bad_request(
                        f"filter[]: rbac_group_id takes a tagged id (rbac_group_...) or a bare group "
                        f"UUID, got {v!r}"
                    ) from None
            g = eng.group_for(v)
            if g is not None:
                groups[g] = True
        members = eng.rbac[:, groups].any(axis=1)
        users = members if users is None else users & members
    return users, groups


# -- rendering helpers --------------------------------------------------------------------------------
def _values(t: Table, sel: np.ndarray, columns: Sequence[str]) -> dict[str, list]:
    """Python lists of the selected rows, None where the column is null."""
    out = {}
    for p in columns:
        if p not in t.cols:
            out[p] = [None] * len(sel)
            continue
        col = t.cols[p][sel].tolist()
        if p in t.nulls:
            mask = t.nulls[p][sel].tolist()
            col = [None if m else v for v, m in zip(col, mask, strict=True)]
        out[p] = col
    return out


def _template(paths: Sequence[tuple[str, bool]], prefix: str = "") -> dict:
    """Nested dict from dotted paths; a leaf is the path (a column) or None (always null)."""
    root: dict = {}
    for path, enabled in paths:
        node = root
        parts = path[len(prefix) :].split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = path if enabled else None
    return root


def _compile(tmpl: dict) -> tuple[tuple[str, ...], Callable[[tuple], dict]]:
    """(columns, row -> record): the template as one dict literal reading a row tuple of those columns."""
    columns: list[str] = []

    def expr(node: dict) -> str:
        items = []
        for k, v in node.items():
            if isinstance(v, str):
                columns.append(v)
                items.append(f"{k!r}: r[{len(columns) - 1}]")
            else:
                items.append(f"{k!r}: {'None' if v is None else expr(v)}")
        return "{" + ", ".join(items) + "}"

    code = compile(f"lambda r: {expr(tmpl)}", "<engagement-record>", "eval")
    return tuple(columns), eval(code, {})  # the template holds only our own constant names


def _group_fields(
    eng: EngagementData, rec: dict, prod: int, user: int, grp: int, *, product: bool = True
) -> None:
    """The flat group keys (null unless grouped); /apps/chat/projects has no product dimension."""
    if product:
        rec["product"] = PRODUCTS[prod] if prod >= 0 else None
    rec["user_id"] = eng.user_ids[user] if user >= 0 else None
    rec["rbac_group_id"] = eng.group_ids[grp] if grp >= 0 else None
    rec["rbac_group_name"] = eng.group_names[grp] if grp >= 0 else None


def _masked_rank(rank: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.where(idx >= 0, rank[np.maximum(idx, 0)], -1)


# -- B1 summaries ---------------------------------------------------------------------------------------
def summaries(ctx: Ctx) -> dict:
    q = ctx.query
    eng = engagement(ctx.sim, ctx.org)
    latest = _latest(ctx)
    start = q.day("starting_date", required=True)
    win = _range(ctx, start, latest)
    q.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)  # validated; the series is returned in full
    page = q.one("page")
    if page:  # next_page is always null, so no cursor is ever valid here
        cursors.decode(page, q.canonical())
    f = _filters(ctx, ("rbac_group_id",))
    scope = _user_scope(eng, f)[0]
    rows = eng.cached(
        ("summaries", q.canonical(exclude=("page", "limit", "ending_date")), win.start, win.end),
        lambda: eng.summaries(win.start, win.end, scope),
    )
    return {"data": rows, "summaries": rows, "next_page": None}


# -- B2 users -------------------------------------------------------------------------------------------
USER_METRICS = (*(p for p, _ in USER_LAYOUT), "distinct_user_count")
_USER_COLUMNS, _user_record = _compile(
    {
        "user": "$user",
        **_template([x for x in USER_LAYOUT if not x[0].startswith("claude_tag_metrics.")]),
        "last_activity_date": "$last_activity_date",
        "distinct_user_count": "distinct_user_count",
        "rbac_group_id": "$rbac_group_id",
        "rbac_group_name": "$rbac_group_name",
        "chat_cowork_unified_metrics": None,
        "claude_tag_metrics": _template(
            [x for x in USER_LAYOUT if x[0].startswith("claude_tag_metrics.")], "claude_tag_metrics."
        ),
    }
)


def users(ctx: Ctx) -> dict:
    q = ctx.query
    eng = engagement(ctx.sim, ctx.org)
    win = _window(ctx)
    limit = q.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    f = _filters(ctx, ("project_id", "rbac_group_id", "user_id"))
    group_by = _group_by(ctx, ("rbac_group_id",))
    if "project_id" in f and (group_by or "rbac_group_id" in f):
        raise bad_request(
            "filter[]: a project_id filter cannot be combined with group_by[] or an rbac_group_id filter"
        )
    grouped = bool(group_by)
    by, desc = _order(
        ctx, ("rbac_group_id",) if grouped else ("email", "email_address", "user.email_address"), USER_METRICS
    )
    members, groups = _user_scope(eng, f)
    projects = None
    if "project_id" in f:
        projects = np.zeros(len(eng.projects), dtype=bool)
        for v in f["project_id"]:
            if not v.startswith("claude_proj_"):
                raise bad_request(
                    f"filter[]: project_id takes a tagged project id (claude_proj_...), got {v!r}"
                )
            j = eng.projects.index.get(v)
            if j is not None:
                projects[j] = True
    scope = Scope(users=members, groups=groups, group_by=group_by)

    def build() -> Table:
        t = eng.users_query(win.days, scope, projects)
        primary = (
            _masked_rank(eng.group_rank, t.cols["grp"])
            if grouped
            else _masked_rank(eng.email_rank, t.cols["user"])
        )
        return _sort(t, by, desc, primary, ())

    table = eng.cached(("users", q.canonical(), win.start, win.end), build)
    start, end, nxt = _page(ctx, "users", table.n, limit, win)
    sel = np.arange(start, end)
    vals = _values(table, sel, [c for c in _USER_COLUMNS if not c.startswith("$")])
    uidx, gidx, days = (table.cols[k][sel].tolist() for k in ("user", "grp", "day"))
    vals["$user"] = [eng.user_objects[u] if u >= 0 else None for u in uidx]
    vals["$last_activity_date"] = [date.fromordinal(d).isoformat() for d in days]
    vals["$rbac_group_id"] = [eng.group_ids[g] if g >= 0 else None for g in gidx]
    vals["$rbac_group_name"] = [eng.group_names[g] if g >= 0 else None for g in gidx]
    if not grouped:
        vals["distinct_user_count"] = [None] * len(sel)
    data = [_user_record(r) for r in zip(*(vals[c] for c in _USER_COLUMNS), strict=True)]
    return {"data": data, "next_page": nxt}


# -- B3-B7 entity endpoints -------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntitySpec:
    kind: str
    sort_columns: tuple[str, ...]
    filters: tuple[str, ...]
    group_by: tuple[str, ...]
    products: tuple[str, ...]
    metrics: tuple[str, ...]
    entity_filter: Callable[[EngagementData, dict[str, list[str]]], np.ndarray | None]
    render: Callable[[EngagementData, Ctx, dict[str, list], int, int], dict]
    ranged: bool = True


def _office_paths(field: str) -> tuple[str, ...]:
    return tuple(f"office_metrics.{app}.{field}" for app in OFFICE_APPS)


def _office_block(vals: dict[str, list], field: str, i: int) -> dict:
    return {app: {field: vals[f"office_metrics.{app}.{field}"][i]} for app in OFFICE_APPS}


def _project_filter(eng: EngagementData, f: dict[str, list[str]]) -> np.ndarray | None:
    if "project_id" not in f:
        return None
    mask = np.zeros(len(eng.projects), dtype=bool)
    for v in f["project_id"]:
        if not v.startswith("claude_proj_"):
            raise bad_request(f"filter[]: project_id takes a tagged project id (claude_proj_...), got {v!r}")
        j = eng.projects.index.get(v)
        if j is not None:
            mask[j] = True
    return mask


def _render_project(eng: EngagementData, ctx: Ctx, vals: dict[str, list], e: int, i: int) -> dict:
    pj = eng.projects
    attributed = bool(pj.extra["attributed"][e])
    creator = eng.org.users[int(pj.extra["creator"][e])]
    today = ctx.now.date()
    exists = creator.removed is None or creator.removed > today
    return {
        "project_id": pj.names[e],
        "project_name": pj.extra["name"][e],
        "created_at": pj.extra["created_at"][e] if attributed else None,
        "created_by": {"id": creator.id, "email_address": creator.email, "type": "user"}
        if attributed and exists
        else None,
        "distinct_user_count": vals["distinct_user_count"][i],
        "message_count": vals["message_count"][i],
        "distinct_conversation_count": vals["distinct_conversation_count"][i],
    }


def _name_filter(kind: str, dim: str) -> Callable[[EngagementData, dict[str, list[str]]], np.ndarray | None]:
    def build(eng: EngagementData, f: dict[str, list[str]]) -> np.ndarray | None:
        if dim not in f:
            return None
        wanted = {v.lower() for v in f[dim]}
        return np.array([n.lower() in wanted for n in eng.catalogue(kind).names], dtype=bool)

    return build


def _skill_filter(eng: EngagementData, f: dict[str, list[str]]) -> np.ndarray | None:
    mask = _name_filter("skills", "skill_name")(eng, f)
    if "share_status" in f:
        for v in f["share_status"]:
            if v not in ("organization", "private", "public"):
                raise bad_request(f"filter[]: share_status {v!r} is not one of organization, private, public")
        share = np.array([s in f["share_status"] for s in eng.skills.extra["share"]], dtype=bool)
        mask = share if mask is None else mask & share
    return mask


def _render_skill(eng: EngagementData, ctx: Ctx, vals: dict[str, list], e: int, i: int) -> dict:
    sk = eng.skills
    over, listed = vals["estimated_overage_spend"][i], vals["attributed_list_price"][i]
    return {
        "skill_name": sk.names[e],
        "skill_display_name": sk.extra["display"][e],
        "share_status": sk.extra["share"][e],
        "distinct_user_count": vals["distinct_user_count"][i],
        "invocation_count": vals["invocation_count"][i],
        "enable_count": vals["enable_count"][i],
        "chat_metrics": {
            "distinct_conversation_skill_used_count": vals[
                "chat_metrics.distinct_conversation_skill_used_count"
            ][i]
        },
        "claude_code_metrics": {
            "distinct_session_skill_used_count": vals[
                "claude_code_metrics.distinct_session_skill_used_count"
            ][i]
        },
        "cowork_metrics": {
            "distinct_session_skill_used_count": vals["cowork_metrics.distinct_session_skill_used_count"][i]
        },
        "office_metrics": _office_block(vals, "distinct_session_skill_used_count", i),
        "estimated_overage_spend": None if over is None else money(over),
        "attributed_list_price": None if listed is None else money(listed),
        "currency": "USD" if over is not None or listed is not None else None,
    }


def _connector_filter(eng: EngagementData, f: dict[str, list[str]]) -> np.ndarray | None:
    if "connector_name" not in f:
        return None
    cn = eng.connectors
    wanted = {v.strip().lower() for v in f["connector_name"]}
    normalized = {normalize_connector(v) for v in f["connector_name"]}
    mask = []
    for name, display, aliases in zip(cn.names, cn.extra["display"], cn.extra["aliases"], strict=True):
        names = {name.lower(), *(a.lower() for a in aliases), *([display.lower()] if display else [])}
        mask.append(bool(names & wanted) or name in normalized)
    return np.array(mask, dtype=bool)


def _render_connector(eng: EngagementData, ctx: Ctx, vals: dict[str, list], e: int, i: int) -> dict:
    cn = eng.connectors
    return {
        "connector_name": cn.names[e],
        "connector_display_name": cn.extra["display"][e],
        "distinct_user_count": vals["distinct_user_count"][i],
        "chat_metrics": {
            "distinct_conversation_connector_used_count": vals[
                "chat_metrics.distinct_conversation_connector_used_count"
            ][i]
        },
        "claude_code_metrics": {
            "distinct_session_connector_used_count": vals[
                "claude_code_metrics.distinct_session_connector_used_count"
            ][i]
        },
        "cowork_metrics": {
            "distinct_session_connector_used_count": vals[
                "cowork_metrics.distinct_session_connector_used_count"
            ][i]
        },
        "office_metrics": _office_block(vals, "distinct_session_connector_used_count", i),
        **{
            k: vals[k][i]
            for k in (
                "read_call_count",
                "write_call_count",
                "unclassified_call_count",
                "managed_auth_distinct_user_count",
                "individual_auth_distinct_user_count",
            )
        },
    }


def _render_plugin(eng: EngagementData, ctx: Ctx, vals: dict[str, list], e: int, i: int) -> dict:
    pl = eng.plugins
    return {
        "plugin_name": pl.names[e],
        "plugin_id": pl.extra["plugin_id"][e],
        "distinct_user_count": vals["distinct_user_count"][i],
        "invocation_count": vals["invocation_count"][i],
        "install_count": vals["install_count"][i],
        "claude_code_metrics": {
            "distinct_session_plugin_used_count": vals[
                "claude_code_metrics.distinct_session_plugin_used_count"
            ][i]
        },
        "cowork_metrics": {
            "distinct_session_plugin_used_count": vals["cowork_metrics.distinct_session_plugin_used_count"][i]
        },
    }


def _artifact_filter(eng: EngagementData, f: dict[str, list[str]]) -> np.ndarray | None:
    mask = None
    if "artifact_type" in f:
        wanted = {v.lower() for v in f["artifact_type"]}
        mask = np.array([t in wanted for t, _ in eng.artifact_cells], dtype=bool)
    if "is_shared" in f:
        flags = set()
        for v in f["is_shared"]:
            if v.lower() not in ("true", "false"):
                raise bad_request(f"filter[]: is_shared takes true or false, got {v!r}")
            flags.add(v.lower() == "true")
        shared = np.array([s in flags for _, s in eng.artifact_cells], dtype=bool)
        mask = shared if mask is None else mask & shared
    return mask


def _render_artifact(eng: EngagementData, ctx: Ctx, vals: dict[str, list], e: int, i: int) -> dict:
    t, shared = eng.artifact_cells[e]
    return {
        "artifact_type": t,
        "is_shared": shared,
        "artifacts_created_count": vals["artifacts_created_count"][i],
        "published_artifacts_created_count": vals["published_artifacts_created_count"][i],
        "distinct_user_count": vals["distinct_user_count"][i],
    }


_SKILL_PRODUCTS = ("chat", "claude_code", "cowork", "office_agent")
SPECS = {
    "projects": EntitySpec(
        "projects",
        ("project_id",),
        ("project_id", "rbac_group_id", "user_id"),
        ("rbac_group_id", "user_id"),
        (),
        ("distinct_user_count", "message_count", "distinct_conversation_count"),
        _project_filter,
        _render_project,
    ),
    "skills": EntitySpec(
        "skills",
        ("skill_name",),
        ("product", "rbac_group_id", "share_status", "skill_name", "user_id"),
        ("product", "rbac_group_id", "user_id"),
        _SKILL_PRODUCTS,
        (
            "distinct_user_count",
            "invocation_count",
            "enable_count",
            "chat_metrics.distinct_conversation_skill_used_count",
            "claude_code_metrics.distinct_session_skill_used_count",
            "cowork_metrics.distinct_session_skill_used_count",
            *_office_paths("distinct_session_skill_used_count"),
            "estimated_overage_spend",
            "attributed_list_price",
        ),
        _skill_filter,
        _render_skill,
    ),
    "connectors": EntitySpec(
        "connectors",
        ("connector_name",),
        ("connector_name", "product", "rbac_group_id", "user_id"),
        ("product", "rbac_group_id", "user_id"),
        _SKILL_PRODUCTS,
        (
            "distinct_user_count",
            "chat_metrics.distinct_conversation_connector_used_count",
            "claude_code_metrics.distinct_session_connector_used_count",
            "cowork_metrics.distinct_session_connector_used_count",
            *_office_paths("distinct_session_connector_used_count"),
            "read_call_count",
            "write_call_count",
            "unclassified_call_count",
            "managed_auth_distinct_user_count",
            "individual_auth_distinct_user_count",
        ),
        _connector_filter,
        _render_connector,
    ),
    "artifacts": EntitySpec(
        "artifacts",
        ("artifact_type",),
        ("artifact_type", "is_shared", "product", "rbac_group_id", "user_id"),
        ("product", "rbac_group_id", "user_id"),
        ("chat", "claude_code", "cowork"),
        ("artifacts_created_count", "published_artifacts_created_count", "distinct_user_count"),
        _artifact_filter,
        _render_artifact,
        ranged=False,
    ),
    "plugins": EntitySpec(
        "plugins",
        ("plugin_name",),
        ("plugin_name", "product", "rbac_group_id", "user_id"),
        ("product", "rbac_group_id", "user_id"),
        ("claude_code", "cowork"),
        (
            "distinct_user_count",
            "invocation_count",
            "install_count",
            "claude_code_metrics.distinct_session_plugin_used_count",
            "cowork_metrics.distinct_session_plugin_used_count",
        ),
        _name_filter("plugins", "plugin_name"),
        _render_plugin,
    ),
}


def _entity_handler(spec: EntitySpec) -> Callable[[Ctx], dict]:
    def handler(ctx: Ctx) -> dict:
        q = ctx.query
        eng = engagement(ctx.sim, ctx.org)
        if not spec.ranged:
            for name in ("order", "order_by"):
                if q.one(name) is not None:
                    raise bad_request(
                        f"{name}: not supported on this endpoint (the artifact cube has a fixed order)"
                    )
        win = _window(ctx, ranged=spec.ranged)
        limit = q.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        f = _filters(ctx, spec.filters)
        group_by = _group_by(ctx, spec.group_by)
        by, desc = _order(ctx, spec.sort_columns, spec.metrics) if spec.ranged else (None, False)
        members, groups = _user_scope(eng, f)
        products = _product_filter(f.get("product"), spec.products) if spec.products else None
        scope = Scope(
            users=members,
            groups=groups,
            entities=spec.entity_filter(eng, f),
            products=products,
            group_by=group_by,
            has_user_scope="user_id" in f or "rbac_group_id" in f,
        )

        def build() -> Table:
            t = eng.entity_query(spec.kind, win.days, scope, start=win.start)
            ties = (
                t.cols["prod"],
                _masked_rank(eng.user_id_rank, t.cols["user"]),
                _masked_rank(eng.group_rank, t.cols["grp"]),
            )
            return _sort(t, by, desc, t.cols["ent"], ties)

        table = eng.cached((spec.kind, q.canonical(), win.start, win.end), build)
        if spec.kind == "artifacts" and not group_by:
            if q.one("page"):
                raise bad_request(
                    "page: only valid with group_by[]; the ungrouped artifact cube is never paginated"
                )
            start, end, nxt = 0, table.n, None
        else:
            start, end, nxt = _page(ctx, spec.kind, table.n, limit, win)
        sel = np.arange(start, end)
        vals = _values(table, sel, ("distinct_user_count", *spec.metrics))
        ent, prod, user, grp = (table.cols[k][sel].tolist() for k in ("ent", "prod", "user", "grp"))
        data = []
        for i in range(len(sel)):
            rec = spec.render(eng, ctx, vals, ent[i], i)
            _group_fields(eng, rec, prod[i], user[i], grp[i], product=spec.kind != "projects")
            data.append(rec)
        return {"data": data, "next_page": nxt}

    handler.__name__ = spec.kind
    return handler


ENDPOINTS: list[Endpoint] = [
    Endpoint(f"{BASE}/summaries", summaries, keys=("analytics",)),
    Endpoint(f"{BASE}/users", users, keys=("analytics",)),
    Endpoint(f"{BASE}/apps/chat/projects", _entity_handler(SPECS["projects"]), keys=("analytics",)),
    Endpoint(f"{BASE}/skills", _entity_handler(SPECS["skills"]), keys=("analytics",)),
    Endpoint(f"{BASE}/connectors", _entity_handler(SPECS["connectors"]), keys=("analytics",)),
    Endpoint(f"{BASE}/artifacts", _entity_handler(SPECS["artifacts"]), keys=("analytics",)),
    Endpoint(f"{BASE}/plugins", _entity_handler(SPECS["plugins"]), keys=("analytics",)),
]

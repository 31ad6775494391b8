"""Parameters of the engagement routes: date windows, cursors, filter[], group_by[], order and user scopes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np

from simulator import cursors
from simulator.clock import iso, parse_instant
from simulator.errors import bad_request
from simulator.freshness import latest_engagement_day
from simulator.generators.engagement.arrays import Table
from simulator.generators.engagement.generator import EngagementData, day_range
from simulator.generators.engagement.vocab import PRODUCT_CODE
from simulator.routes.context import Ctx
from simulator.world.profiles import ENTERPRISE_DATA_FLOOR

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


def latest_day(ctx: Ctx) -> date:
    return latest_engagement_day(ctx.data_now, ctx.sim.engagement_lag_days)


def not_yet(name: str, d: date, latest: date) -> Exception:
    return bad_request(
        f"{name}: data for {d.isoformat()} is not available yet; the most recent available day is "
        f"{latest.isoformat()}"
    )


def check_floor(name: str, d: date) -> None:
    if d < ENTERPRISE_DATA_FLOOR:
        raise bad_request(
            f"{name}: no data is available before {ENTERPRISE_DATA_FLOOR.isoformat()}; got {d.isoformat()}"
        )


def _tag_part(page: str | None, name: str) -> str | None:
    """One ``name=value`` part of the ``|``-separated tag a cursor carries (None when absent)."""
    tag = cursors.refresh_tag(page) if page else None
    for part in (tag or "").split("|"):
        key, sep, value = part.partition("=")
        if sep and key == name:
            return value
    return None


def peek_end(page: str | None) -> date | None:
    """The ending_date a cursor was issued under when the request left ending_date to its default."""
    try:
        return date.fromisoformat(_tag_part(page, "end") or "")
    except ValueError:
        return None


def peek_as_of(page: str | None) -> datetime | None:
    """The instant whose values (engagement revisions) a pagination shows: that of its first page."""
    try:
        return parse_instant(_tag_part(page, "asof") or "")
    except ValueError:
        return None


def with_as_of(win: Window, as_of: datetime) -> Window:
    """``win`` whose cursors also carry the instant of the values served (so later pages show the same)."""
    return replace(win, end_tag="|".join(t for t in (win.end_tag, f"asof={iso(as_of)}") if t))


def parse_range(ctx: Ctx, start: date, latest: date) -> Window:
    """The [starting_date, ending_date) window; ending_date defaults to the most recent available day + 1."""
    q = ctx.query
    check_floor("starting_date", start)
    if start > latest:
        raise not_yet("starting_date", start, latest)
    end = q.day("ending_date")
    tag = None
    if end is None:
        end = peek_end(q.one("page")) or latest + timedelta(days=1)
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


def parse_window(ctx: Ctx, *, ranged: bool = True) -> Window:
    """``date`` (single day) or ``starting_date``/``ending_date`` (rollup), never both."""
    q = ctx.query
    latest = latest_day(ctx)
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
        check_floor("date", d)
        if d > latest:
            raise not_yet("date", d, latest)
        return Window(d, d + timedelta(days=1), True)
    if not has_start:
        raise bad_request("One of date (a single day) or starting_date (a date range) is required")
    return parse_range(ctx, q.day("starting_date"), latest)


def page_window(ctx: Ctx, kind: str, total: int, limit: int, win: Window) -> tuple[int, int, str | None]:
    """[start, end) of the sorted rows and the next cursor.

    Like ``paging.offset_window``, but the cursor is also bound to the endpoint (a /users cursor is
    not accepted by /skills with the same parameters) and, when ending_date was left to its default,
    carries the ending_date resolved on the first page.
    """
    return cursors.window(f"{kind}?{ctx.query.canonical()}", ctx.query.one("page"), total, limit, win.end_tag)


# -- filter[], group_by[], order ------------------------------------------------------------------------
def parse_filters(ctx: Ctx, allowed: Sequence[str]) -> dict[str, list[str]]:
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


def parse_group_by(ctx: Ctx, allowed: Sequence[str]) -> tuple[str, ...]:
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


def parse_order(ctx: Ctx, sort_columns: Sequence[str], metrics: Sequence[str]) -> tuple[str | None, bool]:
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


def sort_rows(t: Table, by: str | None, desc: bool, primary: np.ndarray, ties: Sequence[np.ndarray]) -> Table:
    keys = [*reversed(ties)]
    if by is None:
        keys.append(-primary if desc else primary)
    else:
        values = t.cols.get(by)
        nulls = t.null(by) if values is not None else np.ones(t.n, dtype=bool)
        values = np.zeros(t.n, dtype=np.int64) if values is None else values
        keys += [primary, np.where(nulls, 0, -values if desc else values), nulls]
    return t.take(np.lexsort(keys)) if t.n else t


def product_filter(values: list[str] | None, allowed: Sequence[str]) -> tuple[int, ...] | None:
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


def user_scope(eng: EngagementData, f: dict[str, list[str]]) -> tuple[np.ndarray | None, np.ndarray | None]:
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

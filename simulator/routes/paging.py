"""The three pagination styles of the reference (section 0.5), shared by every route."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from simulator import cursors
from simulator.errors import bad_request
from simulator.routes.context import Ctx


def id_page(
    ctx: Ctx,
    items: Sequence[Any],
    id_of: Callable[[Any], str],
    render: Callable[[Any], dict],
    *,
    default_limit: int = 20,
    max_limit: int = 1000,
) -> dict:
    """ID-cursor page (``SyncPage``): ``data, has_more, first_id, last_id``; ``after_id``/``before_id``."""
    q = ctx.query
    limit = q.integer("limit", default_limit, 1, max_limit)
    after, before = q.one("after_id"), q.one("before_id")
    if after and before:
        raise bad_request("after_id and before_id cannot be used together")
    ids = [id_of(i) for i in items]
    if after:
        if after not in ids:
            raise bad_request(f"after_id: {after!r} is not an id in this list")
        start = ids.index(after) + 1
        chunk = items[start : start + limit]
        has_more = start + limit < len(items)
    elif before:
        if before not in ids:
            raise bad_request(f"before_id: {before!r} is not an id in this list")
        end = ids.index(before)
        chunk = items[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        chunk = items[:limit]
        has_more = limit < len(items)
    data = [render(i) for i in chunk]
    return {
        "data": data,
        "has_more": has_more,
        "first_id": id_of(chunk[0]) if chunk else None,
        "last_id": id_of(chunk[-1]) if chunk else None,
    }


def offset_window(
    ctx: Ctx, total: int, limit: int, *, refresh: str | None = None
) -> tuple[int, int, str | None]:
    """Decode ``page`` into [start, end) of a result list and make the next cursor (None at the end).

    The cursor is bound to the endpoint and every parameter but ``page`` and ``limit`` (400 when they change) and,
    when ``refresh`` is given, to the data refresh it was issued under (410 once data moves on).
    """
    canonical = f"{ctx.endpoint}{ctx.path}?{ctx.query.canonical()}"
    return cursors.window(canonical, ctx.query.one("page"), total, limit, refresh)

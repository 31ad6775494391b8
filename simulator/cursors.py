"""Opaque page cursors bound to the query that produced them."""

from __future__ import annotations

import base64
import hashlib
import json

from simulator.errors import ApiError, bad_request


def _bind(canonical_query: str) -> str:
    return hashlib.sha256(canonical_query.encode()).hexdigest()[:16]


def encode(offset: int, canonical_query: str, refresh: str | None = None) -> str:
    state = {"o": offset, "q": _bind(canonical_query)}
    if refresh is not None:
        state["r"] = refresh
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return "page_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _state(cursor: str):
    body = cursor.removeprefix("page_")
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def refresh_tag(cursor: str) -> str | None:
    """The refresh tag a cursor carries, unchecked (None when it has none or cannot be read)."""
    try:
        tag = _state(cursor).get("r")
    except (ValueError, TypeError, AttributeError):
        return None
    return tag if isinstance(tag, str) else None


def window(
    canonical_query: str, page: str | None, total: int, limit: int, refresh: str | None = None
) -> tuple[int, int, str | None]:
    """[start, end) of a result list of ``total`` rows for the ``page`` cursor, and the next cursor (None at the end)."""
    start = decode(page, canonical_query, refresh) if page else 0
    end = min(total, start + limit)
    return start, end, (encode(end, canonical_query, refresh) if end < total else None)


def decode(cursor: str, canonical_query: str, refresh: str | None = None) -> int:
    """The offset a cursor points at; 400 if it belongs to another query, 410 if the data moved on."""
    try:
        state = _state(cursor)
        offset = int(state["o"])
        bound = str(state["q"])
    except (ValueError, KeyError, TypeError):
        raise bad_request(
            "page: invalid cursor; pass the next_page value of the previous response unchanged"
        ) from None
    if bound != _bind(canonical_query):
        raise bad_request(
            "page: this cursor was issued for a different query; parameters other than page and limit "
            "must not change while paginating"
        )
    if refresh is not None and state.get("r") != refresh:
        raise ApiError(
            410,
            "page: the cursor expired because the report data was refreshed; restart pagination "
            "from the first page",
        )
    if offset < 0:
        raise bad_request("page: invalid cursor")
    return offset

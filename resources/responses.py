"""Reading the API's responses: the JSON body, the shape of a page, the error envelope, the server's clock
and how long a 429 or 529 asks to wait."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime

import httpx


def parse_body(content: bytes) -> tuple[dict, str | None]:
    try:
        body = json.loads(content, parse_float=Decimal)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return {}, "not JSON"
    if not isinstance(body, dict):
        return {}, "not a JSON object"
    return body, None


def cursor_page_problem(body: dict) -> str | None:
    if not isinstance(body.get("data"), list):
        return "no data list"
    nxt, more = body.get("next_page"), body.get("has_more")
    if nxt is not None and not isinstance(nxt, str):
        return "next_page is not a string"
    if more is not None and not isinstance(more, bool):
        return "has_more is not a boolean"
    if more is True and not nxt:
        return "has_more is true but next_page is empty"
    return None


def id_page_problem(body: dict) -> str | None:
    if not isinstance(body.get("data"), list):
        return "no data list"
    if body.get("has_more") and not isinstance(body.get("last_id"), str):
        return "has_more is true but last_id is empty"
    return None


def server_error(resp: httpx.Response) -> tuple[str, str | None]:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200], None
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return str(body)[:200], None
    return str(err.get("message", "")), err.get("type")


def http_date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def server_time(resp: httpx.Response) -> datetime | None:
    return http_date(resp.headers.get("date"))


def retry_after_seconds(resp: httpx.Response) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date); None if absent."""
    raw = resp.headers.get("retry-after-ms")
    if raw:
        try:
            return max(0.0, float(raw) / 1000)
        except ValueError:
            pass
    raw = resp.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    when = http_date(raw)
    if when is None:
        return None
    reference = server_time(resp) or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())

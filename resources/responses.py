"""Reading the API's responses: the JSON body, the shape of a page, the error envelope, the server's clock
and how long a 429 or 529 asks to wait."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ServerError:
    """What an error response says: ``error.message``, ``error.type``, ``error.details.error_code`` and the
    request id (the ``request-id`` header, else the body's ``request_id``)."""

    message: str
    type: str | None = None
    code: str | None = None
    request_id: str | None = None


def server_error(resp: httpx.Response) -> ServerError:
    header_id = resp.headers.get("request-id") or None
    try:
        body = resp.json()
    except ValueError:
        return ServerError(resp.text[:200], request_id=header_id)
    if not isinstance(body, dict):
        return ServerError(str(body)[:200], request_id=header_id)
    body_id = body.get("request_id")
    request_id = header_id or (body_id if isinstance(body_id, str) and body_id else None)
    err = body.get("error")
    if not isinstance(err, dict):
        return ServerError(str(body)[:200], request_id=request_id)
    details = err.get("details")
    code = details.get("error_code") if isinstance(details, dict) else None
    etype = err.get("type")
    return ServerError(
        str(err.get("message", "")),
        etype if isinstance(etype, str) else None,
        code if isinstance(code, str) and code else None,
        request_id,
    )


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


def _seconds(raw: str, scale: float) -> float | None:
    """A number of seconds from a header; ``inf`` stays infinite (the caller's cap refuses it), NaN is
    no answer, a negative number is zero."""
    try:
        value = float(raw) / scale
    except ValueError:
        return None
    if math.isnan(value):
        return None
    return max(0.0, value)


def retry_after_seconds(resp: httpx.Response) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date); None if absent or
    unreadable. May be ``inf`` or huge: the client caps it."""
    raw = resp.headers.get("retry-after-ms")
    if raw:
        value = _seconds(raw, 1000)
        if value is not None:
            return value
    raw = resp.headers.get("retry-after")
    if raw is None:
        return None
    value = _seconds(raw, 1)
    if value is not None:
        return value
    when = http_date(raw)
    if when is None:
        return None
    reference = server_time(resp) or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())

"""The one HTTP core both API resources share: GET only, retries, rate limit, pagination, accounting."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from resources.errors import (
    AnthropicApiError,
    AuthenticationFailed,
    InvalidRequest,
    PermissionDenied,
    RetriesExhausted,
    auth_message,
)
from resources.ratelimit import RateLimiter
from resources.secrets import Secret

ANTHROPIC_VERSION = "2023-06-01"
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504, 529}
MAX_RESTARTS = 5
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class CallStats:
    """What a call cost: every figure is reported to the caller (and into Dagster metadata)."""

    requests: int = 0  # HTTP requests sent, retries included
    pages: int = 0  # pages received and parsed
    retries: int = 0
    restarts: int = 0  # paginations restarted after an expired cursor (410)
    bytes: int = 0
    wait_seconds: float = 0.0  # time spent in the rate limiter and in backoff

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.server_time: datetime | None = None  # the API's own clock (Date header) at the latest response

    def add(self, **deltas: float) -> None:
        with self._lock:
            for name, value in deltas.items():
                setattr(self, name, getattr(self, name) + value)

    def merge(self, other: CallStats) -> None:
        self.add(**{k: v for k, v in other.as_dict().items()})

    def as_dict(self) -> dict:
        d = asdict(self)
        d["wait_seconds"] = round(d["wait_seconds"], 3)
        return d


class CursorExpired(AnthropicApiError):
    """410: the data was refreshed under the cursor; pagination must restart."""


class ApiClient:
    """GET-only client of one organization's API. It has no method that could send anything else."""

    def __init__(self, *, organization: str, base_url: str, key: Secret, key_env: str, key_kind: str,
                 limiter: RateLimiter, max_concurrency: int = 4, timeout: float = 30.0, max_retries: int = 8,
                 backoff_base: float = 0.5, backoff_max: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.organization = organization
        self.key_env = key_env
        self.key_kind = key_kind
        self.limiter = limiter
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._key = key
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
            headers={"anthropic-version": ANTHROPIC_VERSION, "user-agent": "claude-assets"})
        self._jitter = random.Random(organization)

    def __repr__(self) -> str:
        return f"ApiClient({self.organization!r}, {self._http.base_url}, key={self._key.masked})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one request ---------------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | None = None, *, stats: CallStats,
            headers: dict[str, str] | None = None) -> dict:
        """GET one page, retrying 429/5xx/529/timeouts/malformed bodies with backoff and ``retry-after``."""
        request_headers = {"x-api-key": self._key.reveal(), **(headers or {})}
        attempt = 0
        while True:
            stats.add(wait_seconds=self.limiter.acquire(), requests=1)
            retry_after: float | None = None
            try:
                resp = self._http.get(path, params=params, headers=request_headers)
            except httpx.TimeoutException:
                reason = "timed out"
            except httpx.TransportError as exc:
                reason = f"transport error ({type(exc).__name__})"
            else:
                stats.add(bytes=len(resp.content))
                stats.server_time = _server_time(resp) or stats.server_time
                if resp.status_code == 200:
                    try:
                        body = json.loads(resp.content, parse_float=Decimal)
                        if not isinstance(body, dict):
                            raise ValueError("not a JSON object")
                    except ValueError:
                        reason = "returned a malformed body"
                    else:
                        stats.add(pages=1)
                        return body
                elif resp.status_code in RETRYABLE_STATUS:
                    reason = f"returned {resp.status_code}"
                    retry_after = _retry_after(resp)
                    if resp.status_code == 429 and retry_after:
                        self.limiter.penalize(retry_after)
                else:
                    raise self._error(path, resp)
            if attempt >= self.max_retries:
                raise RetriesExhausted(
                    f"GET {path} for organization {self.organization!r} {reason} on all {attempt + 1} attempts; "
                    "the API may be down or overloaded: retry the run later.", path=path)
            pause = min(self.backoff_max, self.backoff_base * 2 ** attempt) * (0.5 + self._jitter.random() / 2)
            if retry_after is not None:
                pause = max(pause, retry_after)
            time.sleep(pause)
            attempt += 1
            stats.add(retries=1, wait_seconds=pause)

    def _error(self, path: str, resp: httpx.Response) -> AnthropicApiError:
        try:
            err = resp.json().get("error", {})
            message, etype = str(err.get("message", "")), err.get("type")
        except ValueError:
            message, etype = resp.text[:200], None
        message = message.replace(self._key.reveal(), self._key.masked)
        request_id = resp.headers.get("request-id")
        kw = {"status": resp.status_code, "error_type": etype, "request_id": request_id, "path": path}
        if resp.status_code in (401, 403):
            cls = AuthenticationFailed if resp.status_code == 401 else PermissionDenied
            return cls(auth_message(resp.status_code, self.key_env, self.key_kind, message, path), **kw)
        if resp.status_code == 410:
            return CursorExpired(f"GET {path}: cursor expired ({message})", **kw)
        return InvalidRequest(f"GET {path} for organization {self.organization!r} was rejected with "
                              f"{resp.status_code} {etype}: {message} (request-id {request_id})", **kw)

    # -- pagination -------------------------------------------------------------------------------
    def pages(self, path: str, params: dict[str, Any], *, stats: CallStats,
              headers: dict[str, str] | None = None) -> list[dict]:
        """Every page of a ``page``/``next_page`` pagination (report and opaque-cursor styles).

        Pages are collected for one query (one window) and returned together: when the cursor
        expires (410), the whole window restarts from its first page, so no row is kept twice.
        """
        for _ in range(MAX_RESTARTS + 1):
            out: list[dict] = []
            cursor: str | None = None
            try:
                while True:
                    body = self.get(path, {**params, **({"page": cursor} if cursor else {})}, stats=stats,
                                    headers=headers)
                    out.append(body)
                    cursor = body.get("next_page")
                    if not cursor or body.get("has_more") is False:
                        return out
            except CursorExpired:
                stats.add(restarts=1)
        raise RetriesExhausted(f"GET {path}: the cursor expired {MAX_RESTARTS + 1} times in a row; "
                               "the report is being refreshed: retry the run later.", path=path)

    def list_all(self, path: str, params: dict[str, Any] | None = None, *, stats: CallStats) -> list[dict]:
        """Every item of an ID-cursor list (``after_id`` = ``last_id`` until ``has_more`` is false)."""
        items: list[dict] = []
        after: str | None = None
        while True:
            body = self.get(path, {**(params or {}), "limit": 1000, **({"after_id": after} if after else {})},
                            stats=stats)
            items.extend(body.get("data", []))
            if not body.get("has_more") or not body.get("last_id"):
                return items
            after = body["last_id"]

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Run ``fn`` over items with bounded concurrency (the shared limiter still governs the rate)."""
        items = list(items)
        if self.max_concurrency <= 1 or len(items) <= 1:
            yield from map(fn, items)
            return
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix=f"api-{self.organization}") as pool:
            yield from pool.map(fn, items)


def _server_time(resp: httpx.Response) -> datetime | None:
    try:
        return parsedate_to_datetime(resp.headers["date"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return None


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("retry-after-ms")
    if raw:
        try:
            return float(raw) / 1000
        except ValueError:
            pass
    raw = resp.headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None

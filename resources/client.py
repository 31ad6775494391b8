"""The one HTTP core both API resources share: GET only, retries, rate limit, pagination, accounting."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx

from resources.errors import (
    AnthropicApiError,
    AuthenticationFailed,
    ConfigurationError,
    CursorExpired,
    InvalidRequest,
    PermissionDenied,
    RetriesExhausted,
    auth_message,
)
from resources.ratelimit import RateLimiter
from resources.responses import (
    cursor_page_problem,
    id_page_problem,
    parse_body,
    retry_after_seconds,
    server_error,
    server_time,
)
from resources.secrets import Secret

__all__ = ["ANTHROPIC_VERSION", "ApiClient", "CallStats", "CursorExpired"]

ANTHROPIC_VERSION = "2023-06-01"
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504, 529}
MAX_RESTARTS = 5
MAX_SERVER_MESSAGE = 500
T = TypeVar("T")
R = TypeVar("R")
Check = Callable[[dict], "str | None"]

logger = logging.getLogger(__name__)


@dataclass
class CallStats:
    """What a call cost: every figure is reported to the caller (and into Dagster metadata).

    One ``CallStats`` may be shared by several threads (``ApiClient.map``); ``add`` is atomic.
    """

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
        with other._lock:
            deltas = {
                k: getattr(other, k)
                for k in ("requests", "pages", "retries", "restarts", "bytes", "wait_seconds")
            }
        self.add(**deltas)
        if other.server_time and (self.server_time is None or other.server_time > self.server_time):
            self.server_time = other.server_time

    def as_dict(self) -> dict:
        with self._lock:
            d = asdict(self)
        d["wait_seconds"] = round(d["wait_seconds"], 3)
        return d


def _only_get(request: httpx.Request) -> None:
    """An event hook on the HTTP client: nothing but GET can ever leave the process."""
    if request.method != "GET":
        raise RuntimeError(f"the Anthropic API clients are read-only; refusing to send {request.method}")


class ApiClient:
    """GET-only client of one organization's API. It has no method that could send anything else.

    ``max_concurrency`` bounds the requests in flight (across every thread using this client);
    ``limiter`` (shared by every client of the organization) bounds their rate.
    """

    def __init__(
        self,
        *,
        organization: str,
        base_url: str,
        key: Secret,
        key_env: str,
        key_kind: str,
        limiter: RateLimiter,
        max_concurrency: int = 4,
        timeout: float = 30.0,
        max_retries: int = 8,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_restarts: int = MAX_RESTARTS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not isinstance(key, Secret):
            raise TypeError("key must be a resources.secrets.Secret")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self.organization = organization
        self.base_url = base_url.rstrip("/")
        self.key_env = key_env
        self.key_kind = key_kind
        self.limiter = limiter
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.max_restarts = max_restarts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._key = key
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
            headers={"anthropic-version": ANTHROPIC_VERSION, "user-agent": "claude-assets"},
            event_hooks={"request": [_only_get]},
        )
        self._jitter = random.Random(organization)

    def __repr__(self) -> str:
        return f"ApiClient({self.organization!r}, {self.base_url}, key={self._key.masked})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one request ---------------------------------------------------------------------------
    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        stats: CallStats,
        headers: dict[str, str] | None = None,
    ) -> dict:
        """GET one page, retrying 429/5xx/529/timeouts/malformed bodies with backoff and ``retry-after``."""
        return self._get(path, params, stats, headers, None)

    def _get(
        self,
        path: str,
        params: dict[str, Any] | None,
        stats: CallStats,
        headers: dict[str, str] | None,
        check: Check | None,
    ) -> dict:
        # the key goes last so no caller header can replace it (or smuggle another one in)
        request_headers = {
            **{k: v for k, v in (headers or {}).items() if k.lower() not in ("x-api-key", "authorization")},
            "x-api-key": self._key.reveal(),
        }
        attempt = 0
        while True:
            retry_after: float | None = None
            status: int | None = None
            queued = time.monotonic()
            with self._slots:
                stats.add(wait_seconds=time.monotonic() - queued)
                stats.add(wait_seconds=self.limiter.acquire(), requests=1)
                try:
                    resp = self._http.get(path, params=params, headers=request_headers)
                except httpx.TimeoutException as exc:
                    reason = f"timed out ({type(exc).__name__})"
                except httpx.UnsupportedProtocol:
                    raise ConfigurationError(
                        f"organization {self.organization!r}: the base URL {self.base_url!r} is not an http(s) URL; "
                        "fix base_url in the configuration file or ANTHROPIC_BASE_URL.",
                        path=path,
                    ) from None
                except httpx.ConnectError:
                    reason = (
                        f"could not connect to {self.base_url} (check that it is reachable, and base_url in "
                        "the configuration file or ANTHROPIC_BASE_URL)"
                    )
                except httpx.RequestError as exc:  # other transport and decoding errors
                    reason = f"failed in transport ({type(exc).__name__})"
                else:
                    status = resp.status_code
                    stats.add(bytes=len(resp.content))
                    stats.server_time = server_time(resp) or stats.server_time
                    if status == 200:
                        body, problem = parse_body(resp.content)
                        if problem is None and check is not None:
                            problem = check(body)
                        if problem is None:
                            stats.add(pages=1)
                            return body
                        reason = f"returned a malformed body ({problem})"
                    elif status in RETRYABLE_STATUS:
                        reason = f"returned {status}"
                        retry_after = retry_after_seconds(resp)
                    else:
                        raise self._error(path, resp)
            if attempt >= self.max_retries:
                raise RetriesExhausted(
                    f"GET {path} for organization {self.organization!r} {reason} on all {attempt + 1} attempts; "
                    "the API may be down or overloaded: retry the run later.",
                    status=status,
                    path=path,
                )
            pause = min(self.backoff_max, self.backoff_base * 2**attempt) * (0.5 + self._jitter.random() / 2)
            if retry_after is not None:
                pause = max(pause, retry_after)
            if status == 429:  # the organization's budget is spent: every caller backs off, not just this one
                self.limiter.penalize(pause)
            logger.info(
                "GET %s for %s %s; retry %d of %d in %.2f s",
                path,
                self.organization,
                reason,
                attempt + 1,
                self.max_retries,
                pause,
            )
            time.sleep(pause)
            attempt += 1
            stats.add(retries=1, wait_seconds=pause)

    def _error(self, path: str, resp: httpx.Response) -> AnthropicApiError:
        message, etype = server_error(resp)
        message = message.replace(self._key.reveal(), self._key.masked)[:MAX_SERVER_MESSAGE]
        request_id = resp.headers.get("request-id")
        kw = {"status": resp.status_code, "error_type": etype, "request_id": request_id, "path": path}
        if resp.status_code in (401, 403):
            cls = AuthenticationFailed if resp.status_code == 401 else PermissionDenied
            return cls(auth_message(resp.status_code, self.key_env, self.key_kind, message, path), **kw)
        if resp.status_code == 410:
            return CursorExpired(f"GET {path}: cursor expired ({message})", **kw)
        return InvalidRequest(
            f"GET {path} for organization {self.organization!r} was rejected with "
            f"{resp.status_code} {etype}: {message} (request-id {request_id})",
            **kw,
        )

    # -- pagination -------------------------------------------------------------------------------
    def pages(
        self, path: str, params: dict[str, Any], *, stats: CallStats, headers: dict[str, str] | None = None
    ) -> list[dict]:
        """Every page of one query, collected (for small results; large ones use ``iter_pages``)."""
        out: list[dict] = []
        for page in self.iter_pages(path, params, stats=stats, headers=headers, restart=out.clear):
            out.append(page)
        return out

    def iter_pages(
        self,
        path: str,
        params: dict[str, Any],
        *,
        stats: CallStats,
        restart: Callable[[], None],
        headers: dict[str, str] | None = None,
    ) -> Iterator[dict]:
        """The pages of a ``page``/``next_page`` pagination, one at a time: the report style
        (``has_more`` + ``next_page``) and the opaque-cursor style (``next_page`` only).

        Pagination ends when ``next_page`` is null (or ``has_more`` is false); a missing
        ``has_more`` never ends it. When the cursor expires (410: the data was refreshed), the
        query restarts from its first page after calling ``restart``, which must drop whatever the
        caller kept from the pages already yielded, so no row is kept twice or from two exports.
        """
        first = {k: v for k, v in params.items() if k != "page"}
        for attempt in range(self.max_restarts + 1):
            if attempt:
                restart()
            cursor: str | None = None
            seen: set[str] = set()
            try:
                while True:
                    body = self._get(
                        path,
                        {**first, "page": cursor} if cursor else first,
                        stats,
                        headers,
                        cursor_page_problem,
                    )
                    cursor = body.get("next_page")
                    done = not cursor or body.get("has_more") is False
                    yield body
                    del body  # the caller holds a page only as long as it wants it
                    if done:
                        return
                    if cursor in seen:
                        raise InvalidRequest(
                            f"GET {path} for organization {self.organization!r}: the API returned "
                            "the same next_page twice; stopping rather than looping.",
                            path=path,
                        )
                    seen.add(cursor)
            except CursorExpired:
                stats.add(restarts=1)
                logger.info(
                    "GET %s for %s: the cursor expired (data refreshed); restarting the query from its "
                    "first page",
                    path,
                    self.organization,
                )
        raise RetriesExhausted(
            f"GET {path}: the cursor expired {self.max_restarts + 1} times in a row; "
            "the report is being refreshed: retry the run later.",
            status=410,
            path=path,
        )

    def list_all(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        stats: CallStats,
        headers: dict[str, str] | None = None,
    ) -> list[dict]:
        """Every item of an ID-cursor list (``after_id`` = ``last_id`` until ``has_more`` is false).

        ``limit`` defaults to the API's maximum (1000); a caller's ``limit`` wins.
        """
        query = {"limit": 1000, **(params or {})}
        after: str | None = query.pop("after_id", None)
        items: list[dict] = []
        while True:
            body = self._get(
                path, {**query, "after_id": after} if after else query, stats, headers, id_page_problem
            )
            items.extend(body["data"])
            if not body.get("has_more"):
                return items
            if body["last_id"] == after:
                raise InvalidRequest(
                    f"GET {path} for organization {self.organization!r}: the API returned the "
                    "same last_id twice; stopping rather than looping.",
                    path=path,
                )
            after = body["last_id"]

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` over items, in order, with at most ``max_concurrency`` running at once.

        The shared limiter still governs the rate. At most ``max_concurrency`` calls run or wait
        ahead of the consumer, so memory stays bounded however many items there are; if one
        call fails (or the consumer stops), calls not yet started are cancelled.
        """
        items = list(items)
        if self.max_concurrency <= 1 or len(items) <= 1:
            yield from map(fn, items)
            return
        workers = min(self.max_concurrency, len(items))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"api-{self.organization}")
        todo = iter(items)
        pending: deque[Future] = deque(
            pool.submit(fn, item) for _, item in zip(range(workers), todo, strict=False)
        )
        try:
            while pending:
                result = pending.popleft().result()
                for item in todo:
                    pending.append(pool.submit(fn, item))
                    break
                yield result
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True)

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
    KEY_KINDS,
    NOT_ELIGIBLE,
    AnthropicApiError,
    AuthenticationFailed,
    ConfigurationError,
    CursorExpired,
    DeadlineExceeded,
    InvalidRequest,
    LimitReached,
    OrganizationMismatch,
    OrganizationNotEligible,
    PermissionDenied,
    RefusedRequest,
    RetriesExhausted,
    RetryAfterTooLong,
    auth_message,
)
from resources.identity import ME, KeyOrganization, SeenOrganizations, key_organization
from resources.ratelimit import RateLimiter
from resources.redact import redact
from resources.responses import (
    ServerError,
    cursor_page_problem,
    id_page_problem,
    parse_body,
    retry_after_seconds,
    server_error,
    server_time,
)
from resources.secrets import Secret, key_problem
from resources.urls import check_base_url, path_problem

__all__ = ["ANTHROPIC_VERSION", "ApiClient", "CallStats", "CursorExpired"]

ANTHROPIC_VERSION = "2023-06-01"
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504, 529}
MAX_RESTARTS = 5
MAX_SERVER_MESSAGE = 500
#: the longest ``retry-after`` the client honours by default; a server asking for more fails the request
MAX_RETRY_AFTER = 300.0
#: the default overall deadline of one request: connecting, reading and every retry
REQUEST_DEADLINE = 600.0
#: ``error.details.error_code`` values that say retrying will not help (the SDK's spend-limit and hold errors)
NOT_RECOVERING = {
    "enforced_spend_limit_reached": "the organization crossed the monthly usage threshold of its API tier",
    "contract_spend_limit_reached": "the organization reached the spend limit of its contract",
    "linked_organization_spend_limit_reached": "the linked organization reached a spend limit it set",
    "linked_organization_billing_unavailable": "the linked organization's billing is unavailable",
    "organization_on_hold": "the organization is on hold",
}
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


#: headers describing the encoded body, dropped once it is read and decoded
_DECODED_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


def _only_get(request: httpx.Request) -> None:
    """An event hook on the HTTP client: nothing but GET can ever leave the process."""
    if request.method != "GET":
        raise RuntimeError(f"the Anthropic API clients are read-only; refusing to send {request.method}")


class _OutOfTime(Exception):
    """The overall deadline passed while a response was still arriving."""


class ApiClient:
    """GET-only client of one organization's API. It has no method that could send anything else.

    ``max_concurrency`` bounds the requests in flight (across every thread using this client);
    ``limiter`` (shared by every client of the organization) bounds their rate. ``deadline`` bounds
    one request (connecting, reading the whole body and every retry; time spent queueing for the
    rate limiter does not count); ``max_retry_after`` is the longest ``retry-after`` honoured.
    With ``verify_organization``, the first request first asks ``/v1/organizations/me`` (once per
    key and process) and refuses a key of the wrong kind.
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
        max_retry_after: float = MAX_RETRY_AFTER,
        deadline: float = REQUEST_DEADLINE,
        verify_organization: bool = False,
        log: logging.Logger | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not isinstance(key, Secret):
            raise TypeError("key must be a resources.secrets.Secret")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        if not deadline > 0 or not max_retry_after >= 0:
            raise ValueError("deadline must be > 0 and max_retry_after >= 0")
        problem = key_problem(key.reveal())
        if problem:
            raise ConfigurationError(
                f"organization {organization!r}: the key in ${key_env} cannot be used: {problem}."
            )
        try:
            self.base_url = check_base_url(base_url)
        except ValueError as exc:
            raise ConfigurationError(
                f"organization {organization!r}: base URL {base_url!r}: {exc}. Fix base_url in the "
                "configuration file or ANTHROPIC_BASE_URL."
            ) from None
        self.organization = organization
        self.key_env = key_env
        self.key_kind = key_kind
        self.limiter = limiter
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.max_restarts = max_restarts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.timeout = timeout
        self.max_retry_after = max_retry_after
        self.deadline = deadline
        self.log = log or logger
        self.seen_organizations = SeenOrganizations()
        self._verify = verify_organization
        self._verify_lock = threading.Lock()
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

    # -- the organization the key reaches -----------------------------------------------------------
    def key_organization(self, stats: CallStats) -> KeyOrganization:
        """What ``/v1/organizations/me`` says of this key: asked at most once per key and process."""

        def ask() -> KeyOrganization:
            try:
                return KeyOrganization(self._request(ME, None, stats, None, None))
            except (PermissionDenied, AuthenticationFailed) as exc:  # the Admin API refuses other keys
                return KeyOrganization(None, exc)

        answer = key_organization(self.base_url, self._key.reveal(), ask)
        if answer.body is not None:
            self._note_organization(answer.body.get("id"), f"GET {ME}", ME)
        return answer

    def me(self, stats: CallStats) -> dict:
        """The organization of this (Admin) key, from the process-wide answer of ``/v1/organizations/me``."""
        answer = self.key_organization(stats)
        if answer.body is None:
            raise answer.refusal  # type: ignore[misc]
        return answer.body

    def _verify_key_kind(self, stats: CallStats) -> None:
        """Refuse a key of the wrong kind, on this request and every later one (the answer is cached)."""
        with self._verify_lock:
            if not self._verify:
                return
            problem = self._kind_problem(self.key_organization(stats))
            if problem is None:
                self._verify = False
        if problem is not None:
            raise problem

    def _kind_problem(self, answer: KeyOrganization) -> Exception | None:
        if self.key_kind == "admin" and not answer.is_admin_key:
            return answer.refusal  # PermissionDenied or AuthenticationFailed, naming the variable and kind
        if self.key_kind != "admin" and answer.is_admin_key:
            body = answer.body or {}
            return OrganizationMismatch(
                f"organization {self.organization!r} is configured as an Enterprise organization, but the key "
                f"in ${self.key_env} is an Admin API key: GET {ME} answered for the Console organization "
                f"{body.get('name')!r} (id {body.get('id')}). Nothing was fetched or written. Set "
                f"{self.key_env} to {KEY_KINDS[self.key_kind]}, or configure the organization with "
                "kind: console.",
                path=ME,
            )
        return None

    def _note_organization(self, api_id: object, source: str, path: str) -> None:
        conflict = self.seen_organizations.note(api_id, source)
        if conflict:
            raise OrganizationMismatch(
                f"organization {self.organization!r}: one key (${self.key_env}) reached two organizations: "
                f"{conflict}. Nothing of this request was written; check that {self.key_env} holds this "
                "organization's key and that base_url points at the Anthropic API.",
                path=path,
            )

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
        problem = path_problem(path)
        if problem:
            raise RefusedRequest(
                f"organization {self.organization!r}: refusing GET {path[:200]!r}: {problem}; a path must be "
                f"relative to the base URL {self.base_url}.",
                path=path[:200],
            )
        if self._verify:
            self._verify_key_kind(stats)
        return self._request(path, params, stats, headers, check)

    def _request(
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
        queued_total = 0.0  # time waiting for a slot or the rate limiter: not part of the deadline
        started = time.monotonic()

        def remaining() -> float:
            return self.deadline - (time.monotonic() - started - queued_total)

        while True:
            retry_after: float | None = None
            status: int | None = None
            request_id: str | None = None
            queued = time.monotonic()
            with self._slots, self.limiter.sending() as limiter_wait:
                waited = time.monotonic() - queued + limiter_wait
                queued_total += waited
                stats.add(wait_seconds=waited)
                if remaining() <= 0:
                    raise self._out_of_time(path, attempt)
                stats.add(requests=1)
                try:
                    resp = self._send(path, params, request_headers, remaining())
                except _OutOfTime:
                    raise self._out_of_time(path, attempt + 1, "; the response was still arriving") from None
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
                    self._note_organization(
                        resp.headers.get("anthropic-organization-id"),
                        "the anthropic-organization-id header",
                        path,
                    )
                    if status == 200:
                        body, problem = parse_body(resp.content)
                        if problem is None and check is not None:
                            problem = check(body)
                        if problem is None:
                            self._note_organization(
                                body.get("organization_id"), f"the body of GET {path}", path
                            )
                            stats.add(pages=1)
                            return body
                        reason = f"returned a malformed body ({problem})"
                    elif status in RETRYABLE_STATUS:
                        error = server_error(resp)
                        if error.code in NOT_RECOVERING:
                            raise self._limit_reached(path, status, error)
                        request_id = error.request_id
                        reason = f"returned {status}"
                        retry_after = retry_after_seconds(resp)
                        if retry_after is not None and retry_after > self.max_retry_after:
                            raise self._retry_after_too_long(path, status, retry_after, error)
                    else:
                        raise self._error(path, resp)
            if attempt >= self.max_retries:
                raise RetriesExhausted(
                    f"GET {path} for organization {self.organization!r} {reason} on all {attempt + 1} attempts"
                    + (f" (last request-id {request_id})" if request_id else "")
                    + "; the API may be down or overloaded: retry the run later.",
                    status=status,
                    path=path,
                    request_id=request_id,
                )
            pause = min(self.backoff_max, self.backoff_base * 2**attempt) * (0.5 + self._jitter.random() / 2)
            if retry_after is not None:
                pause = max(pause, retry_after)
            if pause >= remaining():
                raise self._out_of_time(path, attempt + 1, f"; the last attempt {reason}")
            if status == 429:  # the organization's budget is spent: every caller backs off, not just this one
                self.limiter.penalize(pause)
            self.log.info(
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

    def _send(
        self, path: str, params: dict[str, Any] | None, headers: dict[str, str], remaining: float
    ) -> httpx.Response:
        """One HTTP exchange, read in full, within ``remaining`` seconds: every network wait is bounded by
        the timeout (and by what is left), and the body is abandoned as soon as the time is up, however
        slowly the server trickles it."""
        until = time.monotonic() + remaining
        timeout = httpx.Timeout(min(self.timeout, remaining))
        with self._http.stream("GET", path, params=params, headers=headers, timeout=timeout) as resp:
            body = bytearray()
            for chunk in resp.iter_bytes():
                body += chunk
                if time.monotonic() > until:
                    raise _OutOfTime
            kept = [(k, v) for k, v in resp.headers.multi_items() if k.lower() not in _DECODED_HEADERS]
            return httpx.Response(resp.status_code, headers=kept, content=bytes(body), request=resp.request)

    def _out_of_time(self, path: str, sent: int, why: str = "") -> DeadlineExceeded:
        return DeadlineExceeded(
            f"GET {path} for organization {self.organization!r} did not finish within its deadline of "
            f"{self.deadline:g} s ({sent} attempt(s){why}); the API is too slow "
            "or unreachable: retry the run later, or raise request_deadline_seconds.",
            path=path,
        )

    def _retry_after_too_long(
        self, path: str, status: int, seconds: float, error: ServerError
    ) -> RetryAfterTooLong:
        asked = "forever" if seconds == float("inf") else f"{seconds:,.0f} s"
        return RetryAfterTooLong(
            f"GET {path} for organization {self.organization!r} returned {status} asking to wait {asked} before "
            f"retrying, more than the {self.max_retry_after:g} s this client waits at most "
            f"(max_retry_after_seconds); nothing more was sent. Server message: "
            f"{self._server_text(error.message)!r} (request-id {error.request_id}). Retry the run later.",
            status=status,
            error_type=error.type,
            request_id=error.request_id,
            path=path,
            error_code=error.code,
        )

    def _limit_reached(self, path: str, status: int, error: ServerError) -> LimitReached:
        return LimitReached(
            f"GET {path} for organization {self.organization!r} was refused with {status} {error.type} "
            f"({error.code}: {NOT_RECOVERING[error.code or '']}): {self._server_text(error.message)} "
            f"(request-id {error.request_id}). Retrying will not help until the limit is raised or reset "
            "(Claude Console > Settings > Limits, or your account team); nothing more was sent.",
            status=status,
            error_type=error.type,
            request_id=error.request_id,
            path=path,
            error_code=error.code,
        )

    def _server_text(self, message: str) -> str:
        return redact(message.replace(self._key.reveal(), self._key.masked))[:MAX_SERVER_MESSAGE]

    def _error(self, path: str, resp: httpx.Response) -> AnthropicApiError:
        error = server_error(resp)
        message = self._server_text(error.message)
        etype, request_id = error.type, error.request_id
        kw = {
            "status": resp.status_code,
            "error_type": etype,
            "request_id": request_id,
            "path": path,
            "error_code": error.code,
        }
        if resp.status_code in (401, 403):
            cls = AuthenticationFailed if resp.status_code == 401 else PermissionDenied
            detail = f"{message} [{error.code}; request-id {request_id}]" if error.code else message
            return cls(auth_message(resp.status_code, self.key_env, self.key_kind, detail, path), **kw)
        if resp.status_code == 410:
            return CursorExpired(f"GET {path}: cursor expired ({message})", **kw)
        code = f" ({error.code})" if error.code else ""
        if resp.status_code == 400 and error.code in NOT_ELIGIBLE:
            return OrganizationNotEligible(
                f"GET {path} refused organization {self.organization!r} with 400 {etype} ({error.code}: "
                f"{NOT_ELIGIBLE[error.code]}): {message} (request-id {request_id}). Retrying will not help.",
                server_message=message,
                **kw,
            )
        return InvalidRequest(
            f"GET {path} for organization {self.organization!r} was rejected with "
            f"{resp.status_code} {etype}{code}: {message} (request-id {request_id})",
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

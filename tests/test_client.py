"""The API client layer against the simulator over real loopback HTTP.

Pagination of the three styles, every injected fault (results equal to a fault-free pull), the
rate limit under concurrency, typed errors that say what to do, and keys that never leak.
"""

from __future__ import annotations

import copy
import logging
import pickle
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from claude_assets.config import OrgConfig
from resources.apis import ConsoleAdminApi, EnterpriseAnalyticsApi
from resources.client import ApiClient, CallStats, CursorExpired
from resources.errors import (
    AnthropicApiError,
    AuthenticationFailed,
    ConfigurationError,
    InvalidRequest,
    PermissionDenied,
    RetriesExhausted,
)
from resources.ratelimit import RateLimiter, limiter_for
from resources.secrets import Secret, mask
from simulator.faults import FaultPlan
from simulator.ratelimit import SlidingWindowLimiter
from simulator.serve import Running, serve_in_thread
from tests.conftest import make_sim

CONSOLE, ENTERPRISE = "acme-console", "acme-enterprise"
USERS = "/v1/organizations/users"
ME = "/v1/organizations/me"
USAGE = "/v1/organizations/usage_report/messages"
ANALYTICS_USERS = "/v1/organizations/analytics/users"
USER_USAGE = "/v1/organizations/analytics/user_usage_report"
KEY_ENV = {"admin": "ACME_ADMIN_API_KEY", "analytics": "ACME_ANALYTICS_API_KEY"}
USAGE_PARAMS = {
    "starting_at": "2026-10-01T00:00:00Z",
    "ending_at": "2026-10-22T00:00:00Z",
    "bucket_width": "1d",
    "limit": 7,
    "group_by[]": ["model", "workspace_id"],
}
USER_USAGE_PARAMS = {"starting_at": "2026-11-01T00:00:00Z", "ending_at": "2026-11-08T00:00:00Z", "limit": 40}
ANALYTICS_DAY = "2026-11-15"


def api_client(
    server: Running,
    slug: str,
    *,
    key: str | None = None,
    key_env: str | None = None,
    key_kind: str | None = None,
    limiter: RateLimiter | None = None,
    **kw,
) -> ApiClient:
    """A client of one simulator organization with fast backoff (the server's retry-after still rules)."""
    org = server.sim.world.by_slug(slug)
    kind = key_kind or org.key_type
    options = {"backoff_base": 0.01, "backoff_max": 0.1, "timeout": 10.0, **kw}
    return ApiClient(
        organization=slug,
        base_url=server.base_url,
        key=Secret(key or org.api_key),
        key_env=key_env or KEY_ENV[kind],
        key_kind=kind,
        limiter=limiter or RateLimiter(1_000_000),
        **options,
    )


def rows(pages: list[dict]) -> list:
    return [r for p in pages for r in p["data"]]


def pull(server: Running, **kw) -> tuple[dict[str, list], CallStats]:
    """Four small paginated reads covering the three pagination styles, on both organizations."""
    stats = CallStats()
    with api_client(server, CONSOLE, **kw) as console, api_client(server, ENTERPRISE, **kw) as enterprise:
        out = {
            "users": console.list_all(USERS, {"limit": 10}, stats=stats),
            "usage": rows(console.pages(USAGE, USAGE_PARAMS, stats=stats)),
            "analytics_users": rows(
                enterprise.pages(ANALYTICS_USERS, {"date": ANALYTICS_DAY, "limit": 5}, stats=stats)
            ),
            "user_usage": rows(enterprise.pages(USER_USAGE, USER_USAGE_PARAMS, stats=stats)),
        }
    return out, stats


@pytest.fixture(scope="module")
def expected(demo_server: Running) -> dict[str, list]:
    """The fault-free pull, fetched in single large pages where the API allows it."""
    stats = CallStats()
    with api_client(demo_server, CONSOLE) as c, api_client(demo_server, ENTERPRISE) as e:
        return {
            "users": c.get(USERS, {"limit": 1000}, stats=stats)["data"],
            "usage": c.get(USAGE, {**USAGE_PARAMS, "limit": 31}, stats=stats)["data"],
            "analytics_users": e.get(ANALYTICS_USERS, {"date": ANALYTICS_DAY, "limit": 1000}, stats=stats)[
                "data"
            ],
            "user_usage": e.get(USER_USAGE, {**USER_USAGE_PARAMS, "limit": 1000}, stats=stats)["data"],
        }


# -- pagination ---------------------------------------------------------------------------------------
def test_id_cursor_list_walks_every_page(demo_server, expected):
    stats = CallStats()
    with api_client(demo_server, CONSOLE) as client:
        users = client.list_all(USERS, {"limit": 4}, stats=stats)
    assert len(expected["users"]) > 12
    assert users == expected["users"]
    assert len({u["id"] for u in users}) == len(users)
    assert stats.pages == stats.requests == -(-len(users) // 4)
    assert stats.retries == 0 and stats.bytes > 0


def test_list_all_defaults_to_the_largest_page(demo_server, expected):
    stats = CallStats()
    with api_client(demo_server, CONSOLE) as client:
        assert client.list_all(USERS, stats=stats) == expected["users"]
    assert stats.requests == 1


def test_opaque_cursor_pages_until_next_page_is_null(demo_server, expected):
    stats = CallStats()
    with api_client(demo_server, ENTERPRISE) as client:
        pages = client.pages(ANALYTICS_USERS, {"date": ANALYTICS_DAY, "limit": 3}, stats=stats)
    assert all("has_more" not in p for p in pages)  # the opaque style: no has_more at all
    assert [p["next_page"] is None for p in pages] == [False] * (len(pages) - 1) + [True]
    assert len(pages) == -(-len(expected["analytics_users"]) // 3) >= 4
    assert rows(pages) == expected["analytics_users"]
    assert stats.pages == stats.requests == len(pages)


def test_report_cursor_pages_until_has_more_is_false(demo_server, expected):
    stats = CallStats()
    with api_client(demo_server, ENTERPRISE) as client:
        pages = client.pages(USER_USAGE, {**USER_USAGE_PARAMS, "limit": 25}, stats=stats)
    assert [p["has_more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    assert pages[-1]["next_page"] is None and len(pages) >= 4
    assert rows(pages) == expected["user_usage"]
    assert len({p["data_refreshed_at"] for p in pages}) == 1


def test_console_usage_report_pages(demo_server, expected):
    stats = CallStats()
    with api_client(demo_server, CONSOLE) as client:
        pages = client.pages(USAGE, {**USAGE_PARAMS, "limit": 2}, stats=stats)
    buckets = rows(pages)
    assert len(pages) == 11 and len(buckets) == 21
    assert [b["starting_at"][:10] for b in buckets] == [f"2026-10-{d:02d}" for d in range(1, 22)]
    assert buckets == expected["usage"]


class Scripted(httpx.BaseTransport):
    """Canned responses, in order; records every request."""

    def __init__(self, responses: list[httpx.Response]) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0)


def scripted_client(*bodies: dict | httpx.Response, **kw) -> tuple[ApiClient, Scripted]:
    transport = Scripted(
        [b if isinstance(b, httpx.Response) else httpx.Response(200, json=b) for b in bodies]
    )
    client = ApiClient(
        organization="o",
        base_url="https://api.test",
        key=Secret("sk-ant-admin01-" + "k" * 40),
        key_env="K",
        key_kind="admin",
        limiter=RateLimiter(1_000_000),
        backoff_base=0.0,
        transport=transport,
        **kw,
    )
    return client, transport


def test_pages_shapes_and_malformed_pages():
    # opaque style: has_more absent never stops pagination; next_page null does
    client, t = scripted_client(
        {"data": [1], "next_page": "a"}, {"data": [2], "next_page": "b"}, {"data": [3], "next_page": None}
    )
    assert rows(client.pages("/x", {"q": 1}, stats=CallStats())) == [1, 2, 3]
    assert [r.url.params.get("page") for r in t.requests] == [None, "a", "b"]
    assert all(r.url.params["q"] == "1" for r in t.requests)
    # report style: has_more false ends it even if a cursor is (wrongly) present
    client, t = scripted_client(
        {"data": [1], "has_more": True, "next_page": "a"},
        {"data": [2], "has_more": False, "next_page": "zzz"},
    )
    assert rows(client.pages("/x", {}, stats=CallStats())) == [1, 2]
    # has_more true without a cursor, or no data list, is a malformed page: retried, not trusted
    stats = CallStats()
    client, t = scripted_client(
        {"data": [1], "has_more": True, "next_page": None},
        {"next_page": None},
        {"data": [1], "has_more": False, "next_page": None},
    )
    assert rows(client.pages("/x", {}, stats=stats)) == [1]
    assert (stats.requests, stats.pages, stats.retries) == (3, 1, 2)
    # a server that repeats its cursor is stopped instead of looping forever
    client, _ = scripted_client({"data": [1], "next_page": "a"}, {"data": [2], "next_page": "a"})
    with pytest.raises(InvalidRequest, match="same next_page"):
        client.pages("/x", {}, stats=CallStats())


def test_retry_after_http_date_and_ms_are_honoured():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    date = "Sun, 22 Nov 2026 12:00:00 GMT"
    limited = httpx.Response(
        429,
        json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
        headers={"retry-after": "Sun, 22 Nov 2026 12:00:01 GMT", "date": date},
    )
    limited_ms = httpx.Response(529, headers={"retry-after-ms": "300"})
    client, _ = scripted_client(limited, limited_ms, {"data": []})
    stats = CallStats()
    start = time.monotonic()
    assert client.get("/x", stats=stats) == {"data": []}
    assert time.monotonic() - start >= 1.3 - 0.05
    assert stats.retries == 2 and stats.wait_seconds >= 1.3 - 0.05
    assert stats.server_time == now


# -- faults -------------------------------------------------------------------------------------------
FAULTS = [
    pytest.param("429=0.2", {"retry_after_seconds": 1}, "retries", id="429-retry-after"),
    pytest.param("500=0.3", {}, "retries", id="500"),
    pytest.param("529=0.3", {}, "retries", id="529"),
    pytest.param("timeout=0.15", {"timeout_seconds": 2.0}, "retries", id="timeout"),
    pytest.param("410=0.3", {}, "restarts", id="410-expired-cursor"),
    pytest.param("garbage=0.3", {}, "retries", id="garbage"),
    pytest.param(
        "429=0.05,500=0.05,529=0.05,timeout=0.03,410=0.05,garbage=0.05",
        {"retry_after_seconds": 1, "timeout_seconds": 2.0},
        None,
        id="mixed",
    ),
]


@pytest.mark.parametrize(("spec", "options", "counter"), FAULTS)
def test_faults_are_survived_with_identical_results(spec, options, counter, expected):
    sim = make_sim(faults=FaultPlan.parse(spec, seed=3, **options))
    with serve_in_thread(sim) as server:
        start = time.monotonic()
        got, stats = pull(server, timeout=0.75, max_retries=10)
        elapsed = time.monotonic() - start
    assert got == expected  # nothing lost, nothing duplicated, nothing reordered
    if counter:
        assert getattr(stats, counter) >= 1, f"the plan {spec} injected nothing: the test proves nothing"
    else:
        assert stats.retries + stats.restarts >= 3
    # every request is accounted for: a page, a retry or a restart
    assert stats.requests == stats.pages + stats.retries + stats.restarts
    if spec == "429=0.2":  # retry-after (1 s) is a floor under every retry
        assert stats.wait_seconds >= stats.retries * 1.0 - 0.05
        assert elapsed >= stats.retries * 1.0 - 0.05


def test_expired_cursor_after_a_real_refresh_restarts_the_window():
    """The report is re-exported between two pages: the restarted window is entirely the new export."""
    sim = make_sim()
    advanced = threading.Event()

    def refresh_once(request: httpx.Request) -> None:
        if "page" in request.url.params and not advanced.is_set():
            advanced.set()
            sim.clock.advance(4 * 3600)  # the next export (refresh_hours=4)

    with serve_in_thread(sim) as server:
        stats = CallStats()
        with api_client(server, ENTERPRISE, transport=Hooked(refresh_once)) as client:
            pages = client.pages(USER_USAGE, {**USER_USAGE_PARAMS, "limit": 30}, stats=stats)
        with api_client(server, ENTERPRISE) as client:
            after = client.get(USER_USAGE, {**USER_USAGE_PARAMS, "limit": 1000}, stats=CallStats())
    assert advanced.is_set() and stats.restarts == 1
    assert {p["data_refreshed_at"] for p in pages} == {after["data_refreshed_at"]}
    assert rows(pages) == after["data"]
    assert stats.requests == stats.pages + 1


def test_iter_pages_streams_page_by_page_and_a_restart_clears_the_consumer():
    """Pages are asked one at a time as the consumer takes them; on a 410 the consumer's rows are dropped."""
    sim = make_sim()
    sent: list[str | None] = []

    def refresh_after_first_page(request: httpx.Request) -> None:
        sent.append(request.url.params.get("page"))
        if len(sent) == 2:
            sim.clock.advance(4 * 3600)  # the next export: the second page's cursor has expired

    with serve_in_thread(sim) as server:
        stats, kept = CallStats(), []
        with api_client(server, ENTERPRISE, transport=Hooked(refresh_after_first_page)) as client:
            pages = client.iter_pages(
                USER_USAGE, {**USER_USAGE_PARAMS, "limit": 30}, stats=stats, restart=kept.clear
            )
            kept.extend(next(pages)["data"])
            assert len(sent) == 1  # nothing is fetched ahead of the consumer
            for page in pages:
                kept.extend(page["data"])
        with api_client(server, ENTERPRISE) as client:
            after = client.get(USER_USAGE, {**USER_USAGE_PARAMS, "limit": 1000}, stats=CallStats())
    assert stats.restarts == 1 and sent[2] is None  # the query started over from its first page
    assert kept == after["data"] and len(kept) > 30


def test_a_cursor_that_keeps_expiring_fails_with_advice():
    sim = make_sim(faults=FaultPlan.parse("410=1"))
    with serve_in_thread(sim) as server, api_client(server, CONSOLE, max_restarts=2) as client:
        stats = CallStats()
        with pytest.raises(RetriesExhausted, match="retry the run later"):
            client.pages(USAGE, USAGE_PARAMS, stats=stats)
    assert stats.restarts == 3 and stats.pages == 3


def test_persistent_failure_raises_retries_exhausted():
    sim = make_sim(faults=FaultPlan.parse("500=1"))
    with serve_in_thread(sim) as server, api_client(server, CONSOLE, max_retries=2) as client:
        stats = CallStats()
        with pytest.raises(RetriesExhausted) as info:
            client.get(ME, stats=stats)
    assert "returned 500 on all 3 attempts" in str(info.value) and info.value.status == 500
    assert (stats.requests, stats.retries, stats.pages) == (3, 2, 0)


def test_unreachable_server_and_bad_scheme_say_what_to_fix():
    with socket_closed_port() as port:
        client = ApiClient(
            organization="o",
            base_url=f"http://127.0.0.1:{port}",
            key=Secret("sk-ant-admin01-xxxxxxxxx"),
            key_env="K",
            key_kind="admin",
            limiter=RateLimiter(1000),
            max_retries=1,
            backoff_base=0.0,
        )
        with (
            client,
            pytest.raises(
                RetriesExhausted, match=r"could not connect to http://127\.0\.0\.1.*ANTHROPIC_BASE_URL"
            ),
        ):
            client.get(ME, stats=CallStats())
    with pytest.raises(ConfigurationError, match="must be an http:// or https:// URL"):
        ApiClient(
            organization="o",
            base_url="ftp://example.test",
            key=Secret("sk-ant-admin01-xxxxxxxxx"),
            key_env="K",
            key_kind="admin",
            limiter=RateLimiter(1000),
        )


class socket_closed_port:
    """A loopback port with nothing listening."""

    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def __exit__(self, *exc) -> None:
        return None


class Hooked(httpx.BaseTransport):
    """Real loopback HTTP, with a callback before each request (and optional latency)."""

    def __init__(self, before: Callable[[httpx.Request], None] | None = None, delay: float = 0.0) -> None:
        self.inner = httpx.HTTPTransport(limits=httpx.Limits(max_connections=64))
        self.before = before
        self.delay = delay
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.before:
            self.before(request)
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(self.delay)
            response = self.inner.handle_request(request)
            response.read()
            return response
        finally:
            with self._lock:
                self.in_flight -= 1

    def close(self) -> None:
        self.inner.close()


# -- rate limit and concurrency ---------------------------------------------------------------------------
def short_window_server_limit(sim, slug: str, per_window: int, window: float) -> None:
    """The simulator's own sliding-window limiter, with a window short enough for a test."""
    sim.limiters[slug] = SlidingWindowLimiter(per_window, window=window)


def test_rate_limit_is_never_exceeded_under_concurrency():
    sim = make_sim(rate_limits={"console": 20, "enterprise": 20})
    short_window_server_limit(sim, CONSOLE, 20, 2.0)
    limiter = RateLimiter(20, window=2.0 + 0.3)  # the client's window a little longer, as in production
    with (
        serve_in_thread(sim) as server,
        api_client(server, CONSOLE, limiter=limiter, max_concurrency=8, max_retries=0) as client,
    ):
        stats = CallStats()
        start = time.monotonic()
        results = list(client.map(lambda _: client.get(ME, stats=stats), range(30)))
        elapsed = time.monotonic() - start
    assert len(results) == 30 and all(r["id"] == sim.world.by_slug(CONSOLE).uuid for r in results)
    assert stats.retries == 0 and stats.requests == 30  # max_retries=0: a single 429 would have raised
    assert 2.3 - 0.05 <= elapsed < 2 * 2.3  # 20 at once, 10 more one window later, no more
    assert stats.wait_seconds >= 10 * (2.3 - 2.3 / 2)  # the last ten waited


def test_requests_that_reach_the_server_late_still_never_exceed_its_limit():
    """A busy machine or a slow link delays the first requests' arrival past the client's clock.

    Counted from the moment they were sent, the first five would leave the client's window at 1.2 s
    while the server counted them at 0.8 s, and the next five would meet a full server window.
    """
    sim = make_sim(rate_limits={"console": 5, "enterprise": 5})
    short_window_server_limit(sim, CONSOLE, 5, 1.0)
    limiter = RateLimiter(5, window=1.0 + 0.2)
    arrivals: list[float] = []
    first_five = threading.Semaphore(5)

    def late_first_arrivals(request: httpx.Request) -> None:
        if first_five.acquire(blocking=False):
            time.sleep(0.8)  # on its way for 0.8 s before the server sees it
        arrivals.append(time.monotonic())

    with (
        serve_in_thread(sim) as server,
        api_client(
            server,
            CONSOLE,
            limiter=limiter,
            max_concurrency=5,
            max_retries=0,
            transport=Hooked(before=late_first_arrivals),
        ) as client,
    ):
        stats = CallStats()
        results = list(client.map(lambda _: client.get(ME, stats=stats), range(10)))
    assert len(results) == 10 and stats.retries == 0  # max_retries=0: a single 429 would have raised
    arrivals.sort()
    assert arrivals[5] - arrivals[0] >= 1.0  # the second five reached the server a window after the first


def test_without_the_client_limiter_the_server_answers_429_and_retry_after_is_honoured():
    """The control for the test above: the server really limits, and the client recovers from it."""
    sim = make_sim(rate_limits={"console": 20, "enterprise": 20})
    short_window_server_limit(sim, CONSOLE, 20, 2.0)
    with (
        serve_in_thread(sim) as server,
        api_client(server, CONSOLE, max_concurrency=8, max_retries=5) as client,
    ):
        stats = CallStats()
        start = time.monotonic()
        results = list(client.map(lambda _: client.get(ME, stats=stats), range(30)))
        elapsed = time.monotonic() - start
    assert len(results) == 30
    assert stats.requests == 30 + stats.retries
    # 429s were seen, but only by the requests already in flight: the first retry-after holds every caller
    assert 1 <= stats.retries <= 8
    assert elapsed >= 1.0  # the server's retry-after (>= 1 s) was waited out


def test_concurrency_hides_latency_but_stays_bounded(demo_server):
    transport = Hooked(delay=0.2)
    with api_client(demo_server, CONSOLE, max_concurrency=6, transport=transport) as client:
        stats = CallStats()
        start = time.monotonic()
        out = list(client.map(lambda i: (i, client.get(ME, stats=stats)["id"]), range(24)))
        elapsed = time.monotonic() - start
    assert [i for i, _ in out] == list(range(24))  # results in input order
    assert transport.peak == 6  # never more in flight than max_concurrency
    assert elapsed < 24 * 0.2 / 3  # 4.8 s sequentially; ~0.8 s with six in flight


def test_one_slot_per_request_even_when_calls_nest(demo_server):
    transport = Hooked(delay=0.05)
    with api_client(demo_server, CONSOLE, max_concurrency=3, transport=transport) as client:
        stats = CallStats()

        def fan_out(_):
            return list(client.map(lambda __: client.get(ME, stats=stats), range(4)))

        assert len([r for batch in client.map(fan_out, range(4)) for r in batch]) == 16
    assert transport.peak <= 3


def test_map_stops_early_on_failure():
    client, _ = scripted_client()
    started: list[int] = []

    def work(i: int) -> int:
        started.append(i)
        if i == 0:
            raise ValueError("boom")
        time.sleep(0.05)
        return i

    client.max_concurrency = 2
    with pytest.raises(ValueError, match="boom"):
        list(client.map(work, range(50)))
    assert len(started) < 10  # the rest were never started


def test_rate_limiter_window_and_penalty():
    limiter = RateLimiter(3, window=0.4)
    start = time.monotonic()
    waits = [limiter.acquire() for _ in range(7)]
    assert time.monotonic() - start >= 0.8 - 0.02  # 3 + 3 + 1: two full windows
    assert waits[:3] == pytest.approx([0, 0, 0], abs=0.01) and sum(waits) >= 0.8 - 0.02
    limiter.penalize(0.3)
    assert limiter.acquire() >= 0.3 - 0.02
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_limiter_is_shared_per_organization():
    a = limiter_for("http://sim.test/", "org-a", 60)
    assert limiter_for("http://sim.test", "org-a", 60) is a
    assert limiter_for("http://sim.test", "org-b", 60) is not a
    assert limiter_for("http://sim.test", "org-a", 30) is a and a.per_minute == 30  # updated in place


# -- the resources ------------------------------------------------------------------------------------------
def test_resources_build_clients_from_config_and_environment(demo_server, monkeypatch):
    console = OrgConfig(
        slug=CONSOLE,
        kind="console",
        key_env="TEST_ACME_ADMIN_KEY",
        base_url=demo_server.base_url,
        rate_limit_per_minute=120,
    )
    enterprise = OrgConfig(
        slug=ENTERPRISE, kind="enterprise", key_env="TEST_ACME_ANALYTICS_KEY", base_url=demo_server.base_url
    )
    monkeypatch.setenv("TEST_ACME_ADMIN_KEY", demo_server.sim.world.by_slug(CONSOLE).api_key)
    monkeypatch.setenv("TEST_ACME_ANALYTICS_KEY", demo_server.sim.world.by_slug(ENTERPRISE).api_key)
    api = ConsoleAdminApi(max_concurrency=2)
    with (
        api.client(console) as one,
        api.client(console) as two,
        EnterpriseAnalyticsApi().client(enterprise) as e,
    ):
        assert one.limiter is two.limiter and one.limiter.per_minute == 120  # shared by every asset
        assert e.limiter is not one.limiter and e.limiter.per_minute == 60
        assert one.base_url == demo_server.base_url and one.max_concurrency == 2
        stats = CallStats()
        assert one.get(ME, stats=stats)["id"] == demo_server.sim.world.by_slug(CONSOLE).uuid
        assert e.pages(ANALYTICS_USERS, {"date": ANALYTICS_DAY, "limit": 1000}, stats=stats)[0]["data"]
    assert "sk-ant" not in str(api.model_dump()) + repr(api)  # the key is never part of the resource
    for method in ("post", "put", "patch", "delete", "request", "stream"):
        assert not hasattr(ApiClient, method)
    with pytest.raises(ConfigurationError, match="reads console organizations"):
        api.client(enterprise)


def test_client_refuses_to_send_anything_but_get(demo_server):
    with api_client(demo_server, CONSOLE) as client, pytest.raises(RuntimeError, match="read-only"):
        client._http.post(USERS, json={})  # even the private HTTP client cannot


def test_missing_key_variable_says_which_and_what(monkeypatch):
    monkeypatch.delenv("NOPE_ANALYTICS_KEY", raising=False)
    org = OrgConfig(slug="x", kind="enterprise", key_env="NOPE_ANALYTICS_KEY")
    with pytest.raises(ConfigurationError) as info:
        EnterpriseAnalyticsApi().client(org)
    msg = str(info.value)
    assert "NOPE_ANALYTICS_KEY" in msg and "read:analytics" in msg and "Enterprise Analytics API key" in msg


# -- errors and secrets ------------------------------------------------------------------------------------
WRONG_KEY = "sk-ant-admin01-" + "Zq7" * 28 + "-WrOnGAA"


def test_401_names_the_variable_and_key_kind(demo_server):
    with (
        api_client(demo_server, CONSOLE, key=WRONG_KEY) as client,
        pytest.raises(AuthenticationFailed) as info,
    ):
        client.get(USERS, stats=CallStats())
    err = info.value
    assert (
        err.status == 401 and err.error_type == "authentication_error" and err.request_id.startswith("req_")
    )
    assert "$ACME_ADMIN_API_KEY" in str(err) and "an Admin API key (sk-ant-admin01-" in str(err)
    assert WRONG_KEY not in str(err) + repr(err)


def test_403_names_the_variable_and_key_kind(demo_server):
    admin_key = demo_server.sim.world.by_slug(CONSOLE).api_key
    analytics_key = demo_server.sim.world.by_slug(ENTERPRISE).api_key
    # an Admin key where the Analytics key belongs
    with (
        api_client(demo_server, ENTERPRISE, key=admin_key) as client,
        pytest.raises(PermissionDenied) as info,
    ):
        client.pages(ANALYTICS_USERS, {"date": ANALYTICS_DAY}, stats=CallStats())
    msg = str(info.value)
    assert info.value.status == 403 and "ACME_ANALYTICS_API_KEY" in msg and "read:analytics" in msg
    assert admin_key not in msg + repr(info.value)
    # an Analytics key where the Admin key belongs
    with (
        api_client(demo_server, CONSOLE, key=analytics_key) as client,
        pytest.raises(PermissionDenied) as info,
    ):
        client.list_all(USERS, stats=CallStats())
    msg = str(info.value)
    assert "ACME_ADMIN_API_KEY" in msg and "Admin API key" in msg and analytics_key not in msg


def test_bad_request_is_not_retried(demo_server):
    stats = CallStats()
    with api_client(demo_server, CONSOLE) as client, pytest.raises(InvalidRequest) as info:
        client.pages(
            USAGE, {"starting_at": "2026-10-02T00:00:00Z", "ending_at": "2026-10-01T00:00:00Z"}, stats=stats
        )
    assert info.value.status == 400 and "ending date must be after starting date" in str(info.value)
    assert stats.requests == 1 and stats.retries == 0
    assert issubclass(CursorExpired, AnthropicApiError)


def test_secret_masks_itself_everywhere():
    key = "sk-ant-admin01-" + "A1b2C3" * 14 + "-XyZwAA"
    s = Secret(key)
    shown = [
        repr(s),
        str(s),
        f"{s}",
        f"{s!r}",
        f"{s:>200}",
        format(s, "x"),
        repr([s]),
        repr({"k": s}),
        s.masked,
        "%s %r" % (s, s),  # noqa: UP031 (%-formatting must mask too)
    ]
    for text in shown:
        assert key not in text and "A1b2C3" not in text
    assert s.masked == "sk-ant-…ZwAA"
    assert mask("short") == "…" and mask("") == "<empty>" and mask("abcdefghijKLMN") == "…KLMN"
    for dump in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="cannot be pickled"):
            dump(s)
    assert s.reveal() == key and s == Secret(key) and s != Secret(key + "x") and s != key


def test_no_key_reaches_any_message_repr_or_log(demo_server, caplog, monkeypatch):
    """Everything a successful and a failing call produce is searched for the keys."""
    admin_key = demo_server.sim.world.by_slug(CONSOLE).api_key
    analytics_key = demo_server.sim.world.by_slug(ENTERPRISE).api_key
    for name in ("", "httpx", "httpcore", "resources", "resources.client"):
        caplog.set_level(logging.DEBUG, logger=name)
    texts: list[str] = []

    def keep(*objects) -> None:
        texts.extend(str(o) for o in objects)
        texts.extend(repr(o) for o in objects)

    # successes, with retries (and their log lines) on the way
    sim = make_sim(
        faults=FaultPlan.parse("500=0.2,429=0.1,garbage=0.1,410=0.1", seed=5, retry_after_seconds=0)
    )
    with serve_in_thread(sim) as server:
        got, stats = pull(server)
        keep(stats, stats.as_dict(), got["users"][:2])
        assert stats.retries + stats.restarts > 0
        failures: list[Exception] = []
        with api_client(server, CONSOLE, key=WRONG_KEY) as c:
            keep(c, vars(c))
            try:
                c.get(USERS, stats=CallStats())
            except AnthropicApiError as exc:
                failures.append(exc)
        with api_client(server, ENTERPRISE, key=admin_key) as c:
            try:
                c.pages(ANALYTICS_USERS, {"date": ANALYTICS_DAY}, stats=CallStats())
            except AnthropicApiError as exc:
                failures.append(exc)
    with api_client(demo_server, CONSOLE, max_retries=0) as c:
        try:
            c.get(USAGE, {"starting_at": "yesterday"}, stats=CallStats())
        except AnthropicApiError as exc:
            failures.append(exc)
    monkeypatch.setenv("ACME_ADMIN_API_KEY", admin_key)
    org = OrgConfig(slug=CONSOLE, kind="console", key_env="ACME_ADMIN_API_KEY", base_url=demo_server.base_url)
    api = ConsoleAdminApi()
    with api.client(org) as c:
        keep(api, api.model_dump(), c, c.limiter)
    try:
        api.client(OrgConfig(slug="x", kind="enterprise", key_env="ACME_ADMIN_API_KEY"))
    except AnthropicApiError as exc:
        failures.append(exc)
    assert [type(e) for e in failures] == [
        AuthenticationFailed,
        PermissionDenied,
        InvalidRequest,
        ConfigurationError,
    ]
    for exc in failures:
        keep(exc, exc.args, exc.__dict__, exc.__cause__, exc.__context__)
    records = caplog.records
    assert any(r.name.startswith("httpx") for r in records) and any(
        r.name.startswith("httpcore") for r in records
    )
    assert any(r.name == "resources.client" for r in records)  # the retries were logged
    texts.append(caplog.text)
    texts.extend(r.getMessage() for r in records)
    texts.extend(repr(r.args) for r in records)
    haystack = "\n".join(texts)
    # the scan does see what was produced: the masked forms and the server's own words are there
    assert f"key=sk-ant-…{WRONG_KEY[-4:]}" in haystack and "invalid x-api-key" in haystack
    assert "HTTP Request: GET" in haystack
    for key in (admin_key, analytics_key, WRONG_KEY):
        assert key not in haystack
        assert key[15:45] not in haystack  # not even a fragment of the secret part


def test_call_stats_merge_and_report():
    a, b = CallStats(), CallStats()
    a.add(requests=2, pages=1, retries=1, wait_seconds=0.12345)
    b.add(requests=1, pages=1, bytes=10)
    b.server_time = datetime(2026, 1, 1, tzinfo=UTC)
    a.merge(b)
    assert a.as_dict() == {
        "requests": 3,
        "pages": 2,
        "retries": 1,
        "restarts": 0,
        "bytes": 10,
        "wait_seconds": 0.123,
    }
    assert a.server_time == b.server_time

    def bump(_):
        for _ in range(1000):
            a.add(requests=1)

    threads = [threading.Thread(target=bump, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert a.requests == 4003

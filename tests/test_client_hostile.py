"""The client against hostile servers and bad inputs: retry-after past its cap, spend-limit 429s, request ids
only in the body, keys that cannot be sent, absolute paths, http:// beyond loopback, servers that trickle
bytes or echo the key, and retries that show in Dagster's run log while they happen."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import httpx
import pytest

from claude_assets.config import ConfigError, OrgConfig, ProjectConfig, load_config, load_file
from claude_assets.definitions import build_definitions
from resources.apis import ConsoleAdminApi
from resources.client import ApiClient, CallStats
from resources.errors import (
    ConfigurationError,
    DeadlineExceeded,
    InvalidRequest,
    LimitReached,
    OrganizationNotEligible,
    PermissionDenied,
    RefusedRequest,
    RetriesExhausted,
    RetryAfterTooLong,
)
from resources.ratelimit import RateLimiter
from resources.redact import MASK, redact
from resources.secrets import Secret
from simulator.faults import FaultPlan
from simulator.serve import serve_in_thread
from tests.conftest import make_sim

KEY = "sk-ant-admin01-" + "Hq7Zt2Lm9Wx4" * 7 + "-Pz3kAA"
ME = "/v1/organizations/me"
COST = "/v1/organizations/cost_report"
ERROR = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}


def within(seconds: float, call: Callable[[], object]) -> object:
    """``call()``'s result or exception, failing the test if it takes longer than ``seconds`` (the call is
    left running in a daemon thread: what a client without a bound would do)."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def mock_client(handler: Callable[[httpx.Request], httpx.Response], **kw) -> tuple[ApiClient, list]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    options = {"backoff_base": 0.01, "backoff_max": 0.05, **kw}
    client = ApiClient(
        organization="acme",
        base_url="https://api.test",
        key=Secret(KEY),
        key_env="ACME_ADMIN_API_KEY",
        key_kind="admin",
        limiter=RateLimiter(1_000_000),
        transport=httpx.MockTransport(record),
        **options,
    )
    return client, seen


def answers(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)
    return lambda request: queue.pop(0) if len(queue) > 1 else queue[0]


# -- retry-after ---------------------------------------------------------------------------------------------
@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("header", "value", "shown"),
    [
        ("retry-after", "inf", "forever"),
        ("retry-after", "86400", "86,400 s"),
        ("retry-after", "1e308", "s before"),
        ("retry-after-ms", "Infinity", "forever"),
    ],
)
def test_a_retry_after_past_the_cap_fails_at_once(header, value, shown):
    client, seen = mock_client(answers(httpx.Response(429, json=ERROR, headers={header: value})))
    started = time.monotonic()
    with client, pytest.raises(RetryAfterTooLong) as info:
        within(5, lambda: client.get("/v1/x", stats=CallStats()))
    assert time.monotonic() - started < 1 and len(seen) == 1
    message = str(info.value)
    assert shown in message and "300 s" in message and "max_retry_after_seconds" in message
    assert "slow down" in message and info.value.status == 429


def test_nan_and_negative_retry_after_fall_back_to_the_backoff():
    for value in ("nan", "-5"):
        client, seen = mock_client(
            answers(
                httpx.Response(429, json=ERROR, headers={"retry-after": value}), httpx.Response(200, json={})
            )
        )
        with client:
            assert within(5, lambda c=client: c.get("/v1/x", stats=CallStats())) == {}
        assert len(seen) == 2


def test_the_retry_after_cap_is_configurable():
    slow = httpx.Response(429, json=ERROR, headers={"retry-after": "0.3"})
    client, _ = mock_client(answers(slow, httpx.Response(200, json={})), max_retry_after=0.2)
    with client, pytest.raises(RetryAfterTooLong, match=r"more than the 0\.2 s"):
        client.get("/v1/x", stats=CallStats())
    client, _ = mock_client(answers(slow, httpx.Response(200, json={})), max_retry_after=1)
    with client:
        assert client.get("/v1/x", stats=CallStats()) == {}
    assert ConsoleAdminApi(max_retry_after_seconds=30).max_retry_after_seconds == 30


# -- errors that say what happened ----------------------------------------------------------------------------
@pytest.mark.bad_input
def test_a_spend_limit_429_is_not_retried_and_says_so():
    with serve_in_thread(make_sim(faults=FaultPlan.parse("spend_limit=1"))) as server:
        org = server.sim.world.by_slug("acme-console")
        client = ApiClient(
            organization="acme-console",
            base_url=server.base_url,
            key=Secret(org.api_key),
            key_env="ACME_ADMIN_API_KEY",
            key_kind="admin",
            limiter=RateLimiter(1_000_000),
            backoff_base=0.01,
        )
        stats = CallStats()
        with client, pytest.raises(LimitReached) as info:
            within(10, lambda: client.get("/v1/organizations/users", stats=stats))
    err = info.value
    assert stats.requests == 1 and stats.retries == 0
    assert err.error_code == "enforced_spend_limit_reached" and err.status == 429
    assert err.request_id and err.request_id.startswith("req_") and err.request_id in str(err)
    assert "monthly usage threshold" in str(err) and "Retrying will not help" in str(err)


@pytest.mark.bad_input
def test_the_body_request_id_is_used_when_the_header_is_absent():
    body = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "bad starting_at"},
        "request_id": "req_011BodyOnly",
    }
    client, _ = mock_client(answers(httpx.Response(400, json=body)))
    with client, pytest.raises(InvalidRequest) as info:
        client.get("/v1/x", stats=CallStats())
    assert info.value.request_id == "req_011BodyOnly" and "req_011BodyOnly" in str(info.value)
    client, _ = mock_client(
        answers(httpx.Response(503, json={**body, "request_id": "req_011Last"})), max_retries=1
    )
    with client, pytest.raises(RetriesExhausted) as info:
        client.get("/v1/x", stats=CallStats())
    assert info.value.request_id == "req_011Last" and "last request-id req_011Last" in str(info.value)


BAD_KEYS = [
    pytest.param(KEY[:40] + "\n" + KEY[40:], "character 41 of", "a line break (U+000A)", id="newline"),
    pytest.param(
        KEY[:30] + "\u200b" + KEY[30:], "character 31 of", "an invisible character (U+200B", id="zwsp"
    ),
    pytest.param(
        KEY[:20] + "\u00e9" + KEY[20:], "character 21 of", "a non-ASCII character (U+00E9", id="accent"
    ),
    pytest.param(KEY[:50] + " " + KEY[50:], "character 51 of", "a space character (U+0020", id="space"),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(("value", "position", "kind"), BAD_KEYS)
def test_a_key_that_cannot_be_sent_is_refused_before_any_request(monkeypatch, value, position, kind):
    monkeypatch.setenv("HOSTILE_TEST_ADMIN_KEY", value)
    org = OrgConfig(
        slug="acme", kind="console", key_env="HOSTILE_TEST_ADMIN_KEY", base_url="https://api.test"
    )
    api = ConsoleAdminApi()
    sent: list = []
    api._transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json={}))
    with pytest.raises(ConfigurationError) as info:
        within(5, lambda: api.client(org).get(ME, stats=CallStats()))
    message = str(info.value)
    assert "$HOSTILE_TEST_ADMIN_KEY" in message and position in message and kind in message
    assert sent == []
    for i in range(len(KEY) - 11):
        if i >= 4:  # past the public sk-ant-admin01- prefix
            assert KEY[i : i + 12] not in message


def test_a_key_with_a_trailing_line_break_is_accepted(monkeypatch):
    monkeypatch.setenv("HOSTILE_TEST_ADMIN_KEY", KEY + "\n")
    org = OrgConfig(
        slug="acme", kind="console", key_env="HOSTILE_TEST_ADMIN_KEY", base_url="https://api.test"
    )
    with ConsoleAdminApi().client(org) as client:
        assert client._key.reveal() == KEY


@pytest.mark.bad_input
def test_with_no_key_at_all_a_run_names_the_variable_to_set(monkeypatch, tmp_path):
    for var in ("ANTHROPIC_ADMIN_API_KEY", "ANTHROPIC_ANALYTICS_API_KEY", "CLAUDE_ASSETS_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # never reached
    defs = build_definitions(load_config(), str(tmp_path / "w.duckdb"))
    result = dg.materialize(
        list(defs.assets),
        selection=[dg.AssetKey(["raw", "console_cost"])],
        resources=defs.resources,
        partition_key="2026-11-10|console",
        raise_on_error=False,
    )
    assert not result.success
    text = " ".join(str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure)
    assert "ANTHROPIC_ADMIN_API_KEY is not set" in text and "Admin API key" in text


# -- where a key may go ------------------------------------------------------------------------------------------
@pytest.mark.bad_input
@pytest.mark.parametrize(
    "path",
    [
        "https://evil.test/v1/organizations/me",
        "//evil.test/v1/organizations/me",
        "http://127.0.0.1:9/v1/organizations/me",
        "v1/organizations/me",
        "/v1/organizations/../../me",
        "/v1/organizations/me\r\nx-evil: 1",
    ],
)
def test_a_path_that_is_not_relative_to_the_base_url_is_refused(path):
    client, seen = mock_client(answers(httpx.Response(200, json={"data": []})))
    with client, pytest.raises(RefusedRequest, match=r"relative to the base URL https://api\.test"):
        client.get(path, stats=CallStats())
    assert seen == []


@pytest.mark.bad_input
def test_http_is_refused_for_any_host_but_loopback(tmp_path):
    def client(url: str) -> ApiClient:
        return ApiClient(
            organization="o",
            base_url=url,
            key=Secret(KEY),
            key_env="K",
            key_kind="admin",
            limiter=RateLimiter(10),
        )

    for url in ("http://api.anthropic.com", "http://10.0.0.8:8080", "http://localhost.evil.test"):
        with pytest.raises(ConfigurationError, match=r"http:// is refused .*unencrypted"):
            client(url)
    for url in (
        "http://127.0.0.1:8787",
        "http://localhost:8787",
        "http://[::1]:8787",
        "https://api.anthropic.com",
    ):
        client(url).close()
    path = tmp_path / "orgs.yaml"
    path.write_text(
        "organizations:\n  - slug: a\n    kind: console\n    key_env: A_KEY\n    base_url: http://api.example.com\n"
    )
    with pytest.raises(ConfigError, match=r"orgs.yaml:5: organizations\[0\].base_url: .*http:// is refused"):
        load_file(path)
    with pytest.raises(ConfigError, match="ANTHROPIC_BASE_URL: http:// is refused"):
        load_config({"ANTHROPIC_ADMIN_API_KEY": KEY, "ANTHROPIC_BASE_URL": "http://api.example.com"})


# -- hostile servers over real loopback HTTP ---------------------------------------------------------------------
@contextlib.contextmanager
def hostile_server(handle: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                handle(self)

        def log_message(self, *args) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def send_json(h: BaseHTTPRequestHandler, status: int, body: dict, headers: dict | None = None) -> None:
    raw = json.dumps(body).encode()
    h.send_response(status)
    for name, value in {
        "content-type": "application/json",
        "content-length": str(len(raw)),
        **(headers or {}),
    }.items():
        h.send_header(name, value)
    h.end_headers()
    h.wfile.write(raw)


def trickle(h: BaseHTTPRequestHandler) -> None:
    """A 200 whose body comes one byte every 50 ms, for 8 s: no read ever times out."""
    h.send_response(200)
    h.send_header("content-type", "application/json")
    h.send_header("content-length", "1000000")
    h.end_headers()
    until = time.monotonic() + 8
    while time.monotonic() < until:
        h.wfile.write(b" ")
        h.wfile.flush()
        time.sleep(0.05)


@pytest.mark.bad_input
def test_a_server_that_trickles_bytes_fails_within_the_deadline():
    with hostile_server(trickle) as url:
        client = ApiClient(
            organization="o",
            base_url=url,
            key=Secret(KEY),
            key_env="K",
            key_kind="admin",
            limiter=RateLimiter(1000),
            timeout=2.0,
            deadline=1.5,
        )
        started = time.monotonic()
        with client, pytest.raises(DeadlineExceeded, match=r"deadline of 1\.5 s"):
            within(6, lambda: client.get("/v1/x", stats=CallStats()))
        assert time.monotonic() - started < 1.5 + 0.5


@pytest.mark.bad_input
def test_the_deadline_bounds_the_retries_too():
    client, seen = mock_client(
        answers(httpx.Response(500, json=ERROR)),
        max_retries=50,
        backoff_base=0.2,
        backoff_max=0.2,
        deadline=1.0,
    )
    started = time.monotonic()
    with client, pytest.raises(DeadlineExceeded, match="the last attempt returned 500"):
        within(10, lambda: client.get("/v1/x", stats=CallStats()))
    assert time.monotonic() - started < 1.0 + 0.1 and 3 <= len(seen) <= 11


def test_redact_masks_every_twelve_character_run_and_nothing_shorter():
    Secret(KEY)  # registers it
    secret = KEY[15:]
    for i in range(len(secret) - 11):
        assert redact(f"<{secret[i : i + 12]}>") == f"<{MASK}>"
    assert redact(secret[:11]) == secret[:11]
    assert redact("an Admin API key (sk-ant-admin01-…)") == "an Admin API key (sk-ant-admin01-…)"
    assert redact(f"a {KEY} b") == f"a sk-a{MASK} b"


@pytest.mark.bad_input
def test_a_server_echoing_the_key_gets_it_into_no_log_or_event_and_retries_show_in_the_run_log(
    tmp_path, monkeypatch, caplog
):
    calls: list[str] = []

    def echo(h: BaseHTTPRequestHandler) -> None:
        key = h.headers.get("x-api-key", "")
        calls.append(h.path)
        if h.path.startswith(ME):
            send_json(
                h, 200, {"id": "3f1c2b7a-1111-4e2b-9c3d-0a1b2c3d4e5f", "type": "organization", "name": "Echo"}
            )
        elif len([c for c in calls if not c.startswith(ME)]) == 1:
            send_json(
                h, 500, {"type": "error", "error": {"type": "api_error", "message": f"oops {key[15:60]}"}}
            )
        else:
            message = f"unknown key {key[20:70]} (was {key[-30:]})"
            send_json(
                h,
                400,
                {"type": "error", "error": {"type": "invalid_request_error", "message": message}},
                {"x-echo": key[16:50]},
            )

    monkeypatch.setenv("ECHO_ADMIN_KEY", KEY)
    caplog.set_level("DEBUG")
    instance = dg.DagsterInstance.ephemeral()
    with hostile_server(echo) as url:
        org = OrgConfig(slug="echo", kind="console", key_env="ECHO_ADMIN_KEY", base_url=url)
        defs = build_definitions(ProjectConfig(organizations=(org,)), str(tmp_path / "w.duckdb"))
        result = dg.materialize(
            list(defs.assets),
            selection=[dg.AssetKey(["raw", "console_cost"])],
            resources={**defs.resources, "console_api": ConsoleAdminApi(backoff_seconds=0.05)},
            partition_key=f"{date(2026, 11, 10)}|echo",
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    logs = instance.all_logs(result.run_id)
    stored = "\n".join(dg.serialize_value(entry) for entry in logs)  # the event store's own form
    texts = stored + "\n" + caplog.text
    assert "unknown key " + MASK in texts  # the server's words are there, the key is not
    secret = KEY[15:]
    for i in range(len(secret) - 11):
        assert secret[i : i + 12] not in texts
    # the retry was an event of the run, logged before the step failed
    retry = [e for e in logs if "retry 1 of" in (e.user_message or "")]
    failure = [e for e in logs if e.dagster_event is not None and e.dagster_event.is_step_failure]
    assert retry and failure and retry[0].timestamp < failure[0].timestamp


@pytest.mark.bad_input
def test_a_refusal_names_the_servers_error_code():
    body = {
        "type": "error",
        "error": {
            "type": "permission_error",
            "message": "Anthropic has disabled the organization",
            "details": {"error_code": "organization_on_hold"},
        },
    }
    client, _ = mock_client(answers(httpx.Response(403, json=body, headers={"request-id": "req_011Hold"})))
    with client, pytest.raises(PermissionDenied) as info:
        client.get("/v1/x", stats=CallStats())
    assert info.value.error_code == "organization_on_hold"
    assert "[organization_on_hold; request-id req_011Hold]" in str(info.value)


@pytest.mark.bad_input
def test_a_400_refusing_the_organization_is_its_own_error_with_the_code_and_no_key():
    """400 ``organization_not_eligible`` (HIPAA readiness on the Usage and Cost Analytics API) refuses the
    organization, not the request: a caller can tell it from a malformed request, and retrying is pointless."""
    body = {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": f"not available to organizations with HIPAA readiness enabled (key {KEY})",
            "details": {"error_code": "organization_not_eligible"},
        },
        "request_id": "req_011Hipaa",
    }
    client, seen = mock_client(answers(httpx.Response(400, json=body)))
    with client, pytest.raises(OrganizationNotEligible) as info:
        client.get("/v1/organizations/analytics/cost", stats=CallStats())
    assert isinstance(info.value, InvalidRequest) and len(seen) == 1  # not retried
    assert info.value.error_code == "organization_not_eligible" and info.value.status == 400
    text = str(info.value)
    assert "organization_not_eligible" in text and "HIPAA readiness" in text and "req_011Hipaa" in text
    assert "/v1/organizations/analytics/cost" in text and KEY not in text and KEY[-12:] not in text
    # the same status without the code stays an ordinary invalid request
    plain = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad date"}}
    client, _ = mock_client(answers(httpx.Response(400, json=plain)))
    with client, pytest.raises(InvalidRequest) as info:
        client.get("/v1/organizations/analytics/cost", stats=CallStats())
    assert not isinstance(info.value, OrganizationNotEligible) and info.value.error_code is None

"""Enterprise usage and cost reports (api-reference B8-B12), over real loopback HTTP.

Expected values come from the reference (shapes, limits, errors), from the world itself (users,
discount, clock), from pricing.md (an independent re-pricing of the usage report), from other
endpoints (cross-endpoint totals) and from the ground-truth providers; never from the code under test.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import anthropic
import httpx
import pytest

from simulator.__main__ import build_parser
from simulator.app import Simulator
from simulator.clock import SimClock
from simulator.serve import Running, serve_in_thread
from simulator.truth import truth
from simulator.world import World
from tests.conftest import FIXED_NOW, client_for

BASE = "/v1/organizations/analytics"
BETA = {"anthropic-beta": "analytics-usage-cost-2026-08-24"}
ORG = "acme-enterprise"
D = Decimal
LEGACY_DIMS = {
    "product",
    "model",
    "context_window",
    "inference_geo",
    "speed",
    "rbac_group_id",
    "slack_channel_id",
    "claude_tag_category",
    "claude_tag_user_id",
}
V2_DIMS = {
    "actor",
    "actor_type",
    "agent_id",
    "api_key_id",
    "claude_tag_category",
    "claude_tag_user_id",
    "context_window",
    "deployment_id",
    "environment_id",
    "inference_geo",
    "model",
    "organization_id",
    "product",
    "rbac_group_id",
    "service_tier",
    "session_id",
    "slack_channel_id",
    "speed",
    "user_profile_id",
    "workspace_id",
}
TOKEN_KEYS = ("uncached_input_tokens", "output_tokens", "cache_read_input_tokens")
NOV1, NOV21 = "2026-11-01T00:00:00Z", "2026-11-21T00:00:00Z"


def unlimited_sim(now: datetime = FIXED_NOW, world: str = "demo") -> Simulator:
    """A simulator like the shared demo one, without the 60 requests/minute Enterprise limit."""
    return Simulator(
        World.build(world, 7, rate_limits={"enterprise": 10**6, "console": 10**6}), clock=SimClock(now)
    )


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    with serve_in_thread(unlimited_sim()) as running:
        yield running


@pytest.fixture(scope="module")
def ent(server) -> Iterator[httpx.Client]:
    with client_for(server, ORG) as c:
        yield c


@pytest.fixture(scope="module")
def org(server):
    return server.sim.world.by_slug(ORG)


def get(client: httpx.Client, path: str, params=None, headers=None, status: int = 200) -> dict:
    r = client.get(f"{BASE}/{path}", params=params, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def pull(client: httpx.Client, path: str, params: dict, headers=None) -> list[dict]:
    """Every page of a report, following next_page until has_more is false."""
    pages, page = [], None
    while True:
        body = get(client, path, {**params, **({"page": page} if page else {})}, headers)
        pages.append(body)
        if not body["has_more"]:
            assert body["next_page"] is None
            return pages
        assert body["next_page"]
        page = body["next_page"]


def rows(pages: list[dict]) -> list[dict]:
    return [r for p in pages for r in p["data"]]


def buckets(pages: list[dict]) -> list[dict]:
    return rows(pages)


def cents(s: str) -> D:
    assert isinstance(s, str) and len(s.split(".")[1]) == 6
    return D(s)


def tokens(r: dict) -> tuple[int, ...]:
    c = r["cache_creation"]
    return (
        r["uncached_input_tokens"],
        c["ephemeral_5m_input_tokens"],
        c["ephemeral_1h_input_tokens"],
        r["cache_read_input_tokens"],
        r["output_tokens"],
        r["server_tool_use"]["web_search_requests"],
    )


def add(a, b):
    return tuple(x + y for x, y in zip(a, b, strict=True))


def bucket_totals(pages, *, cost: bool) -> dict[str, tuple]:
    """Per bucket start: (amount, list_amount) or token tuple summed over its rows."""
    out = {}
    for b in buckets(pages):
        if cost:
            out[b["starting_at"]] = (
                sum((cents(r["amount"]) for r in b["results"]), D(0)),
                sum((cents(r["list_amount"]) for r in b["results"]), D(0)),
            )
        else:
            out[b["starting_at"]] = (
                tuple(map(sum, zip(*(tokens(r) for r in b["results"]), strict=True)))
                if b["results"]
                else (0,) * 6
            )
    return out


# -- shapes ----------------------------------------------------------------------------------------


def test_usage_report_envelope_defaults_and_shape(ent, org):
    pages = pull(ent, "usage_report", {"starting_at": "2026-11-10T00:00:00Z"})
    first = pages[0]
    assert set(first) == {"data", "data_refreshed_at", "has_more", "next_page", "organization_id"}
    assert first["data_refreshed_at"] == "2026-11-22T12:00:00Z"  # 4-hourly export at or before the clock
    assert first["organization_id"] == org.analytics_id and org.analytics_id.startswith("org_")
    assert len(first["data"]) == 7 and first["has_more"]  # 1d buckets by default, 7 per page
    days = [b["starting_at"] for b in buckets(pages)]
    # ending_at defaults to now (2026-11-22T12:00Z): every day from the 10th through the partial 22nd
    assert days == [f"2026-11-{d:02d}T00:00:00Z" for d in range(10, 23)]
    for b in buckets(pages):
        assert b["ending_at"] == (datetime.fromisoformat(b["starting_at"]) + timedelta(days=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        assert len(b["results"]) == 1  # ungrouped: one combined row per non-empty bucket
        r = b["results"][0]
        assert set(r) >= LEGACY_DIMS and all(r[d] is None for d in LEGACY_DIMS)
        assert isinstance(r["requests"], int) and r["requests"] > 0
        assert set(r["cache_creation"]) == {"ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens"}
        assert all(isinstance(x, int) and x >= 0 for x in tokens(r))


def test_cost_report_shape_and_requests_null_with_cost_grouping(ent):
    plain = get(
        ent,
        "cost_report",
        {"starting_at": NOV1, "ending_at": "2026-11-03T00:00:00Z", "group_by[]": ["product"]},
    )
    for r in rows([plain])[0]["results"]:
        assert r["currency"] == "USD" and isinstance(r["requests"], int)
        assert r["cost_type"] is None and r["token_type"] is None and r["model"] is None
        # the negotiated discount (code execution within the daily free allowance costs nothing)
        assert cents(r["amount"]) < cents(r["list_amount"]) or r["product"] is None
    products = {r["product"] for b in plain["data"] for r in b["results"]}
    assert {"chat", "claude_code", "claude-tag", None} <= products  # None: code execution
    for group in (["cost_type"], ["token_type"], ["cost_type", "token_type", "model"]):
        body = get(
            ent,
            "cost_report",
            {"starting_at": NOV1, "ending_at": "2026-11-03T00:00:00Z", "group_by[]": group},
        )
        results = [r for b in body["data"] for r in b["results"]]
        assert results and all(r["requests"] is None for r in results)
        assert {r["cost_type"] for r in results} == {"tokens", "web_search", "code_execution"}
        for r in results:
            assert (r["token_type"] is not None) == ("token_type" in group and r["cost_type"] == "tokens")
            if r["cost_type"] == "code_execution":
                assert r["model"] is None and r["product"] is None


def test_buckets_include_empty_ones_and_the_partial_day(ent):
    body = get(
        ent,
        "usage_report",
        {"starting_at": "2026-11-22T00:00:00Z", "ending_at": "2026-11-23T00:00:00Z", "bucket_width": "1h"},
    )
    assert [b["starting_at"][11:13] for b in body["data"]] == [f"{h:02d}" for h in range(24)]
    assert not body["has_more"]
    # nothing after data_refreshed_at (12:00) yet; the morning is there, one row per non-empty bucket
    assert all(b["results"] == [] for b in body["data"][12:])
    assert sum(len(b["results"]) for b in body["data"][:12]) >= 8
    assert all(len(b["results"]) <= 1 for b in body["data"])


@pytest.mark.parametrize(
    ("width", "default", "maximum", "start"),
    [
        ("1d", 7, 31, "2026-10-22T00:00:00Z"),
        ("1h", 24, 168, "2026-11-10T00:00:00Z"),
        ("1m", 60, 256, "2026-11-21T00:00:00Z"),
    ],
)
def test_bucket_limits(ent, width, default, maximum, start):
    params = {"starting_at": start, "bucket_width": width}
    assert len(get(ent, "usage_report", params)["data"]) == default
    assert len(get(ent, "cost_report", {**params, "limit": maximum})["data"]) == maximum
    for bad in (0, maximum + 1):
        err = get(ent, "usage_report", {**params, "limit": bad}, status=400)
        assert (
            err["type"] == "error" and err["error"]["type"] == "invalid_request_error" and err["request_id"]
        )


# -- errors ------------------------------------------------------------------------------------------

ERRORS = [
    ("usage_report", {}),
    ("usage_report", {"starting_at": "2026-11-01T00:00:00"}),  # no time zone
    ("usage_report", {"starting_at": "yesterday"}),
    ("usage_report", {"starting_at": "2025-12-31T00:00:00Z"}),  # before 2026-01-01
    ("usage_report", {"starting_at": "2026-11-23T00:00:00Z"}),  # future
    ("usage_report", {"starting_at": NOV1, "ending_at": "2026-10-31T00:00:00Z"}),  # reversed
    ("cost_report", {"starting_at": NOV1, "ending_at": NOV1}),  # empty
    (
        "cost_report",
        {"starting_at": "2026-10-01T00:00:00Z", "ending_at": "2026-11-01T00:00:01Z"},
    ),  # > 31 days
    ("usage_report", {"starting_at": NOV1, "bucket_width": "1w"}),
    ("usage_report", {"starting_at": NOV1, "group_by[]": "cost_type"}),  # cost-only dimension
    ("cost_report", {"starting_at": NOV1, "group_by[]": "workspace_id"}),
    ("usage_report", {"starting_at": NOV1, "products[]": "claude_console"}),
    ("usage_report", {"starting_at": NOV1, "inference_geos[]": "eu"}),
    ("usage_report", {"starting_at": NOV1, "speeds[]": "turbo"}),
    ("usage_report", {"starting_at": NOV1, "context_windows[]": "1M"}),
    ("usage_report", {"starting_at": NOV1, "claude_tag_categories[]": "channel"}),
    ("usage_report", {"starting_at": NOV1, "group_by[]": "claude_tag_user_id", "rbac_group_ids[]": "x"}),
    ("usage_report", {"starting_at": NOV1, "limit": "ten"}),
    ("user_usage_report", {"starting_at": NOV1, "limit": 1001}),
    ("user_usage_report", {"starting_at": NOV1, "limit": 0}),
    ("user_usage_report", {"starting_at": NOV1, "order_by": "amount"}),
    ("user_cost_report", {"starting_at": NOV1, "order_by": "total_tokens"}),
    ("user_cost_report", {"starting_at": NOV1, "order": "up"}),
    ("user_usage_report", {"starting_at": NOV1, "bucket_width": "1d"}),  # ending_at required
    ("user_cost_report", {"starting_at": NOV1, "ending_at": "2026-11-02T00:00:01Z", "bucket_width": "1m"}),
    ("user_usage_report", {"starting_at": NOV1, "exclude_deleted_users": "maybe"}),
    ("user_usage_report", {"starting_at": NOV1, "page": "page_not-a-cursor"}),
]


@pytest.mark.parametrize(("path", "params"), ERRORS)
def test_parameter_errors(ent, path, params):
    err = get(ent, path, params, status=400)
    assert (
        err["type"] == "error" and err["error"]["type"] == "invalid_request_error" and err["error"]["message"]
    )


V2_ERRORS = [
    ("usage", {"starting_at": NOV1}, {}),  # no beta header
    ("cost", {"starting_at": NOV1}, {"anthropic-beta": "some-other-beta"}),
    (
        "usage",
        {
            "starting_at": NOV1,
            "group_by[]": ["actor", "model", "product", "speed", "context_window", "inference_geo"],
        },
        BETA,
    ),  # 6 dimensions
    ("usage", {"starting_at": NOV1, "group_by[]": "cost_type"}, BETA),
    ("usage", {"starting_at": NOV1, "time_bucket_width": "1d"}, BETA),  # ending_at required
    ("cost", {"starting_at": NOV1, "ending_at": "2026-11-02T01:00:00Z", "time_bucket_width": "1m"}, BETA),
    ("usage", {"starting_at": NOV1, "exclude_deleted_users": "true"}, BETA),  # needs group_by[]=actor
    ("cost", {"starting_at": NOV1, "order_by": "total_tokens"}, BETA),
    ("usage", {"starting_at": NOV1, "actor_types[]": "robot"}, BETA),
    ("usage", {"starting_at": NOV1, "products[]": "claude-tag"}, BETA),  # the beta spells it claude_tag
    ("usage", {"starting_at": NOV1, "limit": 1001}, BETA),
    ("cost", {"starting_at": "2025-12-01T00:00:00Z"}, BETA),
]


@pytest.mark.parametrize(("path", "params", "headers"), V2_ERRORS)
def test_beta_parameter_errors(ent, path, params, headers):
    assert get(ent, path, params, headers, status=400)["error"]["type"] == "invalid_request_error"


def test_key_types(server, ent):
    with client_for(server, "acme-console") as admin:
        for path in ("usage_report", "cost_report", "user_usage_report", "user_cost_report"):
            assert get(admin, path, {"starting_at": NOV1}, status=403)["error"]["type"] == "permission_error"
        # the beta endpoints accept an Admin key, and then report the Console organization's own usage,
        # billed exactly as its Console cost report bills it
        window = {"starting_at": NOV1, "ending_at": "2026-11-08T00:00:00Z"}
        body = get(admin, "cost", window, BETA)
        assert len(body["data"]) == 1 and body["has_more"] is False and body["data_refreshed_at"]
        console = admin.get("/v1/organizations/cost_report", params={**window, "limit": 31}).json()
        billed = sum((cents(r["amount"]) for b in console["data"] for r in b["results"]), D(0))
        assert billed > 0 and cents(body["data"][0]["cost"]["amount"]) == billed
        by_key = rows(
            pull(admin, "usage", {**window, "group_by[]": ["actor", "workspace_id"], "limit": 100}, BETA)
        )
        assert {r["group"]["actor"]["type"] for r in by_key if r["group"]["actor"]} >= {
            "api_actor",
            "user_actor",
        }
        assert all(r["group"]["workspace_id"].startswith("wrkspc_") for r in by_key)
        get(admin, "cost", {"starting_at": NOV1}, status=400)  # ...still with the beta header
    both = get(
        ent, "usage", {"starting_at": NOV1}, {"anthropic-beta": f"foo-2026-01-01, {BETA['anthropic-beta']}"}
    )
    assert len(both["data"]) == 1


def test_beta_reports_for_a_console_organization(server):
    with client_for(server, "acme-console") as admin:
        day = {"starting_at": "2026-11-03T00:00:00Z", "ending_at": "2026-11-04T00:00:00Z"}
        whole = get(admin, "cost", day, BETA)["data"][0]["cost"]
        hourly = rows(pull(admin, "cost", {**day, "time_bucket_width": "1h", "limit": 1000}, BETA))
        assert len({r["starting_at"] for r in hourly}) == 24
        assert sum((cents(r["cost"]["amount"]) for r in hourly), D(0)) == cents(whole["amount"])
        assert sum((cents(r["cost"]["list_amount"]) for r in hourly), D(0)) == cents(whole["list_amount"])
        hour = {"starting_at": "2026-11-03T14:00:00Z", "ending_at": "2026-11-03T15:00:00Z"}
        minutes = rows(pull(admin, "usage", {**hour, "time_bucket_width": "1m", "limit": 1000}, BETA))
        one = get(admin, "usage", hour, BETA)["data"][0]["usage"]
        assert sum(r["usage"]["total_tokens"] for r in minutes) == one["total_tokens"] > 0
        assert one["requests"] is None  # the Console records carry no request counts
        by_actor = rows(pull(admin, "usage", {**day, "group_by[]": ["actor_type"], "limit": 100}, BETA))
        keyless = get(admin, "usage", {**day, "api_key_ids[]": ""}, BETA)["data"][0]["usage"]["total_tokens"]
        assert keyless == sum(
            r["usage"]["total_tokens"]
            for r in by_actor
            if r["group"]["actor_type"] in ("user_actor", "service_account_actor")
        )
        month = {"starting_at": NOV1, "ending_at": NOV21, "group_by[]": ["service_tier"], "limit": 100}
        used = {r["group"]["service_tier"] for r in rows(pull(admin, "usage", month, BETA))}
        billed = {r["group"]["service_tier"] for r in rows(pull(admin, "cost", month, BETA))}
        assert "priority" in used and billed == used - {"priority"} | {None}  # priority: billed elsewhere
        assert (
            get(admin, "usage", {**day, "rbac_group_ids[]": "rbac_group_01x", "group_by[]": "model"}, BETA)[
                "data"
            ]
            == []
        )


def test_lookback_is_365_days():
    with (
        serve_in_thread(unlimited_sim(datetime(2027, 3, 1, 12, tzinfo=UTC))) as srv,
        client_for(srv, ORG) as c,
    ):
        get(c, "usage_report", {"starting_at": "2026-02-28T00:00:00Z"}, status=400)
        get(c, "usage", {"starting_at": "2026-02-28T00:00:00Z"}, BETA, status=400)
        ok = get(c, "usage_report", {"starting_at": "2026-03-02T00:00:00Z"})
        assert len(ok["data"]) == 7 and ok["data_refreshed_at"] == "2027-03-01T12:00:00Z"


# -- pagination and cursors -------------------------------------------------------------------------


def test_user_report_pagination_is_complete(ent):
    params = {"starting_at": NOV1, "ending_at": "2026-11-15T00:00:00Z", "group_by[]": ["product"]}
    small = pull(ent, "user_usage_report", {**params, "limit": 17})
    whole = pull(ent, "user_usage_report", {**params, "limit": 1000})
    assert len(whole) == 1 and rows(small) == rows(whole)
    n = len(rows(whole))
    assert n > 100 and len(small) == math.ceil(n / 17)
    assert all(len(p["data"]) == 17 for p in small[:-1])
    keys = [(r["actor"]["user_id"], r["product"]) for r in rows(whole)]
    assert len(keys) == len(set(keys))
    assert len(get(ent, "user_usage_report", {"starting_at": NOV1})["data"]) == 20  # default limit


def test_bucket_pagination(ent):
    pages = pull(
        ent,
        "cost_report",
        {
            "starting_at": "2026-11-18T00:00:00Z",
            "ending_at": "2026-11-21T00:00:00Z",
            "bucket_width": "1h",
            "limit": 24,
            "group_by[]": ["product"],
        },
    )
    starts = [b["starting_at"] for b in buckets(pages)]
    assert len(pages) == 3 and len(starts) == 72
    expected = [datetime(2026, 11, 18, tzinfo=UTC) + timedelta(hours=h) for h in range(72)]
    assert starts == [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in expected]


def test_cursor_is_bound_to_the_query(ent):
    params = {"starting_at": NOV1, "ending_at": NOV21, "limit": 5, "group_by[]": ["model"]}
    first = get(ent, "user_cost_report", params)
    cursor = first["next_page"]
    assert get(ent, "user_cost_report", {**params, "page": cursor})["data"][0] != first["data"][0]
    assert get(ent, "user_cost_report", {**params, "limit": 50, "page": cursor})["data"]  # limit may change
    for changed in (
        {"group_by[]": ["product"]},
        {"order": "asc"},
        {"ending_at": "2026-11-20T00:00:00Z"},
        {"products[]": "chat"},
    ):
        err = get(ent, "user_cost_report", {**params, **changed, "page": cursor}, status=400)
        assert err["error"]["type"] == "invalid_request_error"


def test_cursor_expires_after_a_refresh():
    sim = unlimited_sim()
    with serve_in_thread(sim) as srv, client_for(srv, ORG) as c:
        for path, params, headers in (
            ("user_usage_report", {"starting_at": NOV1, "limit": 3}, None),
            ("usage_report", {"starting_at": NOV1, "limit": 2}, None),
            ("cost", {"starting_at": NOV1, "limit": 2, "group_by[]": "actor"}, BETA),
        ):
            first = get(c, path, params, headers)
            sim.clock.advance(4 * 3600)  # next 4-hourly export
            gone = get(c, path, {**params, "page": first["next_page"]}, headers, status=410)
            assert gone["type"] == "error" and "refresh" in gone["error"]["message"]
            again = get(c, path, params, headers)
            assert again["data_refreshed_at"] > first["data_refreshed_at"]


def test_responses_are_deterministic():
    requests = [
        (
            "user_cost_report",
            {"starting_at": "2026-10-25T00:00:00Z", "group_by[]": ["product", "token_type"], "limit": 50},
            None,
        ),
        (
            "cost_report",
            {
                "starting_at": "2026-11-19T00:00:00Z",
                "bucket_width": "1h",
                "limit": 48,
                "group_by[]": ["model", "rbac_group_id"],
            },
            None,
        ),
        (
            "usage",
            {
                "starting_at": "2026-10-25T00:00:00Z",
                "group_by[]": ["actor", "slack_channel_id"],
                "limit": 200,
            },
            BETA,
        ),
    ]
    bodies = []
    for _ in range(2):
        with serve_in_thread(unlimited_sim()) as srv, client_for(srv, ORG) as c:
            bodies.append([c.get(f"{BASE}/{p}", params=q, headers=h).content for p, q, h in requests])
    assert bodies[0] == bodies[1] and all(len(b) > 1000 for b in bodies[0])


# -- consistency ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "group",
    [
        ["product"],
        ["model", "context_window"],
        ["inference_geo", "speed"],
        ["cost_type"],
        ["token_type"],
        ["slack_channel_id", "claude_tag_category"],
        ["claude_tag_user_id"],
    ],
)
def test_grouped_totals_equal_ungrouped(ent, group):
    params = {"starting_at": NOV1, "ending_at": NOV21, "limit": 31}
    total = bucket_totals([get(ent, "cost_report", params)], cost=True)
    grouped = bucket_totals([get(ent, "cost_report", {**params, "group_by[]": group})], cost=True)
    assert grouped == total and len(total) == 20
    if "cost_type" not in group and "token_type" not in group:
        usage = bucket_totals([get(ent, "usage_report", params)], cost=False)
        assert bucket_totals([get(ent, "usage_report", {**params, "group_by[]": group})], cost=False) == usage


def test_hourly_and_minute_buckets_sum_to_their_day(ent):
    day = {"starting_at": "2026-11-20T00:00:00Z", "ending_at": "2026-11-21T00:00:00Z"}
    for path, cost in (("usage_report", False), ("cost_report", True)):
        daily = bucket_totals([get(ent, path, day)], cost=cost)["2026-11-20T00:00:00Z"]
        hourly = bucket_totals([get(ent, path, {**day, "bucket_width": "1h"})], cost=cost)
        assert len(hourly) == 24
        assert tuple(map(sum, zip(*hourly.values(), strict=True))) == daily
        hour = {"starting_at": "2026-11-20T14:00:00Z", "ending_at": "2026-11-20T15:00:00Z"}
        minutes = bucket_totals([get(ent, path, {**hour, "bucket_width": "1m"})], cost=cost)
        assert len(minutes) == 60
        assert tuple(map(sum, zip(*minutes.values(), strict=True))) == hourly["2026-11-20T14:00:00Z"]


def test_per_user_cost_is_below_org_total_by_exactly_the_non_user_lines(ent):
    window = {"starting_at": NOV1, "ending_at": NOV21}
    org_total = bucket_totals([get(ent, "cost_report", {**window, "limit": 31})], cost=True)
    org_amount = sum((a for a, _ in org_total.values()), D(0))
    org_list = sum((lst for _, lst in org_total.values()), D(0))
    users = rows(pull(ent, "user_cost_report", {**window, "limit": 1000}))
    user_amount = sum((cents(r["amount"]) for r in users), D(0))
    user_list = sum((cents(r["list_amount"]) for r in users), D(0))
    by_actor = rows(pull(ent, "cost", {**window, "group_by[]": "actor", "limit": 1000}, BETA))
    non_user = [r for r in by_actor if r["group"]["actor"] is None]
    assert len(non_user) == 1 and len(by_actor) == len(users) + 1
    assert user_amount < org_amount and user_list < org_list
    assert org_amount - user_amount == cents(non_user[0]["cost"]["amount"])
    assert org_list - user_list == cents(non_user[0]["cost"]["list_amount"])
    # the gap holds code execution (product null) and usage no seat user is accountable for
    products = get(ent, "cost_report", {**window, "limit": 31, "group_by[]": "product"})
    code_exec = sum(
        (cents(r["amount"]) for b in products["data"] for r in b["results"] if r["product"] is None), D(0)
    )
    assert D(0) < code_exec < org_amount - user_amount
    # the per-user usage report covers the same seat users' tokens as the beta report's user actors
    usage_users = rows(pull(ent, "user_usage_report", {**window, "limit": 1000}))
    beta_users = [
        r
        for r in rows(pull(ent, "usage", {**window, "group_by[]": "actor", "limit": 1000}, BETA))
        if r["group"]["actor"]
    ]
    assert sum(r["total_tokens"] for r in usage_users) == sum(r["usage"]["total_tokens"] for r in beta_users)


def test_amounts_equal_the_ground_truth(ent, server, org):
    sim = server.sim
    start, end = date(2026, 11, 1), date(2026, 11, 21)
    window = {"starting_at": NOV1, "ending_at": NOV21, "limit": 31}
    cost = truth(sim, ORG, "enterprise_cost", start, end)
    assert cost["as_of"] == "2026-11-22T12:00:00Z" and D(cost["discount"]) == org.discount
    api = bucket_totals([get(ent, "cost_report", window)], cost=True)
    assert len(cost["days"]) == len(api) == 20
    for day in cost["days"]:
        amount, list_amount = api[f"{day['date']}T00:00:00Z"]
        assert D(day["amount_usd"]) == amount / 100 and D(day["list_amount_usd"]) == list_amount / 100
    by_product = get(ent, "cost_report", {**window, "group_by[]": "product"})
    for b, day in zip(by_product["data"], cost["days"], strict=True):
        assert {r["product"]: cents(r["amount"]) / 100 for r in b["results"]} == {
            p["product"]: D(p["amount_usd"]) for p in day["by_product"]
        }
    usage = truth(sim, ORG, "enterprise_usage", start, end)
    api_tokens = bucket_totals([get(ent, "usage_report", window)], cost=False)
    for day in usage["days"]:
        t = api_tokens[f"{day['date']}T00:00:00Z"]
        assert (t[0], t[1], t[2], t[3], t[4], t[5]) == (
            day["uncached_input_tokens"],
            day["cache_creation.ephemeral_5m_input_tokens"],
            day["cache_creation.ephemeral_1h_input_tokens"],
            day["cache_read_input_tokens"],
            day["output_tokens"],
            day["web_search_requests"],
        )
    user_truth = truth(sim, ORG, "enterprise_user_cost", start, end)
    api_users = {
        r["actor"]["user_id"]: (cents(r["amount"]), cents(r["list_amount"]))
        for r in rows(pull(ent, "user_cost_report", {"starting_at": NOV1, "ending_at": NOV21, "limit": 1000}))
    }
    assert {
        u["user_id"]: (D(u["amount_usd"]) * 100, D(u["list_amount_usd"]) * 100) for u in user_truth["users"]
    } == api_users
    for day in user_truth["days"]:
        assert D(day["org_amount_usd"]) - D(day["users_amount_usd"]) == D(day["non_user_amount_usd"]) > 0


# pricing.md list prices (USD per MTok): input, output, cache read; 5m write 1.25x, 1h write 2x input
PRICES = {
    "claude-sonnet-4-5": ("3", "15", "0.30"),
    "claude-haiku-4-5": ("1", "5", "0.10"),
    "claude-opus-4-6": ("5", "25", "0.50"),
    "claude-sonnet-4-6": ("3", "15", "0.30"),
    "claude-opus-4-5": ("5", "25", "0.50"),
}


def list_microcents(
    model: str, row: dict, context_window: str | None, geo: str | None, speed: str | None
) -> D:
    inp, out, read = (D(x) for x in PRICES[model])
    per_type = {"in": inp, "5m": inp * D("1.25"), "1h": inp * 2, "read": read, "out": out}
    if context_window == "200k-1M" and model == "claude-sonnet-4-5":  # long-context surcharge
        per_type = {k: v * (D("1.5") if k == "out" else 2) for k, v in per_type.items()}
    if speed == "fast" and model in ("claude-opus-4-6", "claude-opus-4-7"):
        per_type = {k: v * 6 for k, v in per_type.items()}
    if geo == "us":
        per_type = {k: v * D("1.1") for k, v in per_type.items()}
    t = tokens(row)
    usd_per_mtok = sum(
        (n * per_type[k] for n, k in zip(t[:5], ("in", "5m", "1h", "read", "out"), strict=True)), D(0)
    )
    return usd_per_mtok * 100 + t[5] * 1_000_000  # 1e-6 USD/token = 100 micro-cents; 1 cent per search


def test_cost_is_usage_times_the_price_list_less_the_discount(ent, org):
    params = {
        "starting_at": "2026-11-16T00:00:00Z",
        "ending_at": NOV21,
        "group_by[]": ["model", "context_window", "inference_geo", "speed"],
    }
    usage = get(ent, "usage_report", params)
    cost = get(ent, "cost_report", params)
    kept = 1 - org.discount
    checked = 0
    for ub, cb in zip(usage["data"], cost["data"], strict=True):
        key = ("model", "context_window", "inference_geo", "speed")
        by_key = {tuple(r[k] for k in key): r for r in cb["results"]}
        assert len(by_key) == len(cb["results"]) == len(ub["results"])
        for u in ub["results"]:
            c = by_key[tuple(u[k] for k in key)]
            assert c["requests"] == u["requests"]
            list_mc, amount_mc = cents(c["list_amount"]) * 1_000_000, cents(c["amount"]) * 1_000_000
            if u["model"] is None:  # code execution: billed, no tokens
                assert tokens(u) == (0,) * 6 and list_mc >= 0
                continue
            day = ub["starting_at"][:10]
            expected = list_microcents(u["model"], u, u["context_window"], u["inference_geo"], u["speed"])
            # at most half a micro-cent of rounding per fine record and component; records <= requests
            assert abs(list_mc - expected) <= 3 * u["requests"], (day, u["model"], list_mc, expected)
            assert abs(amount_mc - list_mc * kept) <= 4 * u["requests"]
            assert amount_mc < list_mc
            checked += 1
    assert checked >= 20


def test_revisions_change_only_unsettled_days():
    sim = unlimited_sim()
    window = {"starting_at": "2026-10-15T00:00:00Z", "ending_at": "2026-11-15T00:00:00Z", "limit": 31}
    with serve_in_thread(sim) as srv, client_for(srv, ORG) as c:
        before = bucket_totals([get(c, "cost_report", window)], cost=True)
        before_tokens = bucket_totals([get(c, "usage_report", window)], cost=False)
        today_before = get(c, "usage_report", {"starting_at": "2026-11-22T00:00:00Z"})["data"][0]["results"][
            0
        ]
        sim.clock.advance(2 * 86_400)  # 12 exports later
        after = bucket_totals([get(c, "cost_report", window)], cost=True)
        after_tokens = bucket_totals([get(c, "usage_report", window)], cost=False)
        today_after = get(c, "usage_report", {"starting_at": "2026-11-22T00:00:00Z"})["data"][0]["results"][0]
    old_refresh, new_refresh = datetime(2026, 11, 22, 12, tzinfo=UTC), datetime(2026, 11, 24, 12, tzinfo=UTC)

    def settled(day: str, refresh: datetime) -> bool:  # the day ended at least revision_days before
        return datetime.fromisoformat(day) + timedelta(days=1 + sim.revision_days) <= refresh

    changed = []
    for day in before:
        if settled(day, old_refresh):
            assert before[day] == after[day] and before_tokens[day] == after_tokens[day], day
        else:
            assert after[day][0] >= before[day][0] and after[day][1] >= before[day][1]  # late usage fills in
            assert all(a >= b for a, b in zip(after_tokens[day], before_tokens[day], strict=True))
            changed += [day] if after[day] != before[day] else []
    assert sum(settled(d, old_refresh) for d in before) == 8  # Oct 15..22
    assert len(changed) >= 5  # revisions are the rule inside the window...
    growth = [after[d][0] / before[d][0] - 1 for d in changed]
    assert max(growth) < D("0.25")  # ...and small
    assert tokens(today_after)[4] > tokens(today_before)[4]  # the partial day completes
    final = truth(sim, ORG, "enterprise_cost", date(2026, 10, 15), date(2026, 11, 15), as_of="final")["days"]
    for day in final:
        key = f"{day['date']}T00:00:00Z"
        if settled(key, new_refresh):  # converged to the final value
            assert D(day["amount_usd"]) * 100 == after[key][0]
        else:
            assert D(day["amount_usd"]) * 100 >= after[key][0]


def test_top_100_groups_per_bucket_without_remainder(ent):
    window = {"starting_at": "2026-11-20T00:00:00Z", "ending_at": NOV21}
    group = ["product", "model", "rbac_group_id", "token_type"]
    capped = get(ent, "cost_report", {**window, "group_by[]": group})["data"][0]["results"]
    everything = rows(pull(ent, "cost", {**window, "group_by[]": group, "limit": 1000}, BETA))
    assert len(everything) > 100 and len(capped) == 100
    all_amounts = sorted((cents(r["cost"]["amount"]) for r in everything), reverse=True)
    assert [cents(r["amount"]) for r in capped] == all_amounts[:100]  # the top 100, highest first
    assert sum((cents(r["amount"]) for r in capped), D(0)) < sum(all_amounts, D(0))  # no remainder row


def test_rbac_groups_overlap_and_filter(ent, server):
    window = {"starting_at": "2026-11-16T00:00:00Z", "ending_at": NOV21, "limit": 31}
    total = bucket_totals([get(ent, "usage_report", window)], cost=False)
    grouped = get(ent, "usage_report", {**window, "group_by[]": "rbac_group_id"})
    groups = server.sim.data(server.sim.world.by_slug(ORG), "activity").rbac_group_ids
    named_sum = defaultdict(lambda: (0,) * 6)
    for b in grouped["data"]:
        for r in b["results"]:
            assert r["rbac_group_id"] is None or r["rbac_group_id"] in groups
            if r["rbac_group_id"]:
                named_sum[b["starting_at"]] = add(named_sum[b["starting_at"]], tokens(r))
    assert any(named_sum[d][4] > 0 for d in total)
    g = groups[0]
    only = bucket_totals([get(ent, "usage_report", {**window, "rbac_group_ids[]": g})], cost=False)
    rows_g = {
        b["starting_at"]: tokens(r) for b in grouped["data"] for r in b["results"] if r["rbac_group_id"] == g
    }
    assert {d: t for d, t in only.items() if t != (0,) * 6} == rows_g
    bare = bucket_totals(
        [get(ent, "usage_report", {**window, "rbac_group_ids[]": g.removeprefix("rbac_group_")})], cost=False
    )
    assert bare == only


def test_filters_match_their_grouped_rows(ent, server):
    window = {"starting_at": "2026-11-16T00:00:00Z", "ending_at": NOV21, "limit": 31}

    def grouped_row(dim: str, value) -> dict:
        body = get(ent, "usage_report", {**window, "group_by[]": dim})
        out = {}
        for b in body["data"]:
            hit = [tokens(r) for r in b["results"] if r[dim] == value]
            if hit:
                out[b["starting_at"]] = hit[0]
        return out

    def filtered(**f) -> dict:
        return {
            d: t
            for d, t in bucket_totals([get(ent, "usage_report", {**window, **f})], cost=False).items()
            if t != (0,) * 6
        }

    assert filtered(**{"products[]": "claude_code"}) == grouped_row("product", "claude_code")
    tag = grouped_row("product", "claude-tag")
    assert tag and filtered(**{"products[]": "claude-tag"}) == tag == filtered(
        **{"products[]": "claude-in-slack"}
    )
    assert filtered(**{"inference_geos[]": "not_available"}) == grouped_row("inference_geo", None)
    assert filtered(**{"models[]": "claude-haiku-4-5"}) == grouped_row("model", "claude-haiku-4-5")
    assert filtered(**{"speeds[]": "fast"}) == grouped_row("speed", "fast")
    channels = get(ent, "usage_report", {**window, "group_by[]": "slack_channel_id"})
    channel = next(
        r["slack_channel_id"] for b in channels["data"] for r in b["results"] if r["slack_channel_id"]
    )
    assert channel.startswith("C") and filtered(**{"slack_channel_ids[]": channel}) == grouped_row(
        "slack_channel_id", channel
    )
    assert filtered(**{"models[]": "claude-nonexistent-9"}) == {}
    # user_ids[] on the org report selects exactly that user's per-user row
    top = get(
        ent, "user_usage_report", {"starting_at": "2026-11-16T00:00:00Z", "ending_at": NOV21, "limit": 1}
    )["data"][0]
    mine = filtered(**{"user_ids[]": top["actor"]["user_id"]})
    assert tuple(map(sum, zip(*mine.values(), strict=True))) == tokens(top)


# -- per-user reports ---------------------------------------------------------------------------------


def test_user_rows_order_and_actor(ent, org):
    window = {"starting_at": NOV1, "ending_at": NOV21, "limit": 1000}
    desc = get(ent, "user_usage_report", window)["data"]
    assert [r["total_tokens"] for r in desc] == sorted((r["total_tokens"] for r in desc), reverse=True)
    for r in desc:
        assert r["total_tokens"] == sum(tokens(r)[:5])
        assert r["starting_at"] is None and r["ending_at"] is None and all(r[d] is None for d in LEGACY_DIMS)
    users = {u.id: u for u in org.users}
    actor = desc[0]["actor"]
    user = users[actor["user_id"]]
    assert actor == {
        "type": "user_actor",
        "user_id": user.id,
        "email": user.email,
        "email_address": user.email,
        "name": user.name,
        "deleted": False,
    }
    asc = get(ent, "user_usage_report", {**window, "order_by": "output_tokens", "order": "asc"})["data"]
    assert [r["output_tokens"] for r in asc] == sorted(r["output_tokens"] for r in asc)
    costs = get(ent, "user_cost_report", {**window, "order_by": "list_amount"})["data"]
    assert [cents(r["list_amount"]) for r in costs] == sorted(
        (cents(r["list_amount"]) for r in costs), reverse=True
    )
    assert {r["actor"]["user_id"] for r in costs} == {r["actor"]["user_id"] for r in desc}


def test_deleted_users(ent, org):
    removed = [u for u in org.users if u.removed and date(2026, 2, 15) <= u.removed <= date(2026, 11, 15)]
    assert removed
    for user in removed:
        start = max(user.removed - timedelta(days=30), date(2026, 1, 1))
        params = {
            "starting_at": f"{start}T00:00:00Z",
            "ending_at": f"{user.removed}T00:00:00Z",
            "limit": 1000,
        }
        data = get(ent, "user_usage_report", params)["data"]
        mine = [r for r in data if r["actor"]["user_id"] == user.id]
        if mine:
            break
    else:
        pytest.fail("no removed user has usage before leaving")
    assert mine[0]["actor"] == {
        "type": "user_actor",
        "user_id": user.id,
        "email": None,
        "email_address": None,
        "name": "Deleted User",
        "deleted": True,
    }
    kept = get(ent, "user_usage_report", {**params, "exclude_deleted_users": "true"})["data"]
    assert kept == [r for r in data if not r["actor"]["deleted"]] and len(kept) < len(data)


def test_cost_fan_out_rows_do_not_count_toward_limit(ent):
    window = {"starting_at": NOV1, "ending_at": NOV21}
    plain = get(ent, "user_cost_report", {**window, "limit": 5})["data"]
    fan = get(ent, "user_cost_report", {**window, "limit": 5, "group_by[]": "token_type"})["data"]
    actors = [r["actor"]["user_id"] for r in fan]
    assert len(fan) > 5 and list(dict.fromkeys(actors)) == [r["actor"]["user_id"] for r in plain]
    assert all(
        actors[i] == actors[i - 1] or actors[i] not in actors[:i] for i in range(1, len(actors))
    )  # adjacent
    for r in plain:
        parts = [f for f in fan if f["actor"]["user_id"] == r["actor"]["user_id"]]
        assert all(p["requests"] is None and p["cost_type"] in ("tokens", "web_search") for p in parts)
        assert all((p["token_type"] is None) == (p["cost_type"] != "tokens") for p in parts)
        assert sum((cents(p["amount"]) for p in parts), D(0)) == cents(r["amount"])
    assert len(pull(ent, "user_cost_report", {**window, "limit": 40, "group_by[]": "cost_type"})) == len(
        pull(ent, "user_cost_report", {**window, "limit": 40})
    )


def test_user_report_buckets(ent):
    params = {
        "starting_at": "2026-11-18T00:00:00Z",
        "ending_at": "2026-11-21T00:00:00Z",
        "bucket_width": "1d",
        "limit": 1000,
    }
    data = rows(pull(ent, "user_usage_report", params))
    assert {r["starting_at"] for r in data} == {f"2026-11-{d}T00:00:00Z" for d in (18, 19, 20)}
    whole = get(ent, "user_usage_report", {k: v for k, v in params.items() if k != "bucket_width"})["data"]
    per_user = Counter()
    for r in data:
        assert r["ending_at"][:10] == str(date.fromisoformat(r["starting_at"][:10]) + timedelta(days=1))
        per_user[r["actor"]["user_id"]] += r["total_tokens"]
    assert per_user == Counter({r["actor"]["user_id"]: r["total_tokens"] for r in whole})
    hourly = get(
        ent,
        "user_cost_report",
        {"starting_at": "2026-11-20T00:00:00Z", "ending_at": NOV21, "bucket_width": "1m", "limit": 10},
    )["data"]
    assert all(r["starting_at"][17:] == "00Z" and r["starting_at"] < r["ending_at"] for r in hourly)


# -- beta usage and cost --------------------------------------------------------------------------------


def test_beta_rows(ent, org):
    one = get(
        ent, "usage", {"starting_at": "2026-11-01T10:30:00Z", "ending_at": "2026-11-20T18:45:00Z"}, BETA
    )
    assert len(one["data"]) == 1 and not one["has_more"]
    row = one["data"][0]
    assert row["starting_at"] == "2026-11-01T10:00:00Z" and row["ending_at"] == "2026-11-20T18:00:00Z"
    assert set(row["group"]) == V2_DIMS and all(v is None for v in row["group"].values())
    assert {"total_tokens", "requests", "cache_creation", "server_tool_use"} <= set(row["usage"])
    assert row["usage"]["total_tokens"] == sum(tokens(row["usage"])[:5])

    grouped = rows(
        pull(
            ent,
            "usage",
            {
                "starting_at": NOV1,
                "ending_at": NOV21,
                "limit": 1000,
                "group_by[]": ["product", "organization_id", "actor_type"],
            },
            BETA,
        )
    )
    assert {r["group"]["organization_id"] for r in grouped} == {org.uuid}
    assert "claude_tag" in {r["group"]["product"] for r in grouped}
    assert {r["group"]["actor_type"] for r in grouped} == {"user_actor", None}
    assert [r["usage"]["total_tokens"] for r in grouped] == sorted(
        (r["usage"]["total_tokens"] for r in grouped), reverse=True
    )
    # an Enterprise organization's only workspace is its default one, whose usage has workspace_id null
    other_workspace = {"workspace_ids[]": "wrkspc_01x"}
    nothing = get(ent, "usage", {"starting_at": NOV1, **other_workspace}, BETA)["data"]
    assert len(nothing) == 1 and nothing[0]["usage"]["total_tokens"] == nothing[0]["usage"]["requests"] == 0
    assert (
        get(ent, "usage", {"starting_at": NOV1, "group_by[]": "model", **other_workspace}, BETA)["data"] == []
    )
    keyless = get(ent, "usage", {"starting_at": NOV1, "api_key_ids[]": ""}, BETA)["data"]
    assert keyless == get(ent, "usage", {"starting_at": NOV1}, BETA)["data"]
    tag = get(ent, "usage", {"starting_at": NOV1, "ending_at": NOV21, "products[]": "claude_tag"}, BETA)[
        "data"
    ][0]
    assert tag["usage"]["total_tokens"] == sum(
        r["usage"]["total_tokens"] for r in grouped if r["group"]["product"] == "claude_tag"
    )


@pytest.mark.parametrize("report", ["usage", "cost"])
def test_beta_enterprise_usage_carries_its_service_tier(ent, report):
    """SDK 2.13 removed "Claude Platform organizations only" from ``service_tier`` (reference B13): an
    Enterprise organization's rows carry the tier its seat usage is served on (standard), and the
    ``service_tiers[]`` filter selects by it like any other."""
    month = {"starting_at": NOV1, "ending_at": NOV21, "limit": 1000}
    metric = "total_tokens" if report == "usage" else "amount"

    def total(data: list[dict]) -> D:
        return sum((D(r[report][metric]) for r in data), D(0))

    whole = rows(pull(ent, report, {**month, "group_by[]": "model"}, BETA))
    by_tier = rows(pull(ent, report, {**month, "group_by[]": ["model", "service_tier"]}, BETA))
    assert {r["group"]["service_tier"] for r in by_tier} == {"standard"}
    assert total(by_tier) == total(whole) > 0
    standard = rows(pull(ent, report, {**month, "group_by[]": "model", "service_tiers[]": "standard"}, BETA))
    assert standard == whole
    for other in ("priority", "batch"):
        filtered = {**month, "service_tiers[]": [other, "flex"]}
        assert rows(pull(ent, report, {**filtered, "group_by[]": "model"}, BETA)) == []
        (only,) = get(ent, report, filtered, BETA)["data"]  # ungrouped: always the one row, empty
        assert total([only]) == 0


@pytest.mark.bad_input
def test_beta_enterprise_refuses_an_unknown_service_tier(ent):
    body = get(ent, "usage", {"starting_at": NOV1, "service_tiers[]": "gold"}, BETA, status=400)
    assert "service_tiers" in body["error"]["message"] and "gold" in body["error"]["message"]


def test_beta_time_buckets_and_every_combination(ent):
    params = {
        "starting_at": "2026-11-18T00:00:00Z",
        "ending_at": NOV21,
        "time_bucket_width": "1d",
        "group_by[]": ["model", "cost_type"],
        "order_by": "time",
        "limit": 4,
    }
    data = rows(pull(ent, "cost", params, BETA))
    days = [r["starting_at"] for r in data]
    assert days == sorted(days, reverse=True) and len(set(days)) == 3  # newest first by default
    units = [(r["starting_at"], r["group"]["model"]) for r in data]
    for day in set(days):
        # the cost_type rows of a model stay adjacent and rank as one unit, by the model's whole amount
        # (api-reference.md B11: fan-out rows "stay adjacent/ranked as one unit")
        models = list(dict.fromkeys(r["group"]["model"] for r in data if r["starting_at"] == day))
        whole = {
            m: sum(
                (
                    cents(r["cost"]["amount"])
                    for r in data
                    if (r["starting_at"], r["group"]["model"]) == (day, m)
                ),
                D(0),
            )
            for m in models
        }
        assert [whole[m] for m in models] == sorted(whole.values(), reverse=True)
        in_order = [r["group"]["model"] for r in data if r["starting_at"] == day]
        assert in_order == sorted(in_order, key=models.index)  # adjacent
    assert all(r["cost"]["requests"] is None and r["cost"]["currency"] == "USD" for r in data)
    assert sum((cents(r["cost"]["amount"]) for r in data), D(0)) == sum(
        (
            a
            for a, _ in bucket_totals(
                [get(ent, "cost_report", {"starting_at": "2026-11-18T00:00:00Z", "ending_at": NOV21})],
                cost=True,
            ).values()
        ),
        D(0),
    )
    asc = rows(pull(ent, "cost", {**params, "order": "asc"}, BETA))
    assert [r["starting_at"] for r in asc] == sorted(days)
    assert len(dict.fromkeys(units)) >= 12  # model x day units, each fanned out into its cost types
    actors = rows(
        pull(
            ent,
            "usage",
            {"starting_at": NOV1, "ending_at": NOV21, "group_by[]": "actor", "limit": 1000},
            BETA,
        )
    )
    legacy = rows(pull(ent, "user_usage_report", {"starting_at": NOV1, "ending_at": NOV21, "limit": 1000}))
    assert len(actors) == len(legacy) + 1  # every seat user plus the usage with no attributable identity
    kept = rows(
        pull(
            ent,
            "usage",
            {
                "starting_at": NOV1,
                "ending_at": NOV21,
                "group_by[]": "actor",
                "limit": 1000,
                "exclude_deleted_users": "true",
            },
            BETA,
        )
    )
    assert kept == [r for r in actors if not (r["group"]["actor"] or {}).get("deleted")]


# -- ground truth of the request budget, SDK conformance, performance --------------------------------------


TOP = 100  # a bucketed report returns at most the top 100 rows of a bucket, with no remainder row
GEO_SLICES = ("global", "us", "not_available")  # inference_geos[]: a partition of every row
PAGE_BUCKETS = {"1d": 31, "1h": 168}


def _runs(days: list[date]) -> list[list[date]]:
    out: list[list[date]] = []
    for d in sorted(days):
        if out and out[-1][1] == d:
            out[-1][1] = d + timedelta(days=1)
        else:
            out.append([d, d + timedelta(days=1)])
    return out


def _cheapest_spans(days: set[date], width: str) -> list[tuple[date, date]]:
    """The request spans over ``days`` with the fewest pages: every way of merging their runs, tried."""
    runs = _runs(list(days))
    if not runs:
        return []
    per_day, limit = (1 if width == "1d" else 24), PAGE_BUCKETS[width]
    best: tuple[int, list] | None = None
    for merge in itertools.product((False, True), repeat=len(runs) - 1):
        spans = [list(runs[0])]
        for joined, run in zip(merge, runs[1:], strict=True):
            if joined:
                spans[-1][1] = run[1]
            else:
                spans.append(list(run))
        pages = sum(math.ceil((e - s).days * per_day / limit) for s, e in spans)
        if best is None or pages < best[0]:
            best = (pages, spans)
    return [(s, e) for s, e in best[1]]


def lossless_pull(
    client: httpx.Client, endpoint: str, group_by: list[str], w0: date, w1: date
) -> tuple[Counter, dict[date, list[dict]]]:
    """One grouping of a bucketed report over [w0, w1), pulled so that no kept bucket was cut.

    Daily buckets; the days whose bucket came back with 100 rows again under each inference geo
    (cheapest spans), and the (geo, day)s still at 100 rows with hourly buckets. Returns the requests
    (pages) spent per step and the kept rows per day; fails if an hour of a geo slice is still at 100.
    """
    spent: Counter = Counter()
    kept: dict[date, list[dict]] = defaultdict(list)

    def ask(step: str, s: date, e: date, width: str, geo: str | None = None) -> list[dict]:
        params: dict = {
            "starting_at": f"{s}T00:00:00Z",
            "ending_at": f"{e}T00:00:00Z",
            "bucket_width": width,
            "limit": PAGE_BUCKETS[width],
        }
        if group_by:
            params["group_by[]"] = group_by
        if geo:
            params["inference_geos[]"] = geo
        pages = pull(client, endpoint, params)
        spent[step] += len(pages)
        out = buckets(pages)
        assert all(len(b["results"]) <= TOP for b in out)
        return out

    def day(bucket: dict) -> date:
        return date.fromisoformat(bucket["starting_at"][:10])

    cut: set[date] = set()
    for b in ask("daily", w0, w1, "1d"):
        if len(b["results"]) >= TOP:
            cut.add(day(b))
        else:
            kept[day(b)] += b["results"]
    for geo in GEO_SLICES if cut else ():
        still: set[date] = set()
        for s, e in _cheapest_spans(cut, "1d"):
            for b in ask("per_geo", s, e, "1d", geo):
                if day(b) not in cut:
                    continue  # a day between two cut runs: already kept whole
                if len(b["results"]) >= TOP:
                    still.add(day(b))
                else:
                    kept[day(b)] += b["results"]
        for s, e in _cheapest_spans(still, "1h"):
            for b in ask("hourly", s, e, "1h", geo):
                if day(b) in still:
                    assert len(b["results"]) < TOP, f"{endpoint} {group_by} {geo} {b['starting_at']} is cut"
                    kept[day(b)] += b["results"]
    spent["requests"] = sum(spent.values())
    return spent, kept


def _measure(row: dict, cost: bool) -> tuple:
    if cost:
        return (cents(row["amount"]), cents(row["list_amount"]))
    return (
        row["uncached_input_tokens"],
        row["output_tokens"],
        row["cache_read_input_tokens"],
        row["requests"],
    )


def check_bucketed_minimum(client: httpx.Client, plan: dict, windows: list[tuple[date, date]]) -> None:
    """Pull the bucketed reports losslessly, grouping by grouping: the minimum counts exactly those pages,
    and every partitioning grouping adds up to the ungrouped total on every day (nothing was cut)."""
    for endpoint in ("usage_report", "cost_report"):
        spec = plan["endpoints"][endpoint]
        cost = endpoint == "cost_report"
        counted: dict[str, Counter] = defaultdict(Counter)
        sums: dict[str, dict[date, tuple]] = defaultdict(dict)
        for w0, w1 in windows:
            for name, group_by in spec["params"]["groupings"].items():
                spent, kept = lossless_pull(client, endpoint, group_by, w0, w1)
                counted[name].update(spent)
                for d, got in kept.items():
                    sums[name][d] = tuple(map(sum, zip(*(_measure(r, cost) for r in got), strict=True)))
        for name, detail in spec["groupings"].items():
            steps = ("requests", "daily", "per_geo", "hourly")
            assert {k: counted[name][k] for k in steps} == {k: detail[k] for k in steps}, (endpoint, name)
            assert detail["hours_at_cap"] == 0
            if name != "rbac_group":  # RBAC groups overlap; every other grouping partitions the rows
                assert sums[name] == sums["total"], (endpoint, name)
        assert spec["requests"] == sum(c["requests"] for c in counted.values())
        assert spec["windows"] == len(windows)


def test_min_requests_truth_matches_a_real_pull(ent, server):
    plan = truth(server.sim, ORG, "min_requests_reports", date(2026, 10, 1), date(2026, 11, 21))
    endpoints = plan["endpoints"]
    windows = [(date(2026, 10, 1), date(2026, 11, 1)), (date(2026, 11, 1), date(2026, 11, 21))]
    check_bucketed_minimum(ent, plan, windows)
    counted = {}
    for name in ("user_usage_report", "user_cost_report", "usage", "cost"):
        p = endpoints[name]["params"]
        total = 0
        for w0, w1 in windows:
            for group_by in p["groupings"].values() if "groupings" in p else [p["group_by"]]:
                params = {
                    "starting_at": f"{w0}T00:00:00Z",
                    "ending_at": f"{w1}T00:00:00Z",
                    "limit": p["limit"],
                    **({"group_by[]": group_by} if group_by else {}),
                }
                params.update({k: v for k, v in p.items() if k.endswith("bucket_width")})
                total += len(pull(ent, name, params, BETA if name in ("usage", "cost") else None))
        counted[name] = total
        assert endpoints[name]["requests"] == total, name
    assert counted["user_cost_report"] > 2 and counted["cost"] > 2
    assert plan["total"] == sum(v["requests"] for v in endpoints.values())
    # the demo organization never reaches the top-100 cap: one daily request per grouping and window
    assert endpoints["usage_report"]["requests"] == 4 * 2 and endpoints["cost_report"]["requests"] == 5 * 2


def test_min_requests_truth_counts_the_refinement_of_cut_buckets():
    """A medium organization fills buckets to the top-100 cap: the minimum counts the geo and hourly re-asks."""
    start, end = date(2026, 11, 9), date(2026, 11, 19)
    with serve_in_thread(unlimited_sim(world="medium")) as running, client_for(running, ORG) as client:
        plan = truth(running.sim, ORG, "min_requests_reports", start, end)
        usage = plan["endpoints"]["usage_report"]["groupings"]
        assert usage["product_model"]["cut_days"] > 0 and usage["product_model"]["per_geo"] > 0
        assert usage["claude_tag"]["cut_geo_days"] > 0 and usage["claude_tag"]["hourly"] > 0
        check_bucketed_minimum(client, plan, [(start, end)])


def test_min_requests_groupings_mirror_the_client():
    """The minimum describes the client's pull: same groupings of the bucketed reports, same group_by."""
    from claude_assets.ingest.enterprise_reports import api, fetch, groupings
    from simulator.generators.reports.minimum import CLIENT_GROUPINGS, MIN_REQUEST_PLANS

    assert {
        "usage_report": {g.name: g.group_by for g in groupings.USAGE_GROUPINGS},
        "cost_report": {g.name: g.group_by for g in groupings.COST_GROUPINGS},
    } == CLIENT_GROUPINGS
    assert MIN_REQUEST_PLANS["user_usage_report"]["group_by"] == fetch.USER_GROUP_BY
    assert MIN_REQUEST_PLANS["user_cost_report"]["group_by"] == fetch.USER_GROUP_BY
    assert MIN_REQUEST_PLANS["usage"]["groupings"] == {
        g.name: list(g.group_by) for g in groupings.ANALYTICS_GROUPINGS
    }
    assert MIN_REQUEST_PLANS["cost"]["groupings"] == {
        g.name: [*g.group_by, *groupings.ANALYTICS_COST_SPLIT.get(g.name, ())]
        for g in groupings.ANALYTICS_GROUPINGS
    }
    assert api.TOP_GROUPS == 100 and api.BUCKET_LIMIT == {"1d": 31, "1h": 168}
    assert api.GEO_SLICES == GEO_SLICES


def test_span_pages_is_the_cheapest_cover():
    from simulator.generators.reports.minimum import span_pages

    base = date(2026, 1, 1)
    for days in (
        {0},
        {0, 6, 8},
        {0, 1, 2, 3, 6, 7},
        {0, 7, 8, 9, 10, 11, 12, 14, 20, 21, 30},
        set(range(31)),
    ):
        for width, per_day in (("1d", 1), ("1h", 24)):
            spans = _cheapest_spans({base + timedelta(days=d) for d in days}, width)
            pages = sum(math.ceil((e - s).days * per_day / PAGE_BUCKETS[width]) for s, e in spans)
            assert span_pages(sorted(days), per_day, PAGE_BUCKETS[width]) == pages, (days, width)


@pytest.fixture
def clean_env(monkeypatch):
    for var in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_CUSTOM_HEADERS",
    ):
        monkeypatch.delenv(var, raising=False)


def test_sdk_parses_every_report_strictly(server, ent, clean_env):
    key = server.sim.world.by_slug(ORG).api_key
    with anthropic.Anthropic(
        api_key=key, base_url=server.base_url, max_retries=0, _strict_response_validation=True
    ) as client:
        a = client.beta.organization.analytics
        s, e = "2026-11-15T00:00:00Z", NOV21
        page = a.usage_report.list(starting_at=s, ending_at=e, group_by=["product", "model", "rbac_group_id"])
        assert page.data_refreshed_at == FIXED_NOW and len(list(page)) == 6
        cost_buckets = list(
            a.cost_report.list(
                starting_at=s,
                ending_at=e,
                bucket_width="1h",
                limit=48,
                group_by=["cost_type", "token_type", "slack_channel_id"],
            )
        )
        assert len(cost_buckets) == 144 and cost_buckets[12].results[0].amount
        users = list(a.user_usage_report.list(starting_at=s, ending_at=e, limit=25, group_by=["product"]))
        raw = rows(
            pull(
                ent,
                "user_usage_report",
                {"starting_at": s, "ending_at": e, "limit": 1000, "group_by[]": "product"},
            )
        )
        assert len(users) == len(raw) and users[0].actor.email_address == raw[0]["actor"]["email_address"]
        items = list(
            a.user_cost_report.list(
                starting_at=s,
                ending_at=e,
                limit=40,
                bucket_width="1d",
                group_by=["token_type", "claude_tag_category"],
            )
        )
        assert items and {i.cost_type for i in items} <= {"tokens", "web_search"}
        usage = list(
            a.usage.list(
                starting_at=s,
                ending_at=e,
                limit=100,
                group_by=["actor", "actor_type", "product", "claude_tag_user_id"],
            )
        )
        assert any(i.group.actor is None for i in usage) and any(i.group.actor for i in usage)
        cost = list(
            a.cost.list(
                starting_at=s,
                ending_at=e,
                time_bucket_width="1d",
                limit=100,
                group_by=["actor", "model", "cost_type", "token_type"],
            )
        )
        assert {i.group.cost_type for i in cost} == {"tokens", "web_search", "code_execution"}


@pytest.mark.bad_input
def test_a_hipaa_ready_organization_is_refused_by_the_usage_and_cost_analytics_api_only():
    """B13: the Usage and Cost Analytics API answers an organization with HIPAA readiness a 400 whose
    ``error.details.error_code`` is ``organization_not_eligible``; its other endpoints still serve it."""
    world = World.build("demo", 7, {"enterprise": 10**6, "console": 10**6}, hipaa_ready=["acme-console", ORG])
    with serve_in_thread(Simulator(world, clock=SimClock(FIXED_NOW))) as srv:
        for slug in ("acme-console", ORG):
            with client_for(srv, slug) as c:
                for path in ("usage", "cost"):
                    body = get(c, path, {"starting_at": NOV1}, BETA, status=400)
                    assert body["type"] == "error" and body["request_id"].startswith("req_")
                    assert body["error"]["type"] == "invalid_request_error"
                    assert body["error"]["details"] == {"error_code": "organization_not_eligible"}
                    assert "HIPAA readiness" in body["error"]["message"]
        with client_for(srv, ORG) as c:
            assert get(c, "usage_report", {"starting_at": NOV1})["data"]
        with client_for(srv, "acme-console") as c:
            r = c.get("/v1/organizations/cost_report", params={"starting_at": NOV1, "ending_at": NOV21})
            assert r.status_code == 200 and r.json()["data"]
        with client_for(srv, "globex-console") as c:  # not HIPAA-ready: served
            assert get(c, "cost", {"starting_at": NOV1}, BETA)["data"]
    with pytest.raises(ValueError, match="no organization 'nobody'"):
        World.build("demo", 7, hipaa_ready=["nobody"])
    assert build_parser().parse_args(["--hipaa-ready", ORG]).hipaa_ready == [ORG]

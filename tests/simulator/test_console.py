"""The Console Admin API of the simulator, over real loopback HTTP, against the wire reference."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal

import httpx
import pytest

from simulator.serve import serve_in_thread
from simulator.truth import truth
from tests.conftest import client_for, make_sim

USAGE = "/v1/organizations/usage_report/messages"
COST = "/v1/organizations/cost_report"
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
FAST = {"anthropic-beta": "fast-mode-2026-02-01"}
RESULT_FIELDS = {
    "uncached_input_tokens",
    "cache_creation",
    "cache_read_input_tokens",
    "output_tokens",
    "server_tool_use",
    "account_id",
    "api_key_id",
    "service_account_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
}
COST_RESULT_FIELDS = {
    "currency",
    "amount",
    "workspace_id",
    "description",
    "cost_type",
    "context_window",
    "model",
    "service_tier",
    "token_type",
    "inference_geo",
}


def tokens(row: dict) -> tuple[int, ...]:
    return (
        row["uncached_input_tokens"],
        row["cache_creation"]["ephemeral_5m_input_tokens"],
        row["cache_creation"]["ephemeral_1h_input_tokens"],
        row["cache_read_input_tokens"],
        row["output_tokens"],
        row["server_tool_use"]["web_search_requests"],
    )


def add(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b, strict=True)) if a else b


def all_pages(client: httpx.Client, path: str, params: dict, headers: dict | None = None) -> list[dict]:
    pages, page = [], None
    while True:
        resp = client.get(path, params={**params, **({"page": page} if page else {})}, headers=headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        pages.append(body)
        if not body["has_more"]:
            assert body["next_page"] is None
            return pages
        page = body["next_page"]
        assert page


# -- authentication and errors --------------------------------------------------------------------------
def test_missing_unknown_and_wrong_type_keys(demo_server):
    base = demo_server.base_url
    missing = httpx.get(f"{base}/v1/organizations/me")
    assert missing.status_code == 401
    body = missing.json()
    assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
    assert body["request_id"] == missing.headers["request-id"]
    unknown = httpx.get(f"{base}/v1/organizations/me", headers={"x-api-key": "sk-ant-admin01-nope"})
    assert unknown.status_code == 401
    analytics_key = demo_server.sim.world.by_slug("acme-enterprise").api_key
    wrong = httpx.get(f"{base}/v1/organizations/me", headers={"x-api-key": analytics_key})
    assert wrong.status_code == 403 and wrong.json()["error"]["type"] == "permission_error"
    assert (
        "read:analytics" in wrong.json()["error"]["message"]
        and "Admin API key" in wrong.json()["error"]["message"]
    )
    assert analytics_key not in wrong.text


def test_bearer_auth_and_any_version_header_accepted(demo_server):
    org = demo_server.sim.world.by_slug("acme-console")
    resp = httpx.get(
        f"{demo_server.base_url}/v1/organizations/me",
        headers={"Authorization": f"Bearer {org.api_key}", "anthropic-version": "2026-10-21"},
    )
    assert resp.status_code == 200
    assert resp.json() == {"id": org.uuid, "type": "organization", "name": "Acme Corp"}
    assert resp.headers["anthropic-organization-id"] == org.uuid


def test_only_get_is_served(console):
    assert console.post("/v1/organizations/users/x", json={"role": "user"}).status_code == 405


# -- usage report ----------------------------------------------------------------------------------------
def test_usage_report_shape_and_empty_buckets(console):
    body = console.get(
        USAGE, params={"starting_at": "2025-08-30T00:00:00Z", "ending_at": "2025-09-03T00:00:00Z"}
    ).json()
    assert [b["starting_at"] for b in body["data"]] == [
        f"2025-0{d}T00:00:00Z" for d in ("8-30", "8-31", "9-01", "9-02")
    ]
    assert body["data"][0]["results"] == [] and body["data"][1]["results"] == []  # before the org existed
    row = body["data"][2]["results"][0]
    assert set(row) == RESULT_FIELDS  # speed only with the fast-mode beta header
    assert all(row[d] is None for d in ("account_id", "api_key_id", "workspace_id", "model", "service_tier"))
    assert len(body["data"][2]["results"]) == 1  # ungrouped: one combined row
    assert body["has_more"] is False and body["next_page"] is None


def test_usage_grouped_totals_equal_ungrouped(console):
    params = {"starting_at": "2026-10-01T00:00:00Z", "ending_at": "2026-10-08T00:00:00Z"}
    flat = console.get(USAGE, params=params).json()["data"]
    grouped = console.get(
        USAGE,
        params={
            **params,
            "group_by[]": list(
                (
                    "account_id",
                    "api_key_id",
                    "context_window",
                    "inference_geo",
                    "model",
                    "service_account_id",
                    "service_tier",
                    "workspace_id",
                    "speed",
                )
            ),
        },
        headers=FAST,
    ).json()["data"]
    for a, b in zip(flat, grouped, strict=True):
        total = ()
        for row in b["results"]:
            total = add(total, tokens(row))
        assert total == tokens(a["results"][0])
    rows = [r for b in grouped for r in b["results"]]
    assert any(r["workspace_id"] is None and r["api_key_id"] for r in rows), "default workspace is null"
    assert any(r["api_key_id"] is None and r["account_id"] for r in rows), "key-less Workbench usage"
    assert any(r["service_account_id"] for r in rows)
    assert {r["service_tier"] for r in rows} >= {"standard"}
    assert all(r["speed"] in ("standard", "fast") for r in rows)


def test_hours_and_minutes_add_up_to_the_day(console):
    day = console.get(
        USAGE,
        params={
            "starting_at": "2026-11-10T00:00:00Z",
            "ending_at": "2026-11-11T00:00:00Z",
            "group_by[]": "model",
        },
    ).json()["data"][0]["results"]
    hours = console.get(
        USAGE,
        params={
            "starting_at": "2026-11-10T00:00:00Z",
            "ending_at": "2026-11-11T00:00:00Z",
            "bucket_width": "1h",
            "limit": 168,
            "group_by[]": "model",
        },
    ).json()["data"]
    assert len(hours) == 24
    by_model: dict = defaultdict(tuple)
    for b in hours:
        for r in b["results"]:
            by_model[r["model"]] = add(by_model[r["model"]], tokens(r))
    assert by_model == {r["model"]: tokens(r) for r in day}
    hour = hours[14]["results"]
    minutes = console.get(
        USAGE,
        params={
            "starting_at": "2026-11-10T14:00:00Z",
            "ending_at": "2026-11-10T15:00:00Z",
            "bucket_width": "1m",
            "limit": 60,
        },
    ).json()["data"]
    assert len(minutes) == 60
    total = ()
    for b in minutes:
        for r in b["results"]:
            total = add(total, tokens(r))
    hour_total = ()
    for r in hour:
        hour_total = add(hour_total, tokens(r))
    assert total == hour_total


def test_usage_pagination_by_buckets(console):
    params = {"starting_at": "2026-08-01T00:00:00Z", "ending_at": "2026-10-15T00:00:00Z", "limit": 31}
    pages = all_pages(console, USAGE, params)
    starts = [b["starting_at"] for p in pages for b in p["data"]]
    assert len(pages) == 3 and len(starts) == 75 and len(set(starts)) == 75
    assert starts == sorted(starts)


def test_usage_default_range_is_limit_buckets(console):
    body = console.get(USAGE, params={"starting_at": "2026-10-01T00:00:00Z"}).json()
    assert len(body["data"]) == 7


def test_usage_today_is_partial_and_future_is_absent(console):
    """Usage appears within minutes: today's bucket holds the hours so far; nothing after now exists."""
    body = console.get(
        USAGE, params={"starting_at": "2026-11-21T00:00:00Z", "ending_at": "2026-11-25T00:00:00Z"}
    ).json()
    assert [b["starting_at"][:10] for b in body["data"]] == ["2026-11-21", "2026-11-22"]
    hours = console.get(
        USAGE,
        params={
            "starting_at": "2026-11-22T00:00:00Z",
            "bucket_width": "1h",
            "ending_at": "2026-11-23T00:00:00Z",
            "limit": 48,
        },
    ).json()["data"]
    assert [b["starting_at"][11:13] for b in hours] == [f"{h:02d}" for h in range(12)]  # clock: 12:00
    total = ()
    for b in hours:
        for r in b["results"]:
            total = add(total, tokens(r))
    assert total == tokens(body["data"][1]["results"][0])
    yesterday = tokens(body["data"][0]["results"][0])
    assert total[0] < yesterday[0]


@pytest.mark.parametrize(
    ("params", "headers", "fragment"),
    [
        ({"ending_at": "2026-10-02T00:00:00Z"}, None, "starting_at"),
        (
            {"starting_at": "2026-10-02T00:00:00Z", "ending_at": "2026-10-01T00:00:00Z"},
            None,
            "ending date must be after starting date",
        ),
        ({"starting_at": "2026-10-01T00:00:00Z", "limit": 32}, None, "limit"),
        ({"starting_at": "2026-10-01T00:00:00Z", "bucket_width": "1h", "limit": 169}, None, "limit"),
        ({"starting_at": "2026-10-01T00:00:00Z", "bucket_width": "1w"}, None, "bucket_width"),
        ({"starting_at": "2026-10-01T00:00:00Z", "group_by[]": "project"}, None, "group_by"),
        ({"starting_at": "2026-10-01T00:00:00Z", "group_by[]": "speed"}, None, "fast-mode-2026-02-01"),
        ({"starting_at": "2026-10-01T00:00:00Z", "speeds[]": "fast"}, None, "fast-mode-2026-02-01"),
        ({"starting_at": "yesterday"}, None, "RFC 3339"),
        ({"starting_at": "2026-10-01T00:00:00Z", "page": "page_garbage"}, None, "cursor"),
    ],
)
def test_usage_errors(console, params, headers, fragment):
    resp = console.get(USAGE, params=params, headers=headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["type"] == "invalid_request_error"
    assert fragment in resp.json()["error"]["message"]


def test_cursor_is_bound_to_its_query(console):
    first = console.get(
        USAGE,
        params={"starting_at": "2026-06-01T00:00:00Z", "ending_at": "2026-08-01T00:00:00Z", "limit": 10},
    ).json()
    reused = console.get(
        USAGE,
        params={
            "starting_at": "2026-06-01T00:00:00Z",
            "ending_at": "2026-08-01T00:00:00Z",
            "limit": 10,
            "group_by[]": "model",
            "page": first["next_page"],
        },
    )
    assert reused.status_code == 400 and "different query" in reused.json()["error"]["message"]


def test_usage_filters_select_a_subset(console):
    params = {
        "starting_at": "2026-11-02T00:00:00Z",
        "ending_at": "2026-11-03T00:00:00Z",
        "group_by[]": "model",
    }
    rows = console.get(USAGE, params=params).json()["data"][0]["results"]
    model = rows[0]["model"]
    only = console.get(USAGE, params={**params, "models[]": model}).json()["data"][0]["results"]
    assert [r["model"] for r in only] == [model] and tokens(only[0]) == tokens(rows[0])


# -- cost report -------------------------------------------------------------------------------------------
def test_cost_report_only_completed_days(console):
    body = console.get(
        COST, params={"starting_at": "2026-11-19T00:00:00Z", "ending_at": "2026-11-25T00:00:00Z"}
    ).json()
    assert [b["starting_at"][:10] for b in body["data"]] == ["2026-11-19", "2026-11-20", "2026-11-21"]
    today = console.get(
        COST, params={"starting_at": "2026-11-22T00:00:00Z", "ending_at": "2026-11-23T00:00:00Z"}
    )
    assert today.status_code == 400
    assert today.json()["error"]["message"] == "Invalid date range: ending date must be after starting date"
    sub_day = console.get(
        COST, params={"starting_at": "2026-11-10T00:00:00Z", "ending_at": "2026-11-10T23:59:59Z"}
    )
    assert sub_day.status_code == 400  # ending_at truncates to that day's midnight
    assert console.get(COST, params={"starting_at": "2026-11-01T00:00:00Z", "limit": 32}).status_code == 400
    assert (
        console.get(COST, params={"starting_at": "2026-11-01T00:00:00Z", "bucket_width": "1h"}).status_code
        == 400
    )


def test_cost_report_fields_and_business_rules(console):
    params = {
        "starting_at": "2026-10-01T00:00:00Z",
        "ending_at": "2026-11-01T00:00:00Z",
        "limit": 31,
        "group_by[]": ["description", "workspace_id"],
    }
    data = console.get(COST, params=params).json()["data"]
    rows = [r for b in data for r in b["results"]]
    assert rows and all(set(r) == COST_RESULT_FIELDS for r in rows)
    assert all(r["currency"] == "USD" and Decimal(r["amount"]) >= 0 for r in rows)
    assert {r["cost_type"] for r in rows} == {"tokens", "web_search", "code_execution"}
    assert {r["service_tier"] for r in rows if r["cost_type"] == "tokens"} <= {"standard", "batch"}
    code = [r for r in rows if r["cost_type"] == "code_execution"]
    assert all(
        r["description"] == "Code Execution Usage" and r["model"] is None and r["token_type"] is None
        for r in code
    )
    assert any(r["workspace_id"] is None for r in rows)
    token_rows = [r for r in rows if r["cost_type"] == "tokens"]
    assert all(
        r["model"] and r["token_type"] and r["context_window"] and r["inference_geo"] for r in token_rows
    )


def test_cost_grouped_equals_ungrouped_and_truth(console, demo_sim):
    params = {"starting_at": "2026-09-01T00:00:00Z", "ending_at": "2026-10-01T00:00:00Z", "limit": 31}
    flat = console.get(COST, params=params).json()["data"]
    grouped = console.get(COST, params={**params, "group_by[]": ["workspace_id", "description"]}).json()[
        "data"
    ]
    expected = truth(demo_sim, "acme-console", "console_cost", date(2026, 9, 1), date(2026, 10, 1))
    total = Decimal(0)
    for a, b in zip(flat, grouped, strict=True):
        assert len(a["results"]) == 1
        day_sum = sum(Decimal(r["amount"]) for r in b["results"])
        assert day_sum == Decimal(a["results"][0]["amount"])
        assert day_sum / 100 == Decimal(expected["days"][a["starting_at"][:10]]["amount_usd"])
        total += day_sum
    assert total / 100 == Decimal(expected["total_usd"])


# Independent list prices (USD / MTok) from shared/pricing.md for the models of the demo world.
LIST = {
    "claude-sonnet-4-5": (3, 15, "0.30"),
    "claude-haiku-4-5": (1, 5, "0.10"),
    "claude-opus-4-6": (5, 25, "0.50"),
    "claude-sonnet-4-6": (3, 15, "0.30"),
    "claude-opus-4-5": (5, 25, "0.50"),
    "claude-3-5-haiku": ("0.80", 4, "0.08"),
}


def _list_cost_microcents(row: dict) -> Decimal:
    inp, out, cread = (Decimal(str(x)) for x in LIST[row["model"]])
    if row["context_window"] == "200k-1M" and row["model"] == "claude-sonnet-4-5":
        inp, out, cread = inp * 2, out * Decimal("1.5"), cread * 2
    usd = (
        row["uncached_input_tokens"] * inp
        + row["cache_creation"]["ephemeral_5m_input_tokens"] * inp * Decimal("1.25")
        + row["cache_creation"]["ephemeral_1h_input_tokens"] * inp * 2
        + row["cache_read_input_tokens"] * cread
        + row["output_tokens"] * out
    ) / 1_000_000
    if row["service_tier"] == "batch":
        usd /= 2
    if row["speed"] == "fast":
        usd *= 6  # Opus 4.6 fast mode
    if row["inference_geo"] == "us":
        usd *= Decimal("1.1")
    return usd * 100_000_000


def test_cost_is_usage_times_list_price_less_a_discount(console):
    """Billed token cost = usage (standard+batch) x pricing.md list prices x (1 - a fixed discount)."""
    params = {"starting_at": "2026-11-02T00:00:00Z", "ending_at": "2026-11-03T00:00:00Z"}
    usage = console.get(
        USAGE,
        params={
            **params,
            "group_by[]": ["model", "service_tier", "context_window", "inference_geo", "speed"],
        },
        headers=FAST,
    ).json()
    rows = usage["data"][0]["results"]
    list_total = sum(_list_cost_microcents(r) for r in rows if r["service_tier"] in ("standard", "batch"))
    cost = console.get(COST, params={**params, "group_by[]": "description"}).json()["data"][0]["results"]
    billed = sum(Decimal(r["amount"]) for r in cost if r["cost_type"] == "tokens") * 1_000_000
    ratio = billed / list_total
    assert min(abs(ratio - Decimal(k)) for k in ("1", "0.95", "0.92")) < Decimal("0.00001"), ratio


def test_priority_tier_is_in_usage_but_not_in_cost(console):
    params = {"starting_at": "2026-10-01T00:00:00Z", "limit": 31, "ending_at": "2026-11-01T00:00:00Z"}
    usage = console.get(USAGE, params={**params, "group_by[]": "service_tier"}).json()["data"]
    assert any(r["service_tier"] == "priority" for b in usage for r in b["results"])
    cost = console.get(COST, params={**params, "group_by[]": "description"}).json()["data"]
    assert "priority" not in {r["service_tier"] for b in cost for r in b["results"]}


# -- Claude Code ----------------------------------------------------------------------------------------
def test_claude_code_pagination_and_shape(console, demo_sim):
    rows, page = [], None
    while True:
        params = {"starting_at": "2026-11-17", "limit": 3, **({"page": page} if page else {})}
        body = console.get(CLAUDE_CODE, params=params).json()
        rows += body["data"]
        if not body["has_more"]:
            break
        page = body["next_page"]
    expected = truth(demo_sim, "acme-console", "claude_code", date(2026, 11, 17), date(2026, 11, 18))
    assert len(rows) == expected["days"]["2026-11-17"]["rows"] > 3
    keys = [(json.dumps(r["actor"], sort_keys=True), r["terminal_type"], r["is_remote"]) for r in rows]
    assert len(set(keys)) == len(keys)
    r = rows[0]
    assert (
        r["date"] == "2026-11-17T00:00:00Z"
        and r["organization_id"] == demo_sim.world.by_slug("acme-console").uuid
    )
    assert r["actor"]["type"] in ("user_actor", "api_actor") and r["customer_type"] == "api"
    assert set(r["core_metrics"]) == {
        "num_sessions",
        "lines_of_code",
        "commits_by_claude_code",
        "pull_requests_by_claude_code",
    }
    assert all(isinstance(m["estimated_cost"]["amount"], int | float) for m in r["model_breakdown"])
    total = sum(Decimal(str(m["estimated_cost"]["amount"])) for x in rows for m in x["model_breakdown"])
    assert total / 100 == Decimal(expected["days"]["2026-11-17"]["estimated_cost_usd"])


def test_claude_code_future_day_is_empty_and_bad_date_is_400(console):
    assert console.get(CLAUDE_CODE, params={"starting_at": "2026-12-01"}).json() == {
        "data": [],
        "has_more": False,
        "next_page": None,
    }
    assert console.get(CLAUDE_CODE, params={"starting_at": "12/01/2026"}).status_code == 400
    assert console.get(CLAUDE_CODE, params={"starting_at": "2026-11-17", "limit": 1001}).status_code == 400


# -- inventory ----------------------------------------------------------------------------------------------
def _walk_ids(client, path, params=None):
    ids, after = [], None
    while True:
        body = client.get(
            path, params={**(params or {}), "limit": 7, **({"after_id": after} if after else {})}
        ).json()
        ids += [x["id"] for x in body["data"]]
        if not body["has_more"]:
            return ids
        assert body["last_id"] == body["data"][-1]["id"]
        after = body["last_id"]


def test_users_pagination_filters_and_removed_users(console, demo_sim):
    org = demo_sim.world.by_slug("acme-console")
    ids = _walk_ids(console, "/v1/organizations/users")
    today = date(2026, 11, 22)
    assert sorted(ids) == sorted(u.id for u in org.users if u.member_on(today)) and len(ids) == len(set(ids))
    assert any(u.removed and u.removed <= today for u in org.users), "the world has users who left"
    devs = console.get("/v1/organizations/users", params={"roles[]": "developer", "limit": 1000}).json()[
        "data"
    ]
    assert devs and all(u["role"] == "developer" for u in devs)
    assert console.get("/v1/organizations/users", params={"roles[]": "wizard"}).status_code == 400
    one = console.get(f"/v1/organizations/users/{ids[0]}").json()
    assert set(one) == {"id", "type", "email", "name", "role", "added_at"}
    assert console.get("/v1/organizations/users/user_01nobody").status_code == 404
    back = console.get("/v1/organizations/users", params={"before_id": ids[10], "limit": 3}).json()
    assert [u["id"] for u in back["data"]] == ids[7:10]


def test_workspaces_archived_default_and_members(console, demo_sim):
    org = demo_sim.world.by_slug("acme-console")
    live = console.get("/v1/organizations/workspaces", params={"limit": 100}).json()["data"]
    everything = console.get(
        "/v1/organizations/workspaces",
        params={"limit": 100, "include_archived": "true", "include_default": "true"},
    ).json()["data"]
    assert org.default_workspace.id in {w["id"] for w in everything} - {w["id"] for w in live}
    assert all(w["archived_at"] is None for w in live)
    member_page = console.get(
        f"/v1/organizations/workspaces/{live[0]['id']}/members", params={"limit": 1000}
    ).json()
    assert member_page["data"] and all(m["workspace_id"] == live[0]["id"] for m in member_page["data"])
    m = member_page["data"][0]
    assert console.get(f"/v1/organizations/workspaces/{live[0]['id']}/members/{m['user_id']}").json() == m
    assert console.get("/v1/organizations/workspaces/wrkspc_01none").status_code == 404


def test_api_keys_statuses_and_scope(console):
    keys = console.get("/v1/organizations/api_keys", params={"limit": 1000}).json()["data"]
    assert {"active"} <= {k["status"] for k in keys} and len({k["status"] for k in keys}) >= 2
    for k in keys:
        assert k["scope"]["type"] == "workspace" and k["scope"]["workspace_id"]
        assert k["workspace_id"] in (None, k["scope"]["workspace_id"])
    inactive = console.get("/v1/organizations/api_keys", params={"status": "active", "limit": 1000}).json()[
        "data"
    ]
    assert inactive and all(k["status"] == "active" for k in inactive)
    assert console.get(f"/v1/organizations/api_keys/{keys[0]['id']}").json() == keys[0]


def test_invites_statuses(console):
    every = console.get("/v1/organizations/invites", params={"limit": 1000}).json()["data"]
    assert {i["status"] for i in every} == {"accepted", "expired", "pending"}
    pending = console.get(
        "/v1/organizations/invites", params={"limit": 1000, "statuses[]": "pending"}
    ).json()["data"]
    assert pending and all(i["status"] == "pending" and i["accepted_at"] is None for i in pending)


# -- determinism, faults, rate limits, clock ------------------------------------------------------------------
def test_same_world_seed_and_clock_give_identical_bytes():
    paths = [
        (USAGE, {"starting_at": "2026-10-01T00:00:00Z", "group_by[]": ["model", "api_key_id"]}),
        (COST, {"starting_at": "2026-10-01T00:00:00Z", "group_by[]": "description"}),
        (CLAUDE_CODE, {"starting_at": "2026-10-05"}),
        ("/v1/organizations/users", {"limit": 50}),
    ]
    bodies = []
    for _ in range(2):
        with serve_in_thread(make_sim()) as server, client_for(server, "acme-console") as c:
            bodies.append([c.get(p, params=q).content for p, q in paths])
    assert bodies[0] == bodies[1]
    with serve_in_thread(make_sim(seed=8)) as server, client_for(server, "acme-console") as c:
        assert c.get(USAGE, params=paths[0][1]).content != bodies[0][0]


@pytest.mark.parametrize(
    ("fault", "status", "error_type"),
    [("429", 429, "rate_limit_error"), ("500", 500, "api_error"), ("529", 529, "overloaded_error")],
)
def test_injected_faults(fault, status, error_type):
    from simulator.faults import FaultPlan

    with (
        serve_in_thread(make_sim(faults=FaultPlan.parse(f"{fault}=1"))) as server,
        client_for(server, "acme-console") as c,
    ):
        resp = c.get("/v1/organizations/me")
        assert resp.status_code == status and resp.json()["error"]["type"] == error_type
        if status == 429:
            assert int(resp.headers["retry-after"]) >= 1


def test_garbage_timeout_and_expired_cursor_faults():
    from simulator.faults import FaultPlan

    with (
        serve_in_thread(make_sim(faults=FaultPlan.parse("garbage=1"))) as server,
        client_for(server, "acme-console") as c,
    ):
        resp = c.get("/v1/organizations/users")
        assert resp.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(resp.text)
    with (
        serve_in_thread(make_sim(faults=FaultPlan.parse("timeout=1", timeout_seconds=2))) as server,
        client_for(server, "acme-console") as c,
        pytest.raises(httpx.ReadTimeout),
    ):
        c.get("/v1/organizations/me", timeout=0.5)
    with (
        serve_in_thread(make_sim(faults=FaultPlan.parse("410=1"))) as server,
        client_for(server, "acme-console") as c,
    ):
        assert c.get("/v1/organizations/me").status_code == 200  # 410 only where a cursor is sent
        assert c.get(CLAUDE_CODE, params={"starting_at": "2026-11-17", "page": "page_x"}).status_code == 410


def test_fault_spec_is_validated():
    from simulator.faults import FaultPlan

    for bad in ("418=0.1", "429=2", "429=x", "429=0.6,500=0.6"):
        with pytest.raises(ValueError):
            FaultPlan.parse(bad)
    assert FaultPlan.parse("429=0.05,500=0.02").rates == {"429": 0.05, "500": 0.02}


def test_rate_limit_per_organization():
    sim = make_sim(rate_limits={"console": 5, "enterprise": 60})
    with (
        serve_in_thread(sim) as server,
        client_for(server, "acme-console") as c,
        client_for(server, "globex-console") as other,
    ):
        statuses = [c.get("/v1/organizations/me").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        limited = c.get("/v1/organizations/me")
        assert (
            limited.json()["error"]["type"] == "rate_limit_error"
            and 1 <= int(limited.headers["retry-after"]) <= 60
        )
        assert other.get("/v1/organizations/me").status_code == 200  # each organization has its own limit


def test_clock_control_route_moves_time_forward():
    with serve_in_thread(make_sim()) as server:
        base = server.base_url
        assert httpx.get(f"{base}/_simulator/clock").json()["now"] == "2026-11-22T12:00:00Z"
        assert (
            httpx.post(f"{base}/_simulator/clock", json={"advance_seconds": 86400}).json()["now"]
            == "2026-11-23T12:00:00Z"
        )
        with client_for(server, "acme-console") as c:
            body = c.get(COST, params={"starting_at": "2026-11-22T00:00:00Z"}).json()
            assert [b["starting_at"][:10] for b in body["data"]] == ["2026-11-22"]
        assert httpx.post(f"{base}/_simulator/clock", json={"advance_seconds": -5}).status_code == 400


def test_truth_route(demo_server):
    resp = httpx.get(
        f"{demo_server.base_url}/_simulator/truth",
        params={"org": "acme-console", "kind": "console_cost", "start": "2026-11-01", "end": "2026-11-03"},
    )
    assert resp.status_code == 200 and set(resp.json()["days"]) == {"2026-11-01", "2026-11-02"}
    bad = httpx.get(
        f"{demo_server.base_url}/_simulator/truth",
        params={"org": "acme-console", "kind": "nope", "start": "2026-11-01", "end": "2026-11-03"},
    )
    assert bad.status_code == 400

"""Where the reference documents several shapes, the simulator serves each alone (``shapes``), or their union;
and in strict mode it refuses query parameters the reference does not document."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulator.app import Simulator
from simulator.serve import Running, serve_in_thread
from simulator.shapes import SHAPES
from tests.conftest import make_sim

ANALYTICS = "/v1/organizations/analytics"
DAY = {"starting_at": "2026-11-01T00:00:00Z", "ending_at": "2026-11-02T00:00:00Z"}


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    with serve_in_thread(make_sim()) as server:
        yield server


@pytest.fixture
def sim(running: Running) -> Iterator[Simulator]:
    """The module's simulator, its settings restored after each test."""
    before = running.sim.shapes, running.sim.strict_params
    yield running.sim
    running.sim.shapes, running.sim.strict_params = before


def _get(running: Running, slug: str, path: str, params: dict | None = None, **headers) -> httpx.Response:
    key = running.sim.world.by_slug(slug).api_key
    return httpx.get(
        running.base_url + path, params=params, headers={"x-api-key": key, **headers}, timeout=30
    )


def _actor(running: Running, path: str) -> dict:
    body = _get(running, "acme-enterprise", f"{ANALYTICS}/{path}", {**DAY, "limit": 1}).json()
    return body["data"][0]["actor"]


@pytest.mark.parametrize("shapes", SHAPES)
def test_each_variant_is_served_alone_or_in_the_union(running, sim, shapes):
    sim.shapes = shapes
    docs, sdk = shapes in ("docs", "both"), shapes in ("sdk", "both")

    # B1: docs {"summaries": [...]}; SDK {"data": [...], "next_page": null}
    summaries = _get(
        running, "acme-enterprise", f"{ANALYTICS}/summaries", {"starting_date": "2026-11-01"}
    ).json()
    assert ("summaries" in summaries) == docs
    assert ("data" in summaries) == sdk and ("next_page" in summaries) == sdk
    day = (summaries.get("data") or summaries["summaries"])[0]
    assert ("claude_tag_daily_active_user_count" in day) == sdk  # an SDK 2.12 field

    # B10 / B11: the actor's email as email (docs) or email_address (SDK)
    for path in ("user_usage_report", "user_cost_report"):
        actor = _actor(running, path)
        assert ("email" in actor) == docs and ("email_address" in actor) == sdk, path
        assert actor.get("email", actor.get("email_address")).endswith("@acme.example")

    # B8-B11: Claude Tag's product is claude-in-slack in the docs, claude-tag in the SDK (and the union)
    report = _get(
        running, "acme-enterprise", f"{ANALYTICS}/usage_report", {**DAY, "group_by[]": "product"}
    ).json()
    products = {r["product"] for b in report["data"] for r in b["results"]}
    assert ("claude-in-slack" in products) == (shapes == "docs")
    assert ("claude-tag" in products) == (shapes != "docs")

    # B12 documents only email_address, whatever the variant
    beta = _get(
        running,
        "acme-enterprise",
        f"{ANALYTICS}/usage",
        {**DAY, "group_by[]": "actor", "limit": 1},
        **{"anthropic-beta": "analytics-usage-cost-2026-08-24"},
    ).json()
    actor = beta["data"][0]["group"]["actor"]
    assert "email" not in actor and actor["email_address"].endswith("@acme.example")

    # A9: docs workspace_id + principal{id, type}; SDK scope + principal{type: user_actor, user_id}
    keys = _get(running, "acme-console", "/v1/organizations/api_keys").json()["data"]
    owned = [k for k in keys if k["principal"]]
    assert owned and all(("workspace_id" in k) == docs and ("scope" in k) == sdk for k in keys)
    for k in owned:
        principal = k["principal"]
        assert ("id" in principal) == docs and ("user_id" in principal) == sdk
        assert principal["type"] == ("user" if shapes == "docs" else "user_actor")
        assert k["created_by"]["id"] == principal.get("id", principal.get("user_id"))

    # B2: the docs' user record has no chat_cowork_unified_metrics, claude_tag_metrics, artifacts_created_count
    user = _get(running, "acme-enterprise", f"{ANALYTICS}/users", {"date": "2026-11-01", "limit": 1}).json()
    record = user["data"][0]
    assert ("claude_tag_metrics" in record) == sdk and ("chat_cowork_unified_metrics" in record) == sdk
    assert ("artifacts_created_count" in record["claude_code_metrics"]["core_metrics"]) == sdk
    assert ("artifacts_created_count" in record["cowork_metrics"]) == sdk


@pytest.mark.bad_input
@pytest.mark.parametrize("shapes", SHAPES)
def test_a_bearer_key_is_accepted_unless_only_the_docs_are_served(running, sim, shapes):
    sim.shapes = shapes
    key = sim.world.by_slug("acme-console").api_key
    resp = httpx.get(
        running.base_url + "/v1/organizations/me", headers={"authorization": f"Bearer {key}"}, timeout=30
    )
    if shapes == "docs":
        assert resp.status_code == 401
        assert resp.json()["error"]["type"] == "authentication_error"
        assert "x-api-key" in resp.json()["error"]["message"]
    else:
        assert resp.status_code == 200 and resp.json()["id"] == sim.world.by_slug("acme-console").uuid
    # the docs' header works in every variant
    assert _get(running, "acme-console", "/v1/organizations/me").status_code == 200


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/v1/organizations/users", {"limt": "10"}, "limt"),
        ("/v1/organizations/invites", {"status[]": "pending"}, "status[]"),
        ("/v1/organizations/workspaces", {"include_archived": "true", "ids": "wrkspc_x"}, "ids"),
        (f"{ANALYTICS}/summaries", {"starting_date": "2026-11-01", "group_by[]": "user_id"}, "group_by[]"),
        (f"{ANALYTICS}/user_usage_report", {**DAY, "bucket": "1d"}, "bucket"),
    ],
)
def test_strict_mode_refuses_an_unknown_parameter_naming_it(running, sim, path, params, named):
    slug = "acme-enterprise" if path.startswith(ANALYTICS) else "acme-console"
    sim.strict_params = True
    resp = _get(running, slug, path, params)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith(f"{named}: unknown query parameter for GET {path}")
    assert resp.headers["request-id"] == body["request_id"]
    sim.strict_params = False  # lenient (the default): the parameter is ignored
    assert _get(running, slug, path, params).status_code == 200


def test_strict_mode_still_ignores_the_sdk_beta_flag(running, sim):
    sim.strict_params = True
    resp = _get(
        running, "acme-enterprise", f"{ANALYTICS}/summaries", {"starting_date": "2026-11-01", "beta": "true"}
    )
    assert resp.status_code == 200


def test_the_config_route_switches_the_variant_at_runtime(running, sim):
    url = running.base_url + "/_simulator/config"
    assert httpx.get(url).json() == {"shapes": "both", "strict_params": True}
    assert httpx.post(url, json={"shapes": "docs", "strict_params": False}).json() == {
        "shapes": "docs",
        "strict_params": False,
    }
    assert sim.shapes == "docs" and not sim.strict_params
    summaries = _get(running, "acme-enterprise", f"{ANALYTICS}/summaries", {"starting_date": "2026-11-01"})
    assert list(summaries.json()) == ["summaries"]
    for bad in ({"shapes": "openapi"}, {"strict_params": "yes"}, {"shape": "docs"}, ["docs"]):
        resp = httpx.post(url, json=bad)
        assert resp.status_code == 400 and resp.json()["error"], bad
    assert sim.shapes == "docs"


def test_an_unknown_variant_is_refused_at_construction():
    with pytest.raises(ValueError, match="shapes: expected one of both, docs, sdk"):
        make_sim(shapes="openapi")

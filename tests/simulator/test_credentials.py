"""Which keys open which endpoints (reference 0.1, B12, B13 "Credentials").

A Console organization's personal and service-account API keys (not scoped to a workspace) read the
usage and cost reports, exactly what its Admin key reads there; every other Admin endpoint, and every
Enterprise Analytics endpoint, refuses them with the documented 403 ``permission_error`` naming the key
needed and what the key used may read. A workspace-scoped key opens nothing, the usage and cost
reports included ("workspace keys do not work").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from simulator.routes.endpoints import all_endpoints
from simulator.serve import Running, serve_in_thread
from tests.conftest import make_sim

ORG = "acme-console"
BETA = {"anthropic-beta": "analytics-usage-cost-2026-08-24"}
USAGE_COST = ("/v1/organizations/analytics/usage", "/v1/organizations/analytics/cost")
WINDOW = {"starting_at": "2026-11-01T00:00:00Z", "ending_at": "2026-11-08T00:00:00Z", "limit": 1000}
NOT_SCOPED = ("personal", "service_account")


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    with serve_in_thread(make_sim()) as running:
        yield running


def key_of(server: Running, kind: str, slug: str = ORG) -> str:
    return server.sim.world.by_slug(slug).keys[kind]


def get(server: Running, key: str, path: str, params: dict | None = None) -> httpx.Response:
    return httpx.get(
        server.base_url + path,
        params=params,
        headers={"x-api-key": key, "anthropic-version": "2023-06-01", **BETA},
        timeout=30,
    )


def every_row(server: Running, key: str, path: str, params: dict) -> list[dict]:
    rows, page = [], None
    while True:
        r = get(server, key, path, {**params, **({"page": page} if page else {})})
        assert r.status_code == 200, r.text
        rows += r.json()["data"]
        page = r.json()["next_page"]
        if not page:
            return rows


def other_endpoints(kind: str) -> list[str]:
    """Every served path a key of this type may not call, with its path parameters filled in."""
    return [re.sub(r"\{[^}]+\}", "x_01", e.path) for e in all_endpoints() if kind not in e.keys]


def test_a_console_organization_has_each_key_type(server):
    keys = server.sim.world.by_slug(ORG).keys
    assert set(keys) == {"admin", "personal", "service_account", "workspace"}
    assert len(set(keys.values())) == 4
    assert keys["admin"].startswith("sk-ant-admin01-")
    assert all(keys[k].startswith("sk-ant-api03-") for k in ("personal", "service_account", "workspace"))
    assert server.sim.world.by_slug("acme-enterprise").keys == {
        "analytics": server.sim.world.by_slug("acme-enterprise").api_key
    }


@pytest.mark.parametrize("kind", NOT_SCOPED)
@pytest.mark.parametrize("path", USAGE_COST)
def test_personal_and_service_account_keys_read_the_usage_and_cost_reports(server, kind, path):
    params = {**WINDOW, "group_by[]": ["model", "api_key_id"], "time_bucket_width": "1d"}
    admin = every_row(server, key_of(server, "admin"), path, params)
    assert admin and admin == every_row(server, key_of(server, kind), path, params)


@pytest.mark.bad_input
@pytest.mark.parametrize("kind", NOT_SCOPED)
def test_personal_and_service_account_keys_are_refused_everywhere_else(server, kind):
    key = key_of(server, kind)
    paths = other_endpoints(kind)
    assert "/v1/organizations/me" in paths and "/v1/organizations/analytics/usage_report" in paths
    assert not set(USAGE_COST) & set(paths)
    for path in paths:
        r = get(server, key, path, WINDOW)
        assert r.status_code == 403, (path, r.text)
        error = r.json()["error"]
        assert error["type"] == "permission_error" and r.json()["request_id"] == r.headers["request-id"]
        label = "personal API key" if kind == "personal" else "service-account API key"
        assert label in error["message"] and "usage and cost reports" in error["message"], path
        assert key not in r.text


@pytest.mark.bad_input
def test_a_workspace_key_opens_no_organization_endpoint(server):
    key = key_of(server, "workspace")
    assert not [e.path for e in all_endpoints() if "workspace" in e.keys]
    for path in (*USAGE_COST, "/v1/organizations/me", "/v1/organizations/cost_report"):
        r = get(server, key, path, WINDOW)
        assert r.status_code == 403, (path, r.text)
        message = r.json()["error"]["message"]
        assert "scoped to a workspace" in message and key not in r.text


@pytest.mark.bad_input
def test_an_admin_key_still_may_not_call_the_enterprise_reports_with_the_documented_code(server):
    r = get(server, key_of(server, "admin"), "/v1/organizations/analytics/usage_report", WINDOW)
    assert r.status_code == 403
    assert r.json()["error"]["details"]["error_code"] == "organization_type_not_supported"

"""Conformance: the official ``anthropic`` SDK parses every response it has a model for, strictly.

The SDK sends ``Authorization: Bearer`` and ``anthropic-version: 2026-10-21``; strict response
validation raises on any missing or mistyped required field, so these tests fail on any drift. They run
against the default shapes (the union of the documented variants) and the SDK's shapes alone, with
undocumented query parameters refused (so every parameter the SDK sends is one the simulator knows).
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest

from simulator.app import Simulator
from simulator.serve import Running, serve_in_thread
from tests.conftest import make_sim


@pytest.fixture(scope="module", params=["both", "sdk"])
def demo_sim(request) -> Simulator:
    return make_sim(shapes=request.param)


@pytest.fixture(scope="module")
def demo_server(demo_sim: Simulator) -> Iterator[Running]:
    with serve_in_thread(demo_sim) as running:
        yield running


def sdk(server: Running, slug: str) -> anthropic.Anthropic:
    org = server.sim.world.by_slug(slug)
    return anthropic.Anthropic(
        api_key=org.api_key, base_url=server.base_url, max_retries=0, _strict_response_validation=True
    )


@pytest.fixture(scope="module")
def admin(demo_server, monkeypatch_module) -> Iterator[anthropic.Anthropic]:
    with sdk(demo_server, "acme-console") as client:
        yield client


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    for var in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_CUSTOM_HEADERS",
    ):
        mp.delenv(var, raising=False)
    yield mp
    mp.undo()


@pytest.mark.parametrize("namespace", ["stable", "beta"])
def test_admin_inventory_parses_strictly(admin, demo_sim, namespace):
    org = demo_sim.world.by_slug("acme-console")
    ns = admin.organization if namespace == "stable" else admin.beta.organization
    info = ns.retrieve()
    assert info.id == org.uuid and info.type == "organization"

    users = list(ns.users.list(limit=7))  # iterates every page through SyncPage (after_id)
    assert len(users) == len({u.id for u in users}) > 7
    assert ns.users.retrieve(users[0].id).email == users[0].email

    invites = list(ns.invites.list(limit=50))
    assert {i.status for i in invites} >= {"accepted", "pending"}
    assert ns.invites.retrieve(invites[0].id).id == invites[0].id

    workspaces = list(ns.workspaces.list(include_archived=True, include_default=True, limit=2))
    assert any(w.archived_at for w in workspaces) or len(workspaces) >= 3
    ws = next(w for w in workspaces if w.archived_at is None and w.name != "Default")
    assert ns.workspaces.retrieve(ws.id).name == ws.name
    members = list(ns.workspaces.members.list(ws.id, limit=3))
    assert members and all(m.workspace_id == ws.id for m in members)
    assert (
        ns.workspaces.members.retrieve(members[0].user_id, workspace_id=ws.id).workspace_role
        == members[0].workspace_role
    )

    keys = list(ns.api_keys.list(limit=5))
    assert len(keys) == len(org.api_keys) - sum(
        1 for k in org.api_keys if k.created.isoformat() > "2026-11-22"
    )
    assert all(k.scope.type == "workspace" for k in keys)
    assert ns.api_keys.retrieve(keys[0].id).name == keys[0].name


def test_sdk_error_classes(demo_server, monkeypatch_module):
    with sdk(demo_server, "acme-console") as client:
        with pytest.raises(anthropic.NotFoundError) as err:
            client.organization.users.retrieve("user_01missing")
        assert err.value.request_id and err.value.request_id.startswith("req_")
    with sdk(demo_server, "acme-enterprise") as client, pytest.raises(anthropic.PermissionDeniedError):
        client.organization.users.list()
    bad = anthropic.Anthropic(api_key="sk-ant-admin01-wrong", base_url=demo_server.base_url, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad.organization.retrieve()


ENGAGEMENT_DAY = "2026-11-16"  # a Monday, well inside the available range at the fixed clock


@pytest.fixture(scope="module")
def analytics(demo_server, monkeypatch_module) -> Iterator[anthropic.Anthropic]:
    with sdk(demo_server, "acme-enterprise") as client:
        yield client


@pytest.mark.parametrize("namespace", ["stable", "beta"])
def test_engagement_endpoints_parse_strictly(analytics, namespace):
    ns = (analytics.organization if namespace == "stable" else analytics.beta.organization).analytics
    summaries = list(ns.summaries.list(starting_date="2026-11-01", ending_date="2026-11-15"))
    assert len(summaries) == 14 and all(s.daily_active_user_count > 0 for s in summaries[:5])
    users = list(ns.users.list(date=ENGAGEMENT_DAY, limit=40))  # SyncPageCursor over several pages
    assert len(users) == len({u.user.id for u in users}) > 40
    assert summaries[-1].starting_at.date().isoformat() == "2026-11-14"
    grouped = list(ns.users.list(date=ENGAGEMENT_DAY, group_by=["rbac_group_id"]))
    assert grouped and all(g.rbac_group_id is not None or g.user is None for g in grouped)
    assert list(ns.apps.chat.projects.list(date=ENGAGEMENT_DAY, limit=5))
    assert list(ns.skills.list(date=ENGAGEMENT_DAY, group_by=["product"]))
    assert list(ns.connectors.list(starting_date="2026-11-01", ending_date="2026-11-15"))
    assert list(ns.artifacts.list(date=ENGAGEMENT_DAY))
    assert list(ns.plugins.list(date=ENGAGEMENT_DAY, group_by=["user_id"], limit=3))


def test_legacy_reports_parse_strictly(analytics):
    ns = analytics.beta.organization.analytics
    window = {"starting_at": "2026-10-01T00:00:00Z", "ending_at": "2026-10-20T00:00:00Z"}
    buckets = list(ns.usage_report.list(**window, bucket_width="1d", limit=5, group_by=["product", "model"]))
    assert len(buckets) == 19 and any(b.results for b in buckets)
    costs = list(
        ns.cost_report.list(**window, bucket_width="1d", limit=31, group_by=["cost_type", "token_type"])
    )
    assert len(costs) == 19
    users = list(ns.user_usage_report.list(**window, limit=50))
    assert len(users) > 50
    cost_users = list(ns.user_cost_report.list(**window, limit=100, group_by=["product"]))
    assert cost_users


@pytest.mark.parametrize("slug", ["acme-enterprise", "acme-console"])
def test_beta_usage_and_cost_parse_strictly(demo_server, monkeypatch_module, slug):
    with sdk(demo_server, slug) as client:
        ns = client.beta.organization.analytics
        window = {"starting_at": "2026-11-01T00:00:00Z", "ending_at": "2026-11-08T00:00:00Z"}
        usage = list(
            ns.usage.list(**window, time_bucket_width="1d", group_by=["model", "product"], limit=100)
        )
        assert usage and all(u.usage.total_tokens >= 0 for u in usage)
        cost = list(ns.cost.list(**window, group_by=["actor", "cost_type"], limit=100))
        assert cost

"""Conformance: the official ``anthropic`` SDK parses every response it has a model for, strictly.

The SDK sends ``Authorization: Bearer`` and ``anthropic-version: 2026-10-21``; strict response
validation raises on any missing or mistyped required field, so these tests fail on any drift.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest

from simulator.serve import Running


def sdk(server: Running, slug: str) -> anthropic.Anthropic:
    org = server.sim.world.by_slug(slug)
    return anthropic.Anthropic(api_key=org.api_key, base_url=server.base_url, max_retries=0,
                               _strict_response_validation=True)


@pytest.fixture(scope="module")
def admin(demo_server, monkeypatch_module) -> Iterator[anthropic.Anthropic]:
    with sdk(demo_server, "acme-console") as client:
        yield client


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS"):
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
    assert ns.workspaces.members.retrieve(members[0].user_id, workspace_id=ws.id).workspace_role == members[0].workspace_role

    keys = list(ns.api_keys.list(limit=5))
    assert len(keys) == len(org.api_keys) - sum(1 for k in org.api_keys if k.created.isoformat() > "2026-11-22")
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

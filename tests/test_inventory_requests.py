"""The simulator's inventory minimum (``min_requests_console``) is exactly what a complete inventory read asks.

The client's own snapshot read is counted at the transport, request by request, and set against the
simulator's ground truth: the requests per endpoint, and the entities each list returns.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from claude_assets.config import OrgConfig
from claude_assets.inventory import fetch, tables
from resources.client import ApiClient, CallStats
from resources.ratelimit import RateLimiter
from resources.secrets import Secret
from simulator.serve import serve_in_thread
from simulator.truth import truth
from tests.conftest import FIXED_NOW, make_sim

SLUG = "acme-console"
INVENTORY_ENDPOINTS = ("organization", "users", "workspaces", "workspace_members", "api_keys", "invites")


class CountingTransport(httpx.HTTPTransport):
    """Every request path that leaves the client."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return super().handle_request(request)


def endpoint_of(path: str) -> str:
    rest = path.removeprefix("/v1/organizations/")
    if rest == "me":
        return "organization"
    if rest.startswith("workspaces/") and rest.endswith("/members"):
        return "workspace_members"
    return rest


@pytest.mark.parametrize(
    "now",
    [FIXED_NOW, datetime(2026, 2, 1, 12, tzinfo=UTC)],
    ids=["late", "early"],
)
def test_the_inventory_minimum_is_what_a_complete_read_requests(now, tmp_path):
    sim = make_sim(now=now)
    transport = CountingTransport()
    with serve_in_thread(sim) as server:
        org = sim.world.by_slug(SLUG)
        config = OrgConfig(slug=SLUG, kind="console", key_env="UNUSED", base_url=server.base_url)
        with ApiClient(
            organization=SLUG,
            base_url=server.base_url,
            key=Secret(org.api_key),
            key_env="UNUSED",
            key_kind="admin",
            limiter=RateLimiter(1_000_000),
            transport=transport,
        ) as client:
            snapshot = fetch.fetch_snapshot(client, config, CallStats())
        day = now.date()
        expected = truth(sim, SLUG, "min_requests_console", day, day)
    sent = Counter(endpoint_of(p) for p in transport.paths)
    assert dict(sent) == {e: expected[e] for e in INVENTORY_ENDPOINTS}

    # the entities behind those counts: what the read listed, list by list
    items = expected["inventory_items"]
    frames = snapshot.frames
    assert len(frames[tables.USERS_TABLE]) == items["users"]
    assert len(frames[tables.INVITES_TABLE]) == items["invites"]
    assert len(frames[tables.API_KEYS_TABLE]) == items["api_keys"]
    assert len(frames[tables.WORKSPACES_TABLE]) == items["workspaces"]
    assert int((~frames[tables.WORKSPACES_TABLE]["is_default"]).sum()) == items["named_workspaces"]
    members = {k.removeprefix("members:"): n for k, n in items.items() if k.startswith("members:")}
    asked = {p.split("/")[-2] for p in transport.paths if endpoint_of(p) == "workspace_members"}
    assert asked == set(members)
    assert frames[tables.MEMBERS_TABLE].groupby("workspace_id").size().to_dict() == {
        w: n for w, n in members.items() if n
    }
    # invites dated after the clock exist in the world, and are neither listed nor counted
    assert any(i.invited > now for i in org.invites)

"""Shared fixtures: a demo-world simulator at a fixed instant, served over real loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from simulator.app import Simulator
from simulator.clock import SimClock
from simulator.faults import FaultPlan
from simulator.serve import Running, serve_in_thread
from simulator.world import World

FIXED_NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

#: the test files that take longest (``--durations``), started first so that the two workers of
#: ``make test`` (each taking whole files) end at about the same time
SLOWEST_FILES = (
    "browser/test_ui.py",
    "test_chaos.py",
    "test_privacy_end_to_end.py",
    "test_focus_export.py",
    "test_demo.py",
    "test_enterprise_engagement.py",
    "test_secrets_scan.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    rank = {name: i for i, name in enumerate(SLOWEST_FILES)}

    def file_rank(item: pytest.Item) -> int:
        path = Path(item.path)
        return (
            rank.get(path.relative_to(tests).as_posix(), len(rank))
            if path.is_relative_to(tests)
            else len(rank)
        )

    items.sort(key=file_rank)  # stable: every other file, and the order inside a file, as collected


UNLIMITED = {"console": 1_000_000, "enterprise": 1_000_000}


def make_sim(
    world: str = "demo",
    seed: int = 7,
    now: datetime = FIXED_NOW,
    rate_limits: dict | None = None,
    strict_params: bool = True,
    **kw,
) -> Simulator:
    """A simulator at a fixed instant. Rate limits are lifted unless a test asks for them.

    Query parameters the reference does not document are refused (``strict_params``), so a misspelt
    parameter in the client fails its test instead of being silently ignored.
    """
    return Simulator(
        World.build(world, seed, rate_limits or UNLIMITED),
        clock=SimClock(now),
        strict_params=strict_params,
        **kw,
    )


@pytest.fixture(scope="session")
def demo_sim() -> Simulator:
    return make_sim()


@pytest.fixture(scope="session")
def demo_server(demo_sim: Simulator) -> Iterator[Running]:
    with serve_in_thread(demo_sim) as running:
        yield running


def client_for(server: Running, slug: str) -> httpx.Client:
    """An httpx client authenticated as organization ``slug`` with the documented headers."""
    org = server.sim.world.by_slug(slug)
    return httpx.Client(
        base_url=server.base_url,
        timeout=30,
        headers={"x-api-key": org.api_key, "anthropic-version": "2023-06-01"},
    )


@pytest.fixture(scope="session")
def console(demo_server: Running) -> Iterator[httpx.Client]:
    with client_for(demo_server, "acme-console") as c:
        yield c


@pytest.fixture(scope="session")
def enterprise(demo_server: Running) -> Iterator[httpx.Client]:
    with client_for(demo_server, "acme-enterprise") as c:
        yield c


class EveryNthCursorExpires(FaultPlan):
    """A 410 on every nth request that carries a cursor (deterministic whatever the order of concurrent requests)."""

    def __init__(self, n: int) -> None:
        super().__init__({"410": 1.0})
        self.n, self.cursors, self.expired = n, 0, 0

    def draw(self, has_cursor: bool) -> str | None:
        if not has_cursor:
            return None
        with self._lock:
            self.cursors += 1
            if self.cursors % self.n:
                return None
            self.expired += 1
            return "410"


@pytest.fixture(scope="session")
def raw_warehouse(tmp_path_factory):
    """The demo world's raw Console, Enterprise usage/cost and inventory tables over 14 days (built once)."""
    from tests.raw_warehouse import build_raw_warehouse

    return build_raw_warehouse(make_sim(), tmp_path_factory.mktemp("raw"))

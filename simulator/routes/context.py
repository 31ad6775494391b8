"""What a route handler sees of one request (Ctx), and how a route is declared (Endpoint)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulator.params import Query
from simulator.world.organization import Organization


@dataclass
class Ctx:
    """What a handler sees of one request."""

    sim: Any  # the running simulator.app.Simulator
    org: Organization
    key_type: str
    query: Query
    headers: dict[str, str]
    path: dict[str, str]
    now: datetime
    endpoint: str = ""  # the route template, e.g. /v1/organizations/users
    #: the instant the source's data stands at: ``now`` unless the source is stalled (simulator.stalls)
    data_now: datetime | None = None

    def __post_init__(self) -> None:
        if self.data_now is None:
            self.data_now = self.now

    @property
    def shapes(self) -> str:
        """The documented variant served (``both``, ``docs`` or ``sdk``; see ``simulator.shapes``)."""
        return self.sim.shapes

    def beta(self, flag: str) -> bool:
        return any(flag == b.strip() for b in self.headers.get("anthropic-beta", "").split(","))


@dataclass(frozen=True)
class Endpoint:
    path: str
    handler: Callable[[Ctx], dict]
    #: the key types allowed: admin, analytics, personal, service_account (see Organization.keys)
    keys: tuple[str, ...]
    #: the query parameters the reference documents (arrays with their brackets): what strict mode accepts
    params: tuple[str, ...] = ()
    cursor_param: str = "page"

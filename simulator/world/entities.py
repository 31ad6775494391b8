"""The people, workspaces, API keys and invites inside an organization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from simulator.clock import day_start, iso


@dataclass(frozen=True)
class User:
    id: str
    person: int  # index of the person within the company (same person, same email across orgs)
    email: str
    name: str
    role: str
    added: date
    removed: date | None  # first day the user is no longer a member

    def member_on(self, d: date) -> bool:
        return self.added <= d and (self.removed is None or d < self.removed)

    def added_at(self) -> str:
        return iso(day_start(self.added) + timedelta(hours=9, minutes=self.person % 60))


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    created: date
    archived: date | None
    default_inference_geo: str
    color: str
    tags: dict
    is_default: bool = False

    def active_on(self, d: date) -> bool:
        return self.created <= d and (self.archived is None or d < self.archived)


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    workspace: Workspace
    created: date
    created_by: str | None
    disabled: date | None  # status becomes `disabled_status` from that day
    disabled_status: str  # inactive | archived | expired
    expires: date | None
    hint: str
    # usage profile
    models: tuple[str, ...]
    weights: tuple[float, ...]
    scale: float
    batch_share: float
    priority_share: float
    long_context_share: float
    fast_share: float
    web_search: bool

    def usable_on(self, d: date) -> bool:
        if d < self.created or (self.disabled is not None and d >= self.disabled):
            return False
        return self.workspace.active_on(d)

    def status_at(self, d: date) -> str:
        if self.workspace.archived is not None and d >= self.workspace.archived:
            return "archived"
        if self.disabled is not None and d >= self.disabled:
            return self.disabled_status
        return "active"


@dataclass(frozen=True)
class Invite:
    id: str
    email: str
    role: str
    invited: datetime
    expires: datetime
    accepted: datetime | None

    def status_at(self, now: datetime) -> str:
        if self.accepted is not None and self.accepted <= now:
            return "accepted"
        return "expired" if now >= self.expires else "pending"

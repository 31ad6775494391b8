"""What worlds are made of: company specs and sizes, the named profiles and fixed dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

HORIZON_END = date(2027, 12, 31)
JOINS_UNTIL = date(2026, 12, 31)  # later joiners arrive spread over the organization's first year or so
ENTERPRISE_DATA_FLOOR = date(2026, 1, 1)


@dataclass(frozen=True)
class ConsoleSize:
    users: int
    workspaces: int
    api_keys: int
    models: int
    daily_tokens: int  # order of magnitude of an average weekday's input tokens per active key


@dataclass(frozen=True)
class EnterpriseSize:
    seats: int
    models: int


@dataclass(frozen=True)
class CompanySpec:
    slug: str
    name: str
    domain: str
    console: ConsoleSize | None
    enterprise: EnterpriseSize | None


def _acme(console: ConsoleSize, enterprise: EnterpriseSize) -> CompanySpec:
    return CompanySpec("acme", "Acme Corp", "acme.example", console, enterprise)


PROFILES: dict[str, tuple[CompanySpec, ...]] = {
    "demo": (
        _acme(
            ConsoleSize(users=30, workspaces=4, api_keys=14, models=6, daily_tokens=4_000_000),
            EnterpriseSize(seats=150, models=5),
        ),
        CompanySpec(
            "globex",
            "Globex Industries",
            "globex.example",
            ConsoleSize(users=12, workspaces=3, api_keys=6, models=4, daily_tokens=2_000_000),
            None,
        ),
    ),
    "small": (
        _acme(
            ConsoleSize(users=40, workspaces=5, api_keys=20, models=6, daily_tokens=4_000_000),
            EnterpriseSize(seats=250, models=5),
        ),
    ),
    "medium": (
        _acme(
            ConsoleSize(users=300, workspaces=20, api_keys=100, models=9, daily_tokens=6_000_000),
            EnterpriseSize(seats=2_000, models=8),
        ),
    ),
    "large": (
        _acme(
            ConsoleSize(users=2_000, workspaces=60, api_keys=500, models=12, daily_tokens=8_000_000),
            EnterpriseSize(seats=10_000, models=12),
        ),
    ),
}

DEFAULT_RATE_LIMITS = {"console": 120, "enterprise": 60}

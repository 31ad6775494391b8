"""Worlds: companies, their organizations and the people, workspaces and keys inside them.

Everything is derived from the seed, independently of the clock: a user "joins" on a fixed day
and simply does not exist yet when the clock is earlier. The clock only filters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from simulator.clock import day_start, iso
from simulator.world.organization import Organization
from simulator.world.profiles import DEFAULT_RATE_LIMITS, PROFILES

__all__ = ["World", "day_start", "iso"]


@dataclass
class World:
    """A named profile built from a seed: every organization of every company."""

    name: str
    seed: int
    organizations: list[Organization]

    @classmethod
    def build(
        cls,
        name: str = "demo",
        seed: int = 7,
        rate_limits: dict[str, int] | None = None,
        hipaa_ready: Iterable[str] = (),
    ) -> World:
        """``hipaa_ready``: slugs of organizations with HIPAA readiness enabled (the Usage and Cost Analytics
        API refuses them with the documented 400); their data is otherwise unchanged."""
        if name not in PROFILES:
            raise ValueError(f"unknown world {name!r}: choose one of {', '.join(PROFILES)}")
        limits = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
        hipaa = set(hipaa_ready)
        orgs = []
        for company in PROFILES[name]:
            for kind in ("console", "enterprise"):
                if getattr(company, kind) is not None:
                    org = Organization(seed, company, kind, limits[kind])
                    org.hipaa_ready = org.slug in hipaa
                    orgs.append(org)
        unknown = sorted(hipaa - {o.slug for o in orgs})
        if unknown:
            raise ValueError(f"hipaa_ready: no organization {unknown[0]!r} in world {name!r}")
        return cls(name, seed, orgs)

    def by_key(self, key: str) -> Organization | None:
        found = self.credential(key)
        return found[0] if found else None

    def credential(self, key: str) -> tuple[Organization, str] | None:
        """The organization a key opens and the key's type (``Organization.keys``), or None."""
        for o in self.organizations:
            for kind, known in o.keys.items():
                if known == key:
                    return o, kind
        return None

    def by_slug(self, slug: str) -> Organization:
        for o in self.organizations:
            if o.slug == slug:
                return o
        raise KeyError(f"no organization {slug!r} in world {self.name!r}")

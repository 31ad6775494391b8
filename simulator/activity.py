"""Who is active on which surface on a given day: the shared plan behind every Enterprise endpoint.

Engagement records, per-user token usage and cost, and the summaries are all derived from this
plan, so a user who has Claude Code tokens on a day also has Claude Code activity that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache

import numpy as np

from simulator.ids import make_id, np_rng
from simulator.world.organization import Organization

#: Surfaces a seat user can be active on (the analytics ``product`` values that belong to a user).
SURFACES = ("chat", "claude_code", "cowork", "office_agent", "claude_in_chrome", "claude_design")
_SURFACE_BASE = {
    "chat": 0.92,
    "claude_code": 0.0,
    "cowork": 0.0,
    "office_agent": 0.0,
    "claude_in_chrome": 0.0,
    "claude_design": 0.0,
}
WEEKDAY_FACTOR = (1.0, 1.04, 1.05, 1.02, 0.92, 0.32, 0.26)  # Monday..Sunday


def weekday_factor(d: date) -> float:
    return WEEKDAY_FACTOR[d.weekday()]


def growth_factor(org: Organization, d: date) -> float:
    """Slow adoption growth: engagement rises over the organization's first year."""
    days = max(0, (d - org.created).days)
    return min(1.0, 0.55 + 0.45 * days / 365)


@dataclass(frozen=True)
class UserTraits:
    """Per-user propensities, fixed for the life of the organization (arrays indexed like org.users)."""

    engagement: np.ndarray  # probability scale of being active on a weekday
    surface_affinity: dict[str, np.ndarray]  # probability of using a surface when active
    intensity: np.ndarray  # how heavy a user is when active (lognormal, mean ~1)
    added_day: np.ndarray  # ordinal day of joining
    removed_day: np.ndarray  # ordinal day of leaving (max int when never)
    rbac_groups: np.ndarray  # [U, G] bool membership


@dataclass(frozen=True)
class DayActivity:
    day: date
    member: np.ndarray  # [U] bool
    active: np.ndarray  # [U] bool (implies member)
    surfaces: dict[str, np.ndarray]  # surface -> [U] bool (implies active)
    intensity: np.ndarray  # [U] float, 0 where inactive


class ActivityPlan:
    """Deterministic daily activity for one Enterprise organization."""

    GROUPS = ("Engineering", "Sales", "Legal", "Finance", "Marketing", "Support", "Research", "Leadership")

    def __init__(self, org: Organization) -> None:
        self.org = org

    @cached_property
    def rbac_group_ids(self) -> tuple[str, ...]:
        return tuple(make_id("rbac_group", self.org.world_seed, self.org.slug, g) for g in self.GROUPS)

    @cached_property
    def traits(self) -> UserTraits:
        users = self.org.users
        n = len(users)
        g = np_rng(self.org.world_seed, self.org.slug, "traits")
        engagement = np.clip(g.beta(2.2, 1.6, n), 0.03, 0.97)
        dev = g.random(n) < 0.28
        affinity = {
            "chat": np.full(n, _SURFACE_BASE["chat"]),
            "claude_code": np.where(dev, g.uniform(0.5, 0.95, n), g.uniform(0, 0.04, n)),
            "cowork": g.uniform(0, 0.35, n) * (g.random(n) < 0.5),
            "office_agent": g.uniform(0, 0.4, n) * (g.random(n) < 0.35),
            "claude_in_chrome": g.uniform(0, 0.3, n) * (g.random(n) < 0.25),
            "claude_design": g.uniform(0, 0.3, n) * (g.random(n) < 0.06),
        }
        intensity = g.lognormal(0.0, 0.7, n)
        added = np.array([u.added.toordinal() for u in users], dtype=np.int64)
        removed = np.array([u.removed.toordinal() if u.removed else 10**9 for u in users], dtype=np.int64)
        groups = np.zeros((n, len(self.GROUPS)), dtype=bool)
        primary = np.where(dev, 0, g.integers(1, len(self.GROUPS), n))
        groups[np.arange(n), primary] = True
        second = g.random(n) < 0.15
        groups[np.arange(n)[second], g.integers(0, len(self.GROUPS), int(second.sum()))] = True
        return UserTraits(engagement, affinity, intensity, added, removed, groups)

    def day(self, d: date) -> DayActivity:
        return _day_activity(self, d)


@lru_cache(maxsize=2048)
def _day_activity(plan: ActivityPlan, d: date) -> DayActivity:
    t = plan.traits
    g = np_rng(plan.org.world_seed, plan.org.slug, "activity", d.isoformat())
    n = len(t.engagement)
    o = d.toordinal()
    member = (t.added_day <= o) & (o < t.removed_day)
    p = t.engagement * weekday_factor(d) * growth_factor(plan.org, d)
    active = member & (g.random(n) < p)
    surfaces = {}
    for name in SURFACES:
        surfaces[name] = active & (g.random(n) < t.surface_affinity[name])
    # everyone active does something: fall back to chat
    none = active & ~np.any(np.stack(list(surfaces.values())), axis=0)
    surfaces["chat"] = surfaces["chat"] | none
    intensity = np.where(active, t.intensity * g.lognormal(0.0, 0.35, n), 0.0)
    for arr in (member, active, intensity, *surfaces.values()):
        arr.setflags(write=False)
    return DayActivity(d, member, active, surfaces, intensity)

"""EngagementData: one Enterprise organization's engagement, bound to the simulator's activity plan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import cached_property

import numpy as np

from simulator.activity import ActivityPlan
from simulator.catalog import format_cents
from simulator.generators.cache import ResultCache
from simulator.generators.engagement.arrays import DayData, rank_of
from simulator.generators.engagement.catalogues import Catalogues
from simulator.generators.engagement.day import DayBuilder
from simulator.generators.engagement.queries import Queries
from simulator.generators.engagement.summaries import Summaries
from simulator.ids import make_uuid, np_rng
from simulator.world.organization import Organization


# -- the generator ------------------------------------------------------------------------------------
class EngagementData(Catalogues, DayBuilder, Queries, Summaries):
    """Engagement for one Enterprise organization; bound to the simulator's ActivityPlan on first use."""

    DAY_CACHE_BYTES = 256 * 2**20  # per organization: every day of a small org, ~85 days of a 10,000-seat one
    RESULT_CACHE = 96

    def __init__(self, org: Organization) -> None:
        self.org = org
        self.plan: ActivityPlan | None = None
        self._days = ResultCache(self.DAY_CACHE_BYTES, size=lambda day: day.nbytes)
        self._results = ResultCache(self.RESULT_CACHE)

    # -- caches -----------------------------------------------------------------------------------------
    def cached(self, key: tuple, build: Callable[[], object]):
        """An LRU of query results (sorted tables, summary series) keyed by the canonical query."""
        return self._results.get(key, build)

    def day(self, d: date) -> DayData:
        return self._days.get(d, lambda: self._build_day(d))

    # -- people and groups --------------------------------------------------------------------------------
    @property
    def n_users(self) -> int:
        return len(self.org.users)

    @cached_property
    def user_ids(self) -> tuple[str, ...]:
        return tuple(u.id for u in self.org.users)

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {u.id: i for i, u in enumerate(self.org.users)}

    @cached_property
    def user_objects(self) -> tuple[dict, ...]:
        """The ``user`` object of /analytics/users rows (shared, read-only)."""
        return tuple({"id": u.id, "email_address": u.email, "type": "user"} for u in self.org.users)

    @cached_property
    def email_rank(self) -> np.ndarray:
        return rank_of([u.email for u in self.org.users])

    @cached_property
    def user_id_rank(self) -> np.ndarray:
        return rank_of(list(self.user_ids))

    @cached_property
    def group_ids(self) -> tuple[str, ...]:
        return self.plan.rbac_group_ids

    @cached_property
    def group_names(self) -> tuple[str, ...]:
        return ActivityPlan.GROUPS

    @cached_property
    def group_uuids(self) -> tuple[str, ...]:
        return tuple(
            make_uuid(self.org.world_seed, self.org.slug, "rbac_group", g) for g in ActivityPlan.GROUPS
        )

    @cached_property
    def group_rank(self) -> np.ndarray:
        return rank_of(list(self.group_ids))

    @cached_property
    def rbac(self) -> np.ndarray:
        return self.plan.traits.rbac_groups

    def group_for(self, value: str) -> int | None:
        """The group a filter value names: tagged ``rbac_group_...`` id or bare UUID (None if unknown)."""
        if value in self.group_ids:
            return self.group_ids.index(value)
        if value.lower() in self.group_uuids:
            return self.group_uuids.index(value.lower())
        return None

    @cached_property
    def office_pref(self) -> np.ndarray:
        return np_rng(self.org.world_seed, self.org.slug, "office-app").integers(0, 4, self.n_users)


def money(microcents: int) -> str:
    """Micro-cents as the API's decimal string in cents."""
    return format_cents(int(microcents))


def engagement(sim, org: Organization) -> EngagementData:
    """The organization's engagement data, bound to the simulator's shared activity plan."""
    eng: EngagementData = sim.data(org, "engagement")
    if eng.plan is None:
        eng.plan = sim.data(org, "activity")
    return eng


def day_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]

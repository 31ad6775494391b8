"""The fine records of one organization-day, and ReportData: one organization's records and attributes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property, lru_cache

import numpy as np

from simulator.activity import ActivityPlan
from simulator.generators.cache import ResultCache
from simulator.generators.reports.codes import DayRecords, epoch
from simulator.generators.reports.generate import RecordGenerator
from simulator.generators.reports.spikes import Spike
from simulator.ids import digest, np_rng, rng
from simulator.world.organization import Organization

# ---------------------------------------------------------------------------------------------
# One organization-day


class ReportData(RecordGenerator):
    """Deterministic Enterprise usage and cost for one organization (``sim.data(org, "reports")``)."""

    def __init__(self, org: Organization, plan: ActivityPlan | None = None) -> None:
        self.org = org
        self._plan = plan
        self._results = ResultCache(24)
        self._spikes: dict[date, Spike | None] = {}  # each generated day's spike (see RecordGenerator.spike)

    # -- shared plan ----------------------------------------------------------------------------
    @property
    def plan(self) -> ActivityPlan:
        if self._plan is None:
            self._plan = ActivityPlan(self.org)
        return self._plan

    def attach(self, plan: ActivityPlan) -> None:
        if self._plan is None:
            self._plan = plan

    # -- static attributes ----------------------------------------------------------------------
    @cached_property
    def seats(self) -> int:
        return self.org.size.seats

    @cached_property
    def discount_percent_kept(self) -> int:
        """``100 * (1 - discount)``, an integer (discounts have two decimals)."""
        kept = (Decimal(1) - self.org.discount) * 100
        if kept != kept.to_integral_value():
            raise ValueError(f"discount {self.org.discount} must have at most two decimals")
        return int(kept)

    @cached_property
    def channels(self) -> tuple[str, ...]:
        n = max(4, self.seats // 40)
        return tuple(_slack_id("C0", self.org.world_seed, self.org.slug, "channel", i) for i in range(n))

    @cached_property
    def channel_weights(self) -> np.ndarray:
        w = 1.0 / (np.arange(len(self.channels)) + 1.0) ** 0.8
        return w / w.sum()

    @cached_property
    def slack_users(self) -> tuple[str, ...]:
        """Slack member ids: one per seat user (same index as org.users), then Slack-only guests."""
        users = tuple(
            _slack_id("U0", self.org.world_seed, self.org.company.slug, "slack", u.person)
            for u in self.org.users
        )
        guests = tuple(
            _slack_id("U0", self.org.world_seed, self.org.slug, "guest", i)
            for i in range(max(5, self.seats // 8))
        )
        return users + guests

    @cached_property
    def slack_connected(self) -> np.ndarray:
        """Seat users who connected their Claude account to Claude Tag (their DMs are attributed)."""
        g = np_rng(self.org.world_seed, self.org.slug, "slack-connected")
        out = g.random(len(self.org.users)) < 0.35
        out.setflags(write=False)
        return out

    @cached_property
    def us_share(self) -> float:
        return rng(self.org.world_seed, self.org.slug, "us-geo").choice((0.0, 0.1, 0.3))

    @cached_property
    def membership(self) -> np.ndarray:
        """[users, groups] RBAC membership (any-membership)."""
        return self.plan.traits.rbac_groups

    @cached_property
    def removed_ordinal(self) -> np.ndarray:
        return np.array(
            [u.removed.toordinal() if u.removed else 10**9 for u in self.org.users], dtype=np.int64
        )

    @cached_property
    def rbac_ids(self) -> tuple[str, ...]:
        return self.plan.rbac_group_ids

    def rbac_index(self, value: str) -> int | None:
        """Index of an RBAC group given its tagged id or the bare id (tag without ``rbac_group_``)."""
        for i, gid in enumerate(self.rbac_ids):
            if value in (gid, gid.removeprefix("rbac_group_")):
                return i
        return None

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {u.id: i for i, u in enumerate(self.org.users)}

    @cached_property
    def slack_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.slack_users)}

    @cached_property
    def channel_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.channels)}

    # -- records ----------------------------------------------------------------------------------
    def day(self, d: date) -> DayRecords:
        return _day_records(self, d)

    def visible(self, recs: DayRecords, refreshed: datetime | None, revision_days: int) -> np.ndarray | None:
        """Mask of the records a refresh at ``refreshed`` shows (None = all of them)."""
        if refreshed is None:
            return None
        rel = int(refreshed.timestamp()) - epoch(recs.day)
        if rel >= 86_400 * (1 + revision_days):
            return None
        if rel <= 0:
            return np.zeros(recs.n, dtype=bool)
        return (recs.ts < rel) & (recs.arrival <= rel)

    # -- per-query result cache ----------------------------------------------------------------------
    def cached(self, key: tuple, compute: Callable[[], object]):
        return self._results.get(key, compute)


def _slack_id(prefix: str, *parts: object) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    n = int.from_bytes(digest("slack", prefix, *parts)[:8], "big")
    out = []
    for _ in range(9):
        n, r = divmod(n, 36)
        out.append(alphabet[r])
    return prefix + "".join(out)


@lru_cache(maxsize=192)
def _day_records(rd: ReportData, d: date) -> DayRecords:
    return rd._generate(d)


def reports_for(sim, org: Organization) -> ReportData:
    """The organization's report data, sharing the simulator's activity plan."""
    rd = sim.data(org, "reports")
    rd.attach(sim.data(org, "activity"))
    return rd

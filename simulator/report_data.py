"""Enterprise token usage and cost: the deterministic records behind the analytics usage/cost reports.

One organization-day is a set of *fine records*, generated once with numpy and cached:

* seat-user sessions, derived from the shared :class:`~simulator.activity.ActivityPlan` (a user active
  on Claude Code that day has Claude Code sessions), one record per session, on one model, at one
  minute of the day;
* usage no seat user is accountable for, which the org-level reports show and the per-user reports
  leave out: Claude Tag (Claude in Slack) channel usage (``slack_channel_id``, spend category, Slack
  user), Claude Tag direct messages of members who never connected a Claude account, Code Review
  sessions (product ``claude_code`` with no user), unattributed usage (product ``other``) and
  code-execution spans (product null, cost type ``code_execution``; ``requests`` counts spans).
  Claude Tag direct messages of *connected* members are attributed to the member.

Money is integer micro-cents (1e-6 US cents), computed once per record and cost component (the five
token types, web search, code execution): ``list`` = tokens x list price rounded half-up, and
``amount`` = ``list`` x (1 - the organization's discount) rounded half-up. Every report sums these
integers, so totals agree exactly across groupings, buckets and endpoints.

The beta ``/analytics/usage`` and ``/analytics/cost`` also accept an Admin key: :class:`ConsoleReports`
serves a Console organization's own API usage there, read from ``simulator.console_data`` and billed
exactly as the Console cost report bills it.

Freshness: a record has a timestamp and an *arrival* time. A refresh at ``data_refreshed_at`` shows
the records that happened and arrived before it, so the current day is partial and a few late
records keep filling in recent days (revisions that converge to the final value). Once a day is
``revision_days`` old at the refresh, everything of it is shown and it never changes again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property, lru_cache

import numpy as np

from simulator.activity import SURFACES, ActivityPlan, growth_factor, weekday_factor
from simulator.catalog import (
    CODE_EXECUTION_FREE_SECONDS_PER_DAY,
    CODE_EXECUTION_MICROCENTS_PER_HOUR,
    MODELS,
    MODELS_BY_ID,
    TOKEN_TYPES,
    WEB_SEARCH_MICROCENTS,
    price_microcents_per_token,
)
from simulator.console_data import split_integer
from simulator.freshness import report_refreshed_at
from simulator.ids import digest, np_rng, rng
from simulator.truth import provider
from simulator.world import Organization, day_start, iso

# ---------------------------------------------------------------------------------------------
# Codes of the record dimensions (-1 is null everywhere)

#: ``product`` codes, legacy-report spelling (Claude Tag is ``claude-tag`` as in SDK 2.12).
PRODUCTS = (
    "chat",
    "claude_code",
    "cowork",
    "office_agent",
    "claude_in_chrome",
    "claude_design",
    "claude-tag",
    "other",
)
#: Same codes, spelled as the beta ``/analytics/usage`` and ``/analytics/cost`` endpoints spell them.
PRODUCTS_V2 = (
    "chat",
    "claude_code",
    "cowork",
    "office_agent",
    "claude_in_chrome",
    "claude_design",
    "claude_tag",
    "other",
)
P_TAG = PRODUCTS.index("claude-tag")
P_OTHER = PRODUCTS.index("other")
P_CODE = PRODUCTS.index("claude_code")
CONTEXT_WINDOWS = ("0-200k", "200k-1M")
GEOS = ("global", "us")
SPEEDS = ("standard", "fast")
TAG_CATEGORIES = ("dm", "engaged", "monitoring", "proactive", "scheduled")
#: Money components, in the column order of ``DayRecords.lst`` (token types as in catalog.TOKEN_TYPES).
COMPONENTS = (*TOKEN_TYPES, "web_search", "code_execution")
C_WEB, C_EXEC = 5, 6
MODEL_IDS = tuple(m.id for m in MODELS)

# token columns (catalog.TOKEN_TYPES order)
T_UNCACHED, T_5M, T_1H, T_READ, T_OUT = range(5)

# ---------------------------------------------------------------------------------------------
# Generation parameters

_SESSION_RATE = {
    "chat": 1.0,
    "claude_code": 0.8,
    "cowork": 0.6,
    "office_agent": 0.5,
    "claude_in_chrome": 0.4,
    "claude_design": 0.4,
}
#: Median tokens of one session: uncached input, 5m cache write, 1h cache write, cache read, output.
_TOKENS = {
    "chat": (6_000, 3_000, 300, 20_000, 1_200),
    "claude_code": (30_000, 120_000, 50_000, 1_500_000, 22_000),
    "cowork": (15_000, 50_000, 8_000, 300_000, 7_000),
    "office_agent": (10_000, 12_000, 0, 60_000, 3_500),
    "claude_in_chrome": (14_000, 18_000, 0, 100_000, 2_000),
    "claude_design": (9_000, 20_000, 2_000, 120_000, 14_000),
}
_REQUESTS = {
    "chat": 4,
    "claude_code": 45,
    "cowork": 18,
    "office_agent": 6,
    "claude_in_chrome": 9,
    "claude_design": 7,
}
_SEARCHES = {
    "chat": 0.5,
    "claude_code": 0.1,
    "cowork": 0.9,
    "office_agent": 0.2,
    "claude_in_chrome": 0.7,
    "claude_design": 0.1,
}
_TIERS = {
    "chat": {"opus": 0.25, "sonnet": 0.6, "haiku": 0.15},
    "claude_code": {"opus": 0.55, "sonnet": 0.4, "haiku": 0.05},
    "cowork": {"opus": 0.4, "sonnet": 0.5, "haiku": 0.1},
    "office_agent": {"opus": 0.1, "sonnet": 0.6, "haiku": 0.3},
    "claude_in_chrome": {"opus": 0.1, "sonnet": 0.5, "haiku": 0.4},
    "claude_design": {"opus": 0.6, "sonnet": 0.4, "haiku": 0.0},
}
_LONG_CONTEXT = {"claude_code": 0.07, "cowork": 0.04}
_FAST = {"claude_code": 0.08}
#: Relative activity per UTC hour (a global company: Europe and the Americas overlap mid-day UTC).
_DIURNAL = np.array(
    [
        1.0,
        0.7,
        0.5,
        0.4,
        0.4,
        0.5,
        0.8,
        1.2,
        2.0,
        3.0,
        3.5,
        3.8,
        4.0,
        4.3,
        4.5,
        4.6,
        4.4,
        4.0,
        3.4,
        2.8,
        2.3,
        1.9,
        1.5,
        1.2,
    ]
)
_DIURNAL = _DIURNAL / _DIURNAL.sum()
_LATE_SHARE = 0.08  # records that arrive days late (revisions)
_MAX_LATE_DAYS = 29
_TOKEN_CAP = 2_000_000_000


def _tier(model_id: str) -> str:
    for t in ("opus", "sonnet", "haiku"):
        if t in model_id:
            return t
    return "sonnet"


def epoch(d: date) -> int:
    return int(day_start(d).timestamp())


def usd(microcents: int) -> str:
    """Integer micro-cents as an exact USD decimal string (8 decimals)."""
    return f"{Decimal(int(microcents)).scaleb(-8):.8f}"


# ---------------------------------------------------------------------------------------------
# One organization-day


@dataclass(frozen=True)
class DayRecords:
    """Fine records of one organization-day (arrays of equal length)."""

    day: date
    ts: np.ndarray  # int32 seconds since the day's midnight UTC
    arrival: np.ndarray  # int32 seconds since midnight when the record reaches the export
    user: np.ndarray  # int32 index into org.users, -1 = no seat user
    product: np.ndarray  # int8 into PRODUCTS, -1 = null (code execution)
    model: np.ndarray  # int8 into catalog.MODELS, -1 = null
    cw: np.ndarray  # int8 into CONTEXT_WINDOWS, -1 = null
    geo: np.ndarray  # int8 into GEOS, -1 = null (region not set)
    speed: np.ndarray  # int8 into SPEEDS, -1 = null
    channel: np.ndarray  # int16 into ReportData.channels, -1 = null
    tag_cat: np.ndarray  # int8 into TAG_CATEGORIES, -1 = null
    tag_user: np.ndarray  # int32 into ReportData.slack_users, -1 = null
    tokens: np.ndarray  # int64 [n, 5] (catalog.TOKEN_TYPES order)
    requests: np.ndarray  # int64 (execution spans on code-execution records)
    searches: np.ndarray  # int64 web search requests
    lst: np.ndarray  # int64 [n, 7] list price in micro-cents per COMPONENTS
    amt: np.ndarray  # int64 [n, 7] discounted amount in micro-cents per COMPONENTS

    @property
    def n(self) -> int:
        return len(self.ts)


class ReportData:
    """Deterministic Enterprise usage and cost for one organization (``sim.data(org, "reports")``)."""

    def __init__(self, org: Organization, plan: ActivityPlan | None = None) -> None:
        self.org = org
        self._plan = plan
        self._lock = threading.Lock()
        self._results: OrderedDict = OrderedDict()

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
    def cached(self, key: tuple, compute: Callable[[], object], maxsize: int = 24):
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        value = compute()
        with self._lock:
            self._results[key] = value
            self._results.move_to_end(key)
            while len(self._results) > maxsize:
                self._results.popitem(last=False)
        return value

    # -- generation ------------------------------------------------------------------------------------
    def _generate(self, d: date) -> DayRecords:
        org = self.org
        g = np_rng(org.world_seed, org.slug, "reports", d.isoformat())
        models = org.models_on(d)
        parts: list[dict] = []
        if d >= org.created:
            act = self.plan.day(d)
            for surface in SURFACES:
                users = np.flatnonzero(act.surfaces[surface])
                if len(users) == 0:
                    continue
                k = 1 + g.poisson(_SESSION_RATE[surface] * act.intensity[users])
                uidx = np.repeat(users, k)
                parts.append(
                    self._sessions(
                        g,
                        d,
                        models,
                        surface,
                        uidx,
                        np.repeat(act.intensity[users], k),
                        PRODUCTS.index(surface),
                    )
                )
            parts.extend(self._non_seat(g, d, models, act))
        cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else _empty_columns()
        cols["lst"] = self._price(d, cols)
        cols["amt"] = amounts(self, cols["lst"])
        recs = DayRecords(day=d, **cols)
        for name in recs.__dataclass_fields__:
            arr = getattr(recs, name)
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)
        return recs

    def _sessions(
        self,
        g: np.random.Generator,
        d: date,
        models,
        profile: str,
        users: np.ndarray,
        intensity: np.ndarray,
        product: int,
        *,
        scale: float = 1.0,
        tag_cat=None,
        tag_user=None,
        channel=None,
    ) -> dict:
        n = len(users)
        weights = np.array([_TIERS[profile][_tier(m.id)] for m in models], dtype=float)
        tier_names = [_tier(m.id) for m in models]
        for t in set(tier_names):  # newer models of a tier get more of its traffic
            idx = [i for i, name in enumerate(tier_names) if name == t]
            ranked = sorted(idx, key=lambda i: (models[i].available_from, models[i].id))
            for rank, i in enumerate(ranked):
                weights[i] *= (1 + 2 * rank) / sum(1 + 2 * r for r in range(len(ranked)))
        if weights.sum() <= 0:
            weights = np.ones(len(models))
        pick = g.choice(len(models), size=n, p=weights / weights.sum())
        model_codes = np.array([MODEL_IDS.index(m.id) for m in models], dtype=np.int8)[pick]
        long_ok = np.array([m.long_context for m in models])[pick]
        fast_ok = np.array([m.fast_multiplier is not None for m in models])[pick]
        geo_ok = np.array([m.us_geo for m in models])[pick]

        cw = ((g.random(n) < _LONG_CONTEXT.get(profile, 0.0)) & long_ok).astype(np.int8)
        speed = ((g.random(n) < _FAST.get(profile, 0.0)) & fast_ok).astype(np.int8)
        geo = np.where(geo_ok, (g.random(n) < self.us_share).astype(np.int8), np.int8(-1)).astype(np.int8)

        med = np.array(_TOKENS[profile], dtype=float) * scale
        noise = g.lognormal(0.0, 0.6, (n, 5))
        size = intensity[:, None] * noise * med[None, :]
        size[:, T_UNCACHED] *= np.where(cw == 1, 3.0, 1.0)
        size[:, T_READ] *= np.where(cw == 1, 2.0, 1.0)
        tokens = np.minimum(np.rint(size), _TOKEN_CAP).astype(np.int64)
        requests = 1 + g.poisson(_REQUESTS[profile] * intensity * scale)
        searches = g.poisson(_SEARCHES[profile] * np.minimum(intensity, 4.0))
        ts, arrival = _times(g, n)
        minus = np.full(n, -1)
        return {
            "ts": ts,
            "arrival": arrival,
            "user": users.astype(np.int32),
            "product": np.full(n, product, dtype=np.int8),
            "model": model_codes,
            "cw": cw,
            "geo": geo,
            "speed": speed,
            "channel": (minus if channel is None else channel).astype(np.int16),
            "tag_cat": (minus if tag_cat is None else tag_cat).astype(np.int8),
            "tag_user": (minus if tag_user is None else tag_user).astype(np.int32),
            "tokens": tokens,
            "requests": requests.astype(np.int64),
            "searches": searches.astype(np.int64),
            "exec_seconds": np.zeros(n, dtype=np.int64),
        }

    def _non_seat(self, g: np.random.Generator, d: date, models, act) -> list[dict]:
        org = self.org
        wf = weekday_factor(d) * growth_factor(org, d)
        n_users = len(org.users)
        out = []
        members = np.flatnonzero(act.member)
        guests = np.arange(n_users, len(self.slack_users))
        pool = np.concatenate([members, guests])
        # Claude Tag in Slack channels (no seat user; engaged/scheduled carry a Slack member id)
        n = int(g.poisson(self.seats * 0.06 * wf))
        if n:
            cat = g.choice(len(TAG_CATEGORIES), size=n, p=[0.0, 0.5, 0.2, 0.18, 0.12]).astype(np.int8)
            who = pool[g.integers(0, len(pool), n)]
            attributed = (cat == TAG_CATEGORIES.index("engaged")) | (cat == TAG_CATEGORIES.index("scheduled"))
            tag_user = np.where(attributed, who, -1)
            channel = g.choice(len(self.channels), size=n, p=self.channel_weights)
            channel = np.where(
                g.random(n) < 0.05, -1, channel
            )  # some Claude Tag usage has no channel recorded
            out.append(
                self._sessions(
                    g,
                    d,
                    models,
                    "chat",
                    np.full(n, -1),
                    g.lognormal(0, 0.5, n),
                    P_TAG,
                    scale=1.3,
                    tag_cat=cat,
                    tag_user=tag_user,
                    channel=channel,
                )
            )
        # Claude Tag direct messages: attributed to members who connected a Claude account
        dm_users = np.flatnonzero(act.active & self.slack_connected & (g.random(n_users) < 0.15))
        if len(dm_users):
            k = 1 + g.poisson(1.0, len(dm_users))
            users = np.repeat(dm_users, k)
            out.append(
                self._sessions(
                    g,
                    d,
                    models,
                    "chat",
                    users,
                    np.repeat(act.intensity[dm_users], k),
                    P_TAG,
                    tag_cat=np.zeros(len(users)),
                    tag_user=users,
                )
            )
        unconnected = np.concatenate([members[~self.slack_connected[members]], guests])
        n = int(g.poisson(self.seats * 0.01 * wf))
        if n and len(unconnected):
            who = unconnected[g.integers(0, len(unconnected), n)]
            out.append(
                self._sessions(
                    g,
                    d,
                    models,
                    "chat",
                    np.full(n, -1),
                    g.lognormal(0, 0.5, n),
                    P_TAG,
                    tag_cat=np.zeros(n),
                    tag_user=who,
                )
            )
        # Code Review: Claude Code work with no user account
        n = int(g.poisson(int(act.surfaces["claude_code"].sum()) * 0.25))
        if n:
            out.append(
                self._sessions(
                    g, d, models, "claude_code", np.full(n, -1), g.lognormal(0, 0.5, n), P_CODE, scale=0.4
                )
            )
        # unattributed usage, reported as "other"
        n = int(g.poisson(self.seats * 0.01 * wf))
        if n:
            out.append(self._sessions(g, d, models, "chat", np.full(n, -1), g.lognormal(0, 0.5, n), P_OTHER))
        # code execution: one record per execution span, no product/model/user
        n = int(g.poisson((self.seats * 0.12 + 30) * wf))
        if n:
            ts, arrival = _times(g, n)
            seconds = np.clip(np.rint(g.lognormal(np.log(600), 1.0, n)), 5, 4 * 3600).astype(np.int64)
            minus = np.full(n, -1)
            out.append(
                {
                    "ts": ts,
                    "arrival": arrival,
                    "user": minus.astype(np.int32),
                    "product": minus.astype(np.int8),
                    "model": minus.astype(np.int8),
                    "cw": minus.astype(np.int8),
                    "geo": minus.astype(np.int8),
                    "speed": minus.astype(np.int8),
                    "channel": minus.astype(np.int16),
                    "tag_cat": minus.astype(np.int8),
                    "tag_user": minus.astype(np.int32),
                    "tokens": np.zeros((n, 5), dtype=np.int64),
                    "requests": np.ones(n, dtype=np.int64),
                    "searches": np.zeros(n, dtype=np.int64),
                    "exec_seconds": seconds,
                }
            )
        return out

    def _price(self, d: date, cols: dict) -> np.ndarray:
        n = len(cols["ts"])
        lst = np.zeros((n, len(COMPONENTS)), dtype=np.int64)
        tok = cols["model"] >= 0
        if tok.any():
            table = _price_table(d)
            idx = (
                cols["model"][tok].astype(np.int64),
                cols["cw"][tok].astype(np.int64),
                cols["geo"][tok].astype(np.int64) + 1,
                cols["speed"][tok].astype(np.int64),
            )
            for t in range(5):
                p = table[idx[0], t, idx[1], idx[2], idx[3]]
                lst[tok, t] = (cols["tokens"][tok, t] * p + 5_000) // 10_000
        lst[:, C_WEB] = cols["searches"] * WEB_SEARCH_MICROCENTS
        seconds = cols.pop("exec_seconds", np.zeros(n, dtype=np.int64))
        ex = np.flatnonzero(seconds > 0)
        if len(ex):
            order = ex[np.argsort(cols["ts"][ex], kind="stable")]
            used = np.cumsum(seconds[order])
            billable = np.clip(used - CODE_EXECUTION_FREE_SECONDS_PER_DAY, 0, seconds[order])
            lst[order, C_EXEC] = (billable * CODE_EXECUTION_MICROCENTS_PER_HOUR + 1_800) // 3_600
        return lst


def _empty_columns() -> dict:
    z = np.zeros(0)
    return {
        "ts": z.astype(np.int32),
        "arrival": z.astype(np.int32),
        "user": z.astype(np.int32),
        "product": z.astype(np.int8),
        "model": z.astype(np.int8),
        "cw": z.astype(np.int8),
        "geo": z.astype(np.int8),
        "speed": z.astype(np.int8),
        "channel": z.astype(np.int16),
        "tag_cat": z.astype(np.int8),
        "tag_user": z.astype(np.int32),
        "tokens": np.zeros((0, 5), dtype=np.int64),
        "requests": z.astype(np.int64),
        "searches": z.astype(np.int64),
        "exec_seconds": z.astype(np.int64),
    }


def _times(g: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Second of the day of each record, and when it reaches the export (latency; a few arrive days late)."""
    hour = g.choice(24, size=n, p=_DIURNAL)
    ts = hour * 3600 + g.integers(0, 3600, n)
    latency = np.where(g.random(n) < 0.85, g.integers(300, 3 * 3600, n), g.integers(3 * 3600, 24 * 3600, n))
    late = g.random(n) < _LATE_SHARE
    # late records: half within days (exponential), half anywhere in the revision window
    delay = np.where(
        g.random(n) < 0.5, g.exponential(2 * 86_400, n), g.uniform(86_400, _MAX_LATE_DAYS * 86_400, n)
    )
    delay = np.clip(delay, 86_400, _MAX_LATE_DAYS * 86_400).astype(np.int64)
    latency = np.where(late, delay, latency)
    return ts.astype(np.int32), (ts + latency).astype(np.int32)


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


@lru_cache(maxsize=512)
def _price_table(d: date) -> np.ndarray:
    """List price per token, in 1e-4 micro-cents: [model, token type, context window, geo+1, speed]."""
    table = np.zeros((len(MODELS), 5, 2, 3, 2), dtype=np.int64)
    for mi, m in enumerate(MODELS):
        for t, tt in enumerate(TOKEN_TYPES):
            for c, cw in enumerate(CONTEXT_WINDOWS):
                for gi, geo in enumerate(("unset", *GEOS)):
                    for s, sp in enumerate(SPEEDS):
                        p = (
                            price_microcents_per_token(
                                m,
                                tt,
                                d,
                                service_tier="standard",
                                context_window=cw,
                                inference_geo=geo,
                                speed=sp,
                            )
                            * 10_000
                        )
                        if p != p.to_integral_value():
                            raise ValueError(f"price of {m.id} {tt} is not a multiple of 1e-4 micro-cents")
                        table[mi, t, c, gi, s] = int(p)
    table.setflags(write=False)
    return table


def reports_for(sim, org: Organization) -> ReportData:
    """The organization's report data, sharing the simulator's activity plan."""
    rd = sim.data(org, "reports")
    rd.attach(sim.data(org, "activity"))
    return rd


def _factory(org: Organization) -> ReportData:
    return ReportData(org)


# ---------------------------------------------------------------------------------------------
# Selecting records


@dataclass
class Selection:
    """Record filters of one query (None = no filter on that dimension)."""

    products: frozenset[int] | None = None
    models: frozenset[int] | None = None
    users: frozenset[int] | None = None
    rbac_groups: tuple[int, ...] | None = None
    channels: frozenset[int] | None = None
    cws: frozenset[int] | None = None
    geos: frozenset[int] | None = None
    speeds: frozenset[int] | None = None
    tag_cats: frozenset[int] | None = None
    tag_users: frozenset[int] | None = None
    seat_only: bool = False
    nothing: bool = False  # a filter that matches nothing for this organization

    def mask(self, rd: ReportData, r: DayRecords) -> np.ndarray | None:
        if self.nothing:
            return np.zeros(r.n, dtype=bool)
        m = None

        def both(a, b):
            return b if a is None else a & b

        if self.seat_only:
            m = both(m, r.user >= 0)
        for values, col in (
            (self.products, r.product),
            (self.models, r.model),
            (self.users, r.user),
            (self.channels, r.channel),
            (self.cws, r.cw),
            (self.geos, r.geo),
            (self.speeds, r.speed),
            (self.tag_cats, r.tag_cat),
            (self.tag_users, r.tag_user),
        ):
            if values is not None:
                m = both(m, np.isin(col, np.fromiter(values, dtype=np.int64, count=len(values))))
        if self.rbac_groups is not None:
            ok = (
                rd.membership[:, list(self.rbac_groups)].any(axis=1)
                if self.rbac_groups
                else np.zeros(len(rd.org.users), dtype=bool)
            )
            m = both(m, (r.user >= 0) & ok[np.maximum(r.user, 0)])
        return m


@dataclass
class Frame:
    """Selected records of a time window (concatenated days), with absolute times."""

    sec: np.ndarray  # int64 seconds since the epoch
    user: np.ndarray
    product: np.ndarray
    model: np.ndarray
    cw: np.ndarray
    geo: np.ndarray
    speed: np.ndarray
    channel: np.ndarray
    tag_cat: np.ndarray
    tag_user: np.ndarray
    tokens: np.ndarray
    requests: np.ndarray
    searches: np.ndarray
    lst: np.ndarray
    amt: np.ndarray
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.sec)

    def take(self, idx: np.ndarray) -> Frame:
        return Frame(
            **{k: getattr(self, k)[idx] for k in _FRAME_COLS},
            extra={k: v[idx] for k, v in self.extra.items()},
        )


_FRAME_COLS = (
    "sec",
    "user",
    "product",
    "model",
    "cw",
    "geo",
    "speed",
    "channel",
    "tag_cat",
    "tag_user",
    "tokens",
    "requests",
    "searches",
    "lst",
    "amt",
)


def collect(
    rd: ReportData, t0: datetime, t1: datetime, refreshed: datetime | None, revision_days: int, sel: Selection
) -> Frame:
    """Records with a timestamp in [t0, t1) that the refresh shows and the selection keeps."""
    a, b = int(t0.timestamp()), int(t1.timestamp())
    chunks = []
    d = t0.astimezone(UTC).date()
    while epoch(d) < b:
        r = rd.day(d)
        base = epoch(d)
        m = rd.visible(r, refreshed, revision_days)
        s = sel.mask(rd, r)
        if s is not None:
            m = s if m is None else m & s
        if a > base or b < base + 86_400:
            w = (r.ts >= a - base) & (r.ts < b - base)
            m = w if m is None else m & w
        idx = slice(None) if m is None else np.flatnonzero(m)
        chunk = {k: getattr(r, k)[idx] for k in _FRAME_COLS if k != "sec"}
        chunk["sec"] = r.ts[idx].astype(np.int64) + base
        chunks.append(chunk)
        d += timedelta(days=1)
    if not chunks:
        empty = _empty_columns()
        chunks.append(
            {k: empty[k] for k in _FRAME_COLS if k in empty}
            | {
                "sec": np.zeros(0, dtype=np.int64),
                "lst": np.zeros((0, len(COMPONENTS)), dtype=np.int64),
                "amt": np.zeros((0, len(COMPONENTS)), dtype=np.int64),
            }
        )
    return Frame(**{k: np.concatenate([c[k] for c in chunks]) for k in _FRAME_COLS})


def amounts(rd: ReportData, lst: np.ndarray) -> np.ndarray:
    """Discounted amounts of list-price micro-cents, rounded half-up per fine record and component."""
    return (lst * rd.discount_percent_kept + 50) // 100


def expand_rbac(rd: ReportData, f: Frame, restrict: tuple[int, ...] | None) -> Frame:
    """One row per (record, RBAC group of its user); users in no group and non-user usage get group -1."""
    m = rd.membership[np.maximum(f.user, 0)] & (f.user >= 0)[:, None]
    if restrict is not None:
        keep = np.zeros(m.shape[1], dtype=bool)
        keep[list(restrict)] = True
        m = m & keep[None, :]
    rows, groups = np.nonzero(m)
    lone = np.flatnonzero(~m.any(axis=1))
    idx = np.concatenate([rows, lone])
    out = f.take(idx)
    out.extra["rbac"] = np.concatenate([groups, np.full(len(lone), -1)]).astype(np.int64)
    return out


# ---------------------------------------------------------------------------------------------
# Grouping


def composite_key(keys: Sequence[np.ndarray], n: int) -> np.ndarray:
    """A single int64 key whose order is the lexicographic order of the (code) columns."""
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    for k in keys:
        k = k.astype(np.int64) + 1
        r = int(k.max()) + 1 if n else 1
        if radix * r >= 2**62:
            _, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64).reshape(-1)
            radix = int(key.max()) + 1 if n else 1
        key = key * r + k
        radix *= r
    return key


@dataclass
class Grouped:
    rep: np.ndarray  # a row index of each group (to decode its dimension codes)
    sums: np.ndarray  # [groups, values] int64
    inverse: np.ndarray  # group of every input row
    order: np.ndarray  # input rows sorted by group
    starts: np.ndarray  # first position (in ``order``) of each group

    def reduce(self, values: np.ndarray) -> np.ndarray:
        """Per-group sums of more per-row values (exact integer sums)."""
        if len(self.order) == 0:
            return np.zeros((0, *values.shape[1:]), dtype=values.dtype)
        return np.add.reduceat(values[self.order], self.starts, axis=0)


def group_sum(keys: Sequence[np.ndarray], values: np.ndarray) -> Grouped:
    n = len(values)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return Grouped(z, np.zeros((0, values.shape[1]), dtype=np.int64), z, z, z)
    key = composite_key(keys, n)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    first = np.r_[True, ks[1:] != ks[:-1]]
    starts = np.flatnonzero(first)
    sums = np.add.reduceat(values[order], starts, axis=0)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return Grouped(order[starts], sums, inverse, order, starts)


def usage_values(f: Frame) -> np.ndarray:
    """[uncached, 5m, 1h, cache read, output, requests, web searches] per row."""
    return np.column_stack([f.tokens, f.requests, f.searches]).astype(np.int64)


def component_fanout(f: Frame, g: Grouped, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cost components of every group of ``g``: one row per (group, component present in it).

    ``mode`` ``cost_type``: components tokens(0) / web_search(1) / code_execution(2);
    ``token_type``: the five token types (0-4), web_search (5), code_execution (6).
    Returns (group, component code, [list, amount] micro-cents), sorted by group then component.
    """
    k = len(COMPONENTS)
    sums = g.reduce(
        np.concatenate(
            [f.lst, f.amt, f.tokens > 0, (f.searches > 0)[:, None], (f.product < 0)[:, None]],
            axis=1,
            dtype=np.int64,
        )
    )
    lst, amt, present = sums[:, :k], sums[:, k : 2 * k], sums[:, 2 * k :]
    if mode == "cost_type":
        lst = np.column_stack([lst[:, :5].sum(axis=1), lst[:, 5], lst[:, 6]])
        amt = np.column_stack([amt[:, :5].sum(axis=1), amt[:, 5], amt[:, 6]])
        present = np.column_stack([present[:, :5].sum(axis=1), present[:, 5], present[:, 6]])
    group, comp = np.nonzero(present > 0)
    return (
        group,
        comp.astype(np.int64),
        np.column_stack([lst[group, comp], amt[group, comp]]).astype(np.int64),
    )


def component_labels(mode: str, code: int) -> tuple[str, str | None]:
    """(cost_type, token_type) of a component code."""
    if mode == "cost_type":
        return ("tokens", "web_search", "code_execution")[code], None
    if code < 5:
        return "tokens", TOKEN_TYPES[code]
    return ("web_search", "code_execution")[code - 5], None


# ---------------------------------------------------------------------------------------------
# Ground truth


def _as_of(sim, params: dict, org: Organization) -> datetime | None:
    if org.kind != "enterprise":
        raise ValueError(f"{org.slug} is not a Claude Enterprise organization (no usage/cost reports)")
    mode = params.get("as_of", "now")
    if mode == "final":
        return None
    if mode != "now":
        raise ValueError("as_of must be 'now' (what the API shows at the simulator's clock) or 'final'")
    return report_refreshed_at(sim.now(), sim.refresh_hours)


def _days(start: date, end: date):
    d = start
    while d < end:
        yield d
        d += timedelta(days=1)


def _day_frame(sim, org, d: date, refreshed, sel: Selection | None = None) -> tuple[ReportData, Frame]:
    rd = reports_for(sim, org)
    t0 = day_start(d)
    return rd, collect(rd, t0, t0 + timedelta(days=1), refreshed, sim.revision_days, sel or Selection())


def _money_by(f: Frame, codes: np.ndarray, labels: Callable[[int], object], key: str) -> list[dict]:
    lst = f.lst.sum(axis=1)
    amt = f.amt.sum(axis=1)
    out = []
    for c in np.unique(codes):
        m = codes == c
        out.append(
            {
                key: labels(int(c)),
                "amount_usd": usd(int(amt[m].sum())),
                "list_amount_usd": usd(int(lst[m].sum())),
            }
        )
    return out


def _header(sim, org, start, end, refreshed) -> dict:
    return {
        "org": org.slug,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "currency": "USD",
        "as_of": iso(refreshed) if refreshed else "final",
    }


@provider("enterprise_cost")
def truth_enterprise_cost(sim, org, start: date, end: date, params: dict) -> dict:
    """Per-day amount and list amount (USD) of the whole organization, by product, model and cost type."""
    refreshed = _as_of(sim, params, org)
    days, tot_a, tot_l = [], 0, 0
    for d in _days(start, end):
        _, f = _day_frame(sim, org, d, refreshed)
        a, lst = int(f.amt.sum()), int(f.lst.sum())
        tot_a, tot_l = tot_a + a, tot_l + lst
        by_cost = []
        amt_c = f.amt
        for name, (lo, hi) in (("tokens", (0, 5)), ("web_search", (5, 6)), ("code_execution", (6, 7))):
            by_cost.append(
                {
                    "cost_type": name,
                    "amount_usd": usd(int(amt_c[:, lo:hi].sum())),
                    "list_amount_usd": usd(int(f.lst[:, lo:hi].sum())),
                }
            )
        days.append(
            {
                "date": d.isoformat(),
                "amount_usd": usd(a),
                "list_amount_usd": usd(lst),
                "by_product": _money_by(f, f.product, lambda c: PRODUCTS[c] if c >= 0 else None, "product"),
                "by_model": _money_by(f, f.model, lambda c: MODEL_IDS[c] if c >= 0 else None, "model"),
                "by_cost_type": by_cost,
            }
        )
    return {
        **_header(sim, org, start, end, refreshed),
        "discount": str(org.discount),
        "days": days,
        "total": {"amount_usd": usd(tot_a), "list_amount_usd": usd(tot_l)},
    }


def _usage_totals(f: Frame) -> dict:
    t = f.tokens.sum(axis=0) if f.n else np.zeros(5, dtype=np.int64)
    return {
        "uncached_input_tokens": int(t[T_UNCACHED]),
        "cache_creation.ephemeral_5m_input_tokens": int(t[T_5M]),
        "cache_creation.ephemeral_1h_input_tokens": int(t[T_1H]),
        "cache_read_input_tokens": int(t[T_READ]),
        "output_tokens": int(t[T_OUT]),
        "total_tokens": int(t.sum()),
        "requests": int(f.requests.sum()),
        "web_search_requests": int(f.searches.sum()),
    }


@provider("enterprise_usage")
def truth_enterprise_usage(sim, org, start: date, end: date, params: dict) -> dict:
    """Per-day token totals by token type (whole organization, incl. non-seat usage), and by product."""
    refreshed = _as_of(sim, params, org)
    days = []
    for d in _days(start, end):
        _, f = _day_frame(sim, org, d, refreshed)
        by_product = []
        for c in np.unique(f.product):
            m = np.flatnonzero(f.product == c)
            by_product.append({"product": PRODUCTS[c] if c >= 0 else None, **_usage_totals(f.take(m))})
        days.append({"date": d.isoformat(), **_usage_totals(f), "by_product": by_product})
    return {**_header(sim, org, start, end, refreshed), "days": days}


@provider("enterprise_user_cost")
def truth_enterprise_user_cost(sim, org, start: date, end: date, params: dict) -> dict:
    """Seat-user cost: per day (sum over users, org total and the non-seat gap) and per user over the range."""
    refreshed = _as_of(sim, params, org)
    days = []
    per_user_l: dict[int, int] = {}
    per_user_a: dict[int, int] = {}
    for d in _days(start, end):
        _, f = _day_frame(sim, org, d, refreshed)
        lst, amt = f.lst.sum(axis=1), f.amt.sum(axis=1)
        seat = f.user >= 0
        days.append(
            {
                "date": d.isoformat(),
                "users_amount_usd": usd(int(amt[seat].sum())),
                "users_list_amount_usd": usd(int(lst[seat].sum())),
                "org_amount_usd": usd(int(amt.sum())),
                "org_list_amount_usd": usd(int(lst.sum())),
                "non_user_amount_usd": usd(int(amt[~seat].sum())),
                "non_user_list_amount_usd": usd(int(lst[~seat].sum())),
            }
        )
        if seat.any():
            g = group_sum([f.user[seat]], np.column_stack([lst[seat], amt[seat]]))
            for rep, (sl, sa) in zip(g.rep, g.sums, strict=True):
                u = int(f.user[seat][rep])
                per_user_l[u] = per_user_l.get(u, 0) + int(sl)
                per_user_a[u] = per_user_a.get(u, 0) + int(sa)
    users = [
        {"user_id": org.users[u].id, "amount_usd": usd(per_user_a[u]), "list_amount_usd": usd(per_user_l[u])}
        for u in sorted(per_user_l, key=lambda i: org.users[i].id)
    ]
    total_a = sum(per_user_a.values())
    total_l = sum(per_user_l.values())
    return {
        **_header(sim, org, start, end, refreshed),
        "days": days,
        "users": users,
        "total": {"amount_usd": usd(total_a), "list_amount_usd": usd(total_l)},
    }


#: The client's lossless groupings of the bucketed reports, endpoint -> grouping name -> ``group_by[]``.
#: They mirror ``USAGE_GROUPINGS`` and ``COST_GROUPINGS`` of ``claude_assets/ingest/enterprise_reports.py``
#: (same names, dimensions and order): keep the two in step, or the minimum no longer describes the
#: content the client reads.
CLIENT_GROUPINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "usage_report": {
        "total": (),
        "product_model": ("product", "model", "context_window", "inference_geo", "speed"),
        "claude_tag": ("slack_channel_id", "claude_tag_category", "claude_tag_user_id"),
        "rbac_group": ("rbac_group_id", "product"),
    },
    "cost_report": {
        "total": (),
        "product_model": ("product", "model", "context_window", "inference_geo", "speed"),
        "token_type": ("model", "cost_type", "token_type"),
        "claude_tag": ("slack_channel_id", "claude_tag_category", "claude_tag_user_id"),
        "rbac_group": ("rbac_group_id", "product"),
    },
}
#: A bucketed report returns at most this many rows per bucket (the top groups, no remainder row).
TOP_GROUPS = 100
#: The largest page of the bucketed reports, in buckets, per bucket width.
BUCKET_PAGE = {"1d": 31, "1h": 168}
#: ``inference_geos[]`` slices a cut day is asked again under (a partition of every row) -> ``geo`` code.
GEO_SLICES = {"global": GEOS.index("global"), "us": GEOS.index("us"), "not_available": -1}
#: Rows per page of the per-user and beta reports (their largest ``limit``).
ROW_PAGE = 1000
#: Longest ``starting_at``..``ending_at`` span of every report, in days.
WINDOW_DAYS = 31

#: The queries the minimum counts, per endpoint (largest limits). The per-user and beta ``group_by[]``
#: mirror ``USER_GROUP_BY`` and ``V2_GROUP_BY`` (+ ``cost_type`` on /cost) of the client.
MIN_REQUEST_PLANS = {
    **{
        name: {
            "bucket_width": "1d",
            "limit": BUCKET_PAGE["1d"],
            "groupings": {g: list(dims) for g, dims in groupings.items()},
            "refine": {
                "inference_geos": list(GEO_SLICES),
                "then": {"bucket_width": "1h", "limit": BUCKET_PAGE["1h"]},
            },
        }
        for name, groupings in CLIENT_GROUPINGS.items()
    },
    "user_usage_report": {"bucket_width": "1d", "limit": ROW_PAGE, "group_by": ["product", "model"]},
    "user_cost_report": {"bucket_width": "1d", "limit": ROW_PAGE, "group_by": ["product", "model"]},
    "usage": {
        "time_bucket_width": "1d",
        "limit": ROW_PAGE,
        "group_by": ["actor", "product", "model", "context_window", "inference_geo"],
    },
    "cost": {
        "time_bucket_width": "1d",
        "limit": ROW_PAGE,
        "group_by": ["actor", "product", "model", "context_window", "inference_geo", "cost_type"],
    },
}


def span_pages(days: Sequence[int], per_day: int, limit: int) -> int:
    """Fewest pages that cover the (sorted, distinct) day numbers ``days`` with request spans.

    A span covers a run of whole days (and the days between two runs it merges, whose buckets are
    then read but not needed); it costs ``ceil(days x per_day / limit)`` pages. Exact, by dynamic
    programming over the contiguous runs (at most 31 in a window).
    """
    runs: list[list[int]] = []
    for d in days:
        if runs and runs[-1][1] == d:
            runs[-1][1] = d + 1
        else:
            runs.append([d, d + 1])
    best = [0]
    for i, (_, end) in enumerate(runs):
        best.append(min(best[j] + -(-(end - runs[j][0]) * per_day // limit) for j in range(i + 1)))
    return best[-1]


def _rows_per_bucket(rd: ReportData, f: Frame, group_by, grid0: datetime, width: int, n: int, cost: bool):
    """Rows each bucket of a bucketed report holds before the top-100 cut (the route's own grouping)."""
    from simulator.routes.reports import bucket_rows

    t = bucket_rows(rd, f, group_by, grid0=grid0, width=width, cost=cost)
    return np.bincount(t.codes["bucket"], minlength=n)


def _bucketed_minimum(rd: ReportData, f: Frame, t0: datetime, ndays: int, group_by, cost: bool) -> dict:
    """Requests of one grouping of a bucketed report over one window [t0, t0 + ndays) read losslessly.

    Daily buckets (one request: a window fits one page); the days whose bucket holds 100 rows are
    asked again under each inference geo slice (fewest spans over those days), and a (geo, day)
    still at 100 rows with hourly buckets (fewest spans at 168 hourly buckets a page).
    """
    steps = ("requests", "daily", "per_geo", "hourly", "cut_days", "cut_geo_days", "hours_at_cap")
    out = dict.fromkeys(steps, 0)
    out["daily"] = -(-ndays // BUCKET_PAGE["1d"])
    day = (f.sec - int(t0.timestamp())) // 86_400
    cut = np.flatnonzero(_rows_per_bucket(rd, f, group_by, t0, 86_400, ndays, cost) >= TOP_GROUPS)
    out["cut_days"] = len(cut)
    if len(cut):
        f_cut = f.take(np.flatnonzero(np.isin(day, cut)))
        day_cut = day[np.isin(day, cut)]
        for geo in GEO_SLICES.values():
            out["per_geo"] += span_pages(cut.tolist(), 1, BUCKET_PAGE["1d"])
            here = np.flatnonzero(f_cut.geo == geo)
            f_geo, day_geo = f_cut.take(here), day_cut[here]
            still = cut[_rows_per_bucket(rd, f_geo, group_by, t0, 86_400, ndays, cost)[cut] >= TOP_GROUPS]
            if not len(still):
                continue
            out["cut_geo_days"] += len(still)
            out["hourly"] += span_pages(still.tolist(), 24, BUCKET_PAGE["1h"])
            f_still = f_geo.take(np.flatnonzero(np.isin(day_geo, still)))
            hourly = _rows_per_bucket(rd, f_still, group_by, t0, 3_600, 24 * ndays, cost)
            out["hours_at_cap"] += int((hourly >= TOP_GROUPS).sum())
    out["requests"] = out["daily"] + out["per_geo"] + out["hourly"]
    return out


@provider("min_requests_reports")
def truth_min_requests(sim, org, start: date, end: date, params: dict) -> dict:
    """Fewest requests of a lossless pull of [start, end) that reads what the client reads, per endpoint.

    Consecutive 31-day windows from ``start``, largest limits (``MIN_REQUEST_PLANS``):

    * ``usage_report`` / ``cost_report``: per grouping of the client (``CLIENT_GROUPINGS``), one
      daily request per window (31 daily buckets a page). The days whose bucket holds 100 rows (the
      top-100 cap, so possibly cut) are asked again under each inference geo slice (global, us,
      not_available), in the fewest daily pages that cover them (one request per slice and window);
      the (geo, day)s still at 100 rows are asked with hourly buckets, in the fewest pages of 168
      hourly buckets that cover them (``span_pages``). Row counts come from the route's own
      grouping (``bucket_rows``). ``groupings`` details each grouping; ``hours_at_cap`` > 0 means
      some hour still holds 100 rows in a geo slice, where no such pull is lossless (the client then
      fails rather than keep a cut bucket).
    * ``user_usage_report`` / ``user_cost_report`` (``group_by[]`` product, model) and the beta
      ``usage`` / ``cost`` (actor, product, model, context window, inference geo; + cost type):
      ``max(1, ceil(units / 1000))`` per window, units being the route's ranked rows (a cost unit's
      cost-type rows ride on its page; beta cost units without cost are not returned).
    """
    from simulator.routes.reports import user_units, v2_units

    refreshed = _as_of(sim, params, org)
    rd = reports_for(sim, org)
    out = {name: {"requests": 0, "windows": 0, "params": plan} for name, plan in MIN_REQUEST_PLANS.items()}
    for name, groupings in CLIENT_GROUPINGS.items():
        out[name]["groupings"] = {g: {} for g in groupings}
    w0 = start
    while w0 < end:
        w1 = min(end, w0 + timedelta(days=WINDOW_DAYS))
        t0, t1 = day_start(w0), day_start(w1)
        ndays = (w1 - w0).days
        f = collect(rd, t0, t1, refreshed, sim.revision_days, Selection())
        seen: dict[tuple, dict] = {}
        for name, groupings in CLIENT_GROUPINGS.items():
            for g, group_by in groupings.items():
                # a bucket's rows are its groups unless a cost report fans them out per cost component,
                # so a grouping without cost_type/token_type has the same rows on both reports
                fanout = name == "cost_report" and bool({"cost_type", "token_type"} & set(group_by))
                key = (group_by, fanout)
                if key not in seen:
                    seen[key] = _bucketed_minimum(rd, f, t0, ndays, group_by, cost=fanout)
                got = seen[key]
                acc = out[name]["groupings"][g]
                for k, v in got.items():
                    acc[k] = acc.get(k, 0) + v
                out[name]["requests"] += got["requests"]
        seat = f.take(np.flatnonzero(f.user >= 0))  # the per-user reports' seat_only selection
        day = (t0, 86_400)
        for name, units, frame in (
            ("user_usage_report", user_units, seat),
            ("user_cost_report", user_units, seat),
            ("usage", v2_units, f),
            ("cost", v2_units, f),
        ):
            cost = name.endswith("cost_report") or name == "cost"
            n = units(rd, frame, MIN_REQUEST_PLANS[name]["group_by"], bucket=day, cost=cost).n
            out[name]["requests"] += max(1, -(-n // ROW_PAGE))
        for v in out.values():
            v["windows"] += 1
        w0 = w1
    return {
        **_header(sim, org, start, end, refreshed),
        "endpoints": out,
        "total": sum(v["requests"] for v in out.values()),
    }


def _register() -> None:
    from simulator.app import register_data

    register_data("reports", _factory)


_register()


# ---------------------------------------------------------------------------------------------
# Claude Platform (Console) organizations on the beta /analytics/usage and /analytics/cost
#
# An Admin key may call the beta endpoints; they then report the Console organization's own API
# usage, read from the Console generator (simulator.console_data). Money is billed per daily record
# and token type exactly as the Console cost report bills it (so whole days agree to the micro-cent
# with /v1/organizations/cost_report), then allocated to hours and minutes in proportion to the
# tokens, with the integer remainder on the busiest slot.

CONSOLE_PRODUCTS = ("messages_api", "message_batches_api", "claude_console")
SERVICE_TIERS = ("batch", "flex", "flex_discount", "priority", "priority_on_demand", "standard")
ACTOR_TYPES = ("user_actor", "service_account_actor", "api_actor", "federated_actor")
_BILLED_TIERS = ("standard", "batch")
_CONSOLE_DIURNAL = (2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 11, 10, 9, 8, 6, 5, 4, 3, 3, 2)


class ConsoleReports:
    """Beta usage/cost rows of a Console organization (``sim.data(org, "console_reports")``)."""

    def __init__(self, org: Organization, data=None) -> None:
        self.org = org
        self.data = data
        self._lock = threading.Lock()
        self._results: OrderedDict = OrderedDict()

    cached = ReportData.cached

    @cached_property
    def actors(self) -> tuple[tuple[str, str], ...]:
        """(actor type, id) of every identity: users, then service accounts, then API keys."""
        return (
            *(("user_actor", u.id) for u in self.org.users),
            *(("service_account_actor", s) for s in self.org.service_accounts),
            *(("api_actor", k.id) for k in self.org.api_keys),
        )

    @cached_property
    def actor_index(self) -> dict[str, int]:
        return {a[1]: i for i, a in enumerate(self.actors)}

    @cached_property
    def workspaces(self) -> tuple[str, ...]:
        return (self.org.default_workspace.id, *(w.id for w in self.org.workspaces))

    @cached_property
    def workspace_index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.workspaces)}

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(k.id for k in self.org.api_keys)

    @cached_property
    def key_index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.keys)}

    @cached_property
    def removed_ordinal(self) -> np.ndarray:
        users = [u.removed.toordinal() if u.removed else 10**9 for u in self.org.users]
        return np.array(users + [10**9] * (len(self.actors) - len(users)), dtype=np.int64)

    # -- rows ----------------------------------------------------------------------------------------
    def _dims(self, dims: tuple) -> tuple[int, ...]:
        account, key, svac, ws, model, tier, cw, geo, speed = dims
        actor = self.actor_index[account or svac or key]
        actor_type = ACTOR_TYPES.index(self.actors[actor][0])
        product = 2 if key is None and account else (1 if tier == "batch" else 0)
        return (
            actor,
            actor_type,
            self.key_index[key] if key else -1,
            self.workspace_index[ws] if ws else 0,
            SERVICE_TIERS.index(tier),
            product,
            MODEL_IDS.index(model),
            CONTEXT_WINDOWS.index(cw),
            GEOS.index(geo) if geo in GEOS else -1,
            SPEEDS.index(speed),
        )

    def _money(self, d: date, dims: tuple, metrics: tuple) -> tuple[list[int], list[int]]:
        """Billed list and discounted amount of one daily record (the Console cost report's rounding)."""
        lst, amt = [0] * len(COMPONENTS), [0] * len(COMPONENTS)
        _, _, _, _, model_id, tier, cw, geo, speed = dims
        if tier not in _BILLED_TIERS:
            return lst, amt  # priority tier is billed outside the cost report
        keep = Decimal(1) - self.org.discount
        model = MODELS_BY_ID[model_id]
        for t, token_type in enumerate(TOKEN_TYPES):
            if metrics[t]:
                unit = price_microcents_per_token(
                    model, token_type, d, service_tier=tier, context_window=cw, inference_geo=geo, speed=speed
                )
                lst[t] = int((metrics[t] * unit).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
                amt[t] = int((metrics[t] * unit * keep).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        if metrics[5]:
            lst[C_WEB] = metrics[5] * WEB_SEARCH_MICROCENTS
            amt[C_WEB] = int((metrics[5] * WEB_SEARCH_MICROCENTS * keep).quantize(Decimal(1)))
        return lst, amt

    def hours(self, d: date) -> dict:
        return _console_hours(self, d)

    def minutes(self, d: date, hour: int) -> dict:
        return _console_minutes(self, d, hour)

    def _build_hours(self, d: date) -> dict:
        recs = self.data.records(d)
        index = {rec.dims: i for i, rec in enumerate(recs)}
        rec_i, slot, metrics = [], [], []
        for h, hour in enumerate(self.data.hourly(d)):
            for rec in hour:
                rec_i.append(index[rec.dims])
                slot.append(h)
                metrics.append(rec.metrics)
        n = len(rec_i)
        rec_i = np.array(rec_i, dtype=np.int64)
        m = np.array(metrics, dtype=np.int64).reshape(n, 6)
        money = [self._money(d, rec.dims, rec.metrics) for rec in recs]
        day_lst = np.array([x[0] for x in money], dtype=np.int64).reshape(len(recs), 7)
        day_amt = np.array([x[1] for x in money], dtype=np.int64).reshape(len(recs), 7)
        lst, amt = np.zeros((n, 7), dtype=np.int64), np.zeros((n, 7), dtype=np.int64)
        for c in range(6):
            lst[:, c] = _allocate(day_lst[:, c], rec_i, m[:, c])
            amt[:, c] = _allocate(day_amt[:, c], rec_i, m[:, c])
        codes = np.array([self._dims(rec.dims) for rec in recs], dtype=np.int64).reshape(len(recs), 10)[rec_i]
        out = {
            "slot": np.array(slot, dtype=np.int64),
            "codes": codes,
            "tokens": m[:, :5].copy(),
            "searches": m[:, 5].copy(),
            "lst": lst,
            "amt": amt,
        }
        # code execution: billed per workspace-day beyond the free allowance, spread over the day
        keep = Decimal(1) - self.org.discount
        free = CODE_EXECUTION_FREE_SECONDS_PER_DAY
        peak = _CONSOLE_DIURNAL.index(max(_CONSOLE_DIURNAL))
        rows = []
        for ws, seconds in self.data.code_execution(d):
            billable = max(0, seconds - free)
            free = max(0, free - seconds)
            if not billable:
                continue
            exact = Decimal(billable) * CODE_EXECUTION_MICROCENTS_PER_HOUR / 3600
            total_l = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
            total_a = int((exact * keep).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
            ws_code = self.workspace_index[ws] if ws else 0
            for h, (a, b) in enumerate(
                zip(
                    split_integer(total_l, _CONSOLE_DIURNAL, peak),
                    split_integer(total_a, _CONSOLE_DIURNAL, peak),
                    strict=True,
                )
            ):
                if a or b:
                    rows.append(
                        (
                            h,
                            (-1, -1, -1, ws_code, -1, -1, -1, -1, -1, -1),
                            (0,) * 5,
                            0,
                            [0] * 6 + [a],
                            [0] * 6 + [b],
                        )
                    )
        if rows:
            extra = _console_arrays(rows)
            out = {k: np.concatenate([out[k], extra[k]]) for k in out}
        for v in out.values():
            v.setflags(write=False)
        return out

    def _build_minutes(self, d: date, hour: int) -> dict:
        base = self.hours(d)
        here = np.flatnonzero(base["slot"] == hour)
        parent = {tuple(base["codes"][i].tolist()): k for k, i in enumerate(here)}
        known: dict[tuple, tuple] = {}
        owner, slot, metrics = [], [], []
        for minute, recs in enumerate(self.data.minutes(d, hour)):
            for rec in recs:
                codes = known.get(rec.dims) or known.setdefault(rec.dims, self._dims(rec.dims))
                owner.append(parent[codes])
                slot.append(minute)
                metrics.append(rec.metrics)
        n = len(owner)
        owner = np.array(owner, dtype=np.int64)
        m = np.array(metrics, dtype=np.int64).reshape(n, 6)
        p_lst, p_amt = base["lst"][here], base["amt"][here]
        lst, amt = np.zeros((n, 7), dtype=np.int64), np.zeros((n, 7), dtype=np.int64)
        for c in range(6):
            lst[:, c] = _allocate(p_lst[:, c], owner, m[:, c])
            amt[:, c] = _allocate(p_amt[:, c], owner, m[:, c])
        out = {
            "slot": np.array(slot, dtype=np.int64),
            "codes": base["codes"][here][owner],
            "tokens": m[:, :5].copy(),
            "searches": m[:, 5].copy(),
            "lst": lst,
            "amt": amt,
        }
        execs = here[base["codes"][here][:, 0] < 0]  # code execution: at the top of the hour
        if len(execs):
            out = {
                k: np.concatenate([out[k], base[k][execs] if k != "slot" else np.zeros(len(execs), np.int64)])
                for k in out
            }
        for v in out.values():
            v.setflags(write=False)
        return out

    # -- frames --------------------------------------------------------------------------------------
    def frame(
        self, t0: datetime, t1: datetime, refreshed: datetime, filters: dict, *, minutes: bool
    ) -> Frame:
        """Rows of [t0, t1) in whole hours (or minutes) that ended by ``refreshed``, filtered."""
        a, b, cutoff = int(t0.timestamp()), int(t1.timestamp()), int(refreshed.timestamp())
        chunks = []
        d = t0.astimezone(UTC).date()
        while epoch(d) < b and not filters.get("nothing"):
            base = epoch(d)
            parts = []
            if minutes:
                for h in range(24):
                    if base + 3600 * h + 3600 > a and base + 3600 * h < b:
                        m = self.minutes(d, h)
                        parts.append((m, base + 3600 * h + m["slot"] * 60, 60))
            else:
                h = self.hours(d)
                parts.append((h, base + h["slot"] * 3600, 3600))
            for arr, sec, width in parts:
                keep = (sec >= a) & (sec < b) & (sec + width <= cutoff)
                for col, allowed in filters.items():
                    if col != "nothing" and allowed is not None:
                        keep &= np.isin(
                            arr["codes"][:, _CONSOLE_COLS.index(col)],
                            np.fromiter(allowed, dtype=np.int64, count=len(allowed)),
                        )
                idx = np.flatnonzero(keep)
                chunks.append((arr, sec, idx))
            d += timedelta(days=1)
        codes = (
            np.concatenate([c[0]["codes"][c[2]] for c in chunks]) if chunks else np.zeros((0, 10), np.int64)
        )
        n = len(codes)
        minus = np.full(n, -1, dtype=np.int64)

        def cat(key, shape):
            return np.concatenate([c[0][key][c[2]] for c in chunks]) if chunks else np.zeros(shape, np.int64)

        col = {name: codes[:, i] for i, name in enumerate(_CONSOLE_COLS)}
        return Frame(
            sec=np.concatenate([c[1][c[2]] for c in chunks]) if chunks else np.zeros(0, np.int64),
            user=minus,
            product=col["product"],
            model=col["model"],
            cw=col["cw"],
            geo=col["geo"],
            speed=col["speed"],
            channel=minus,
            tag_cat=minus,
            tag_user=minus,
            tokens=cat("tokens", (0, 5)),
            requests=np.zeros(n, dtype=np.int64),
            searches=cat("searches", (0,)),
            lst=cat("lst", (0, 7)),
            amt=cat("amt", (0, 7)),
            extra={
                "actor": col["actor"],
                "actor_type": col["actor_type"],
                "api_key_id": col["api_key_id"],
                "workspace_id": col["workspace_id"],
                "service_tier": col["service_tier"],
            },
        )

    def label(self, name: str, code: int, today: int):
        if name == "organization_id":
            return self.org.uuid
        if code < 0:
            return None
        if name == "actor":
            kind, ident = self.actors[code]
            if kind == "user_actor":
                user = self.org.users[code]
                deleted = bool(self.removed_ordinal[code] <= today)
                email = None if deleted else user.email
                return {
                    "type": kind,
                    "user_id": ident,
                    "email": email,
                    "email_address": email,
                    "name": "Deleted User" if deleted else user.name,
                    "deleted": deleted,
                }
            return {
                "type": kind,
                ("service_account_id" if kind == "service_account_actor" else "api_key_id"): ident,
            }
        table = {
            "actor_type": ACTOR_TYPES,
            "api_key_id": self.keys,
            "workspace_id": self.workspaces,
            "service_tier": SERVICE_TIERS,
            "product": CONSOLE_PRODUCTS,
            "model": MODEL_IDS,
            "context_window": CONTEXT_WINDOWS,
            "inference_geo": GEOS,
            "speed": SPEEDS,
        }
        return table[name][code] if name in table else None


def _allocate(totals: np.ndarray, owner: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each owner's integer total over its rows in proportion to ``weights``, exactly.

    Every row gets ``floor(total * w / W)``; the remainder goes to the owner's first heaviest row.
    """
    n_owner = len(totals)
    w_sum = np.zeros(n_owner, dtype=np.int64)
    np.add.at(w_sum, owner, weights)
    t, ws = totals[owner], w_sum[owner]
    safe = np.maximum(ws, 1)
    if int(w_sum.max(initial=0)) < 3_000_000_000:
        q, r = np.divmod(t, safe)
        part = q * weights + (r * weights) // safe
    else:  # exact big-integer arithmetic
        part = np.array(
            [int(a) * int(b) // int(c) for a, b, c in zip(t, weights, safe, strict=True)], dtype=np.int64
        )
    part = np.where(ws > 0, part, 0)
    got = np.zeros(n_owner, dtype=np.int64)
    np.add.at(got, owner, part)
    order = np.lexsort((np.arange(len(owner)), -weights, owner))  # per owner: heaviest row first
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]] if len(order) else order
    part[first] += (totals - got)[owner[first]]
    return part


_CONSOLE_COLS = (
    "actor",
    "actor_type",
    "api_key_id",
    "workspace_id",
    "service_tier",
    "product",
    "model",
    "cw",
    "geo",
    "speed",
)


def _console_arrays(rows: list[tuple]) -> dict:
    n = len(rows)
    out = {
        "slot": np.array([r[0] for r in rows], dtype=np.int64),
        "codes": np.array([r[1] for r in rows], dtype=np.int64).reshape(n, len(_CONSOLE_COLS)),
        "tokens": np.array([r[2] for r in rows], dtype=np.int64).reshape(n, 5),
        "searches": np.array([r[3] for r in rows], dtype=np.int64),
        "lst": np.array([r[4] for r in rows], dtype=np.int64).reshape(n, 7),
        "amt": np.array([r[5] for r in rows], dtype=np.int64).reshape(n, 7),
    }
    for v in out.values():
        v.setflags(write=False)
    return out


@lru_cache(maxsize=256)
def _console_hours(cr: ConsoleReports, d: date) -> dict:
    return cr._build_hours(d)


@lru_cache(maxsize=256)
def _console_minutes(cr: ConsoleReports, d: date, hour: int) -> dict:
    return cr._build_minutes(d, hour)


def console_reports_for(sim, org: Organization) -> ConsoleReports:
    cr = sim.data(org, "console_reports")
    if cr.data is None:
        cr.data = sim.data(org, "console")
    return cr


def _register_console() -> None:
    from simulator.app import register_data

    register_data("console_reports", ConsoleReports)


_register_console()

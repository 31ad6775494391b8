"""Record generation: seat-user sessions, non-seat usage and the list price of one organization-day's records."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import numpy as np

from simulator.activity import SURFACES, growth_factor, weekday_factor
from simulator.catalog import (
    CODE_EXECUTION_FREE_SECONDS_PER_DAY,
    CODE_EXECUTION_MICROCENTS_PER_HOUR,
    MODELS,
    TOKEN_TYPES,
    WEB_SEARCH_MICROCENTS,
    price_microcents_per_token,
)
from simulator.generators.reports.codes import (
    C_EXEC,
    C_WEB,
    COMPONENTS,
    CONTEXT_WINDOWS,
    GEOS,
    MODEL_IDS,
    P_CODE,
    P_OTHER,
    P_TAG,
    PRODUCTS,
    SERVICE_TIER,
    SPEEDS,
    T_READ,
    T_UNCACHED,
    TAG_CATEGORIES,
    DayRecords,
)
from simulator.generators.reports.profiles import (
    DIURNAL,
    FAST,
    LATE_SHARE,
    LONG_CONTEXT,
    MAX_LATE_DAYS,
    REQUESTS,
    SEARCHES,
    SESSION_RATE,
    TIERS,
    TOKEN_CAP,
    TOKENS,
    model_tier,
)
from simulator.generators.reports.spikes import Spike, apply, spike_on
from simulator.ids import np_rng


class RecordGenerator:
    """Generates the fine records of a day (mixed into :class:`ReportData`)."""

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
                k = 1 + g.poisson(SESSION_RATE[surface] * act.intensity[users])
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
                        # a busier day is more sessions, each the size the user's sessions usually are
                        size_intensity=np.repeat(self.plan.traits.intensity[users], k),
                    )
                )
            parts.extend(self._non_seat(g, d, models, act))
        cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else empty_columns()
        spike = self._draw_spike(d, cols)
        self._spikes[d] = spike
        if spike is not None:
            apply(spike, cols)
        cols["lst"] = self._price(d, cols)
        cols["amt"] = amounts(self, cols["lst"])
        recs = DayRecords(day=d, **cols)
        for name in recs.__dataclass_fields__:
            arr = getattr(recs, name)
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)
        return recs

    def spike(self, d: date) -> Spike | None:
        """The cost spike injected on day ``d`` (one of the day's heaviest seat users, or a product), if any."""
        if d not in self._spikes:
            self._generate(d)
        return self._spikes[d]

    def _draw_spike(self, d: date, cols: dict) -> Spike | None:
        def token_cost() -> np.ndarray:  # priced on a copy: pricing consumes the execution seconds
            return self._price(d, dict(cols))[:, :5].sum(axis=1)

        return spike_on(self.org, d, cols["user"], cols["product"], token_cost)

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
        size_intensity: np.ndarray | None = None,
    ) -> dict:
        n = len(users)
        weights = np.array([TIERS[profile][model_tier(m.id)] for m in models], dtype=float)
        tier_names = [model_tier(m.id) for m in models]
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

        cw = ((g.random(n) < LONG_CONTEXT.get(profile, 0.0)) & long_ok).astype(np.int8)
        speed = ((g.random(n) < FAST.get(profile, 0.0)) & fast_ok).astype(np.int8)
        geo = np.where(geo_ok, (g.random(n) < self.us_share).astype(np.int8), np.int8(-1)).astype(np.int8)

        med = np.array(TOKENS[profile], dtype=float) * scale
        noise = g.lognormal(0.0, 0.6, (n, 5))
        size = (intensity if size_intensity is None else size_intensity)[:, None] * noise * med[None, :]
        size[:, T_UNCACHED] *= np.where(cw == 1, 3.0, 1.0)
        size[:, T_READ] *= np.where(cw == 1, 2.0, 1.0)
        tokens = np.minimum(np.rint(size), TOKEN_CAP).astype(np.int64)
        requests = 1 + g.poisson(REQUESTS[profile] * intensity * scale)
        searches = g.poisson(SEARCHES[profile] * np.minimum(intensity, 4.0))
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

    def _anonymous(
        self, g: np.random.Generator, d: date, models, profile: str, n: int, product: int, **kw
    ) -> dict:
        """``n`` sessions of no seat user, each of random intensity."""
        return self._sessions(g, d, models, profile, np.full(n, -1), g.lognormal(0, 0.5, n), product, **kw)

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
                self._anonymous(
                    g,
                    d,
                    models,
                    "chat",
                    n,
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
                self._anonymous(
                    g,
                    d,
                    models,
                    "chat",
                    n,
                    P_TAG,
                    tag_cat=np.zeros(n),
                    tag_user=who,
                )
            )
        # Code Review: Claude Code work with no user account
        n = int(g.poisson(int(act.surfaces["claude_code"].sum()) * 0.25))
        if n:
            out.append(self._anonymous(g, d, models, "claude_code", n, P_CODE, scale=0.4))
        # unattributed usage, reported as "other"
        n = int(g.poisson(self.seats * 0.01 * wf))
        if n:
            out.append(self._anonymous(g, d, models, "chat", n, P_OTHER))
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


def empty_columns() -> dict:
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
    hour = g.choice(24, size=n, p=DIURNAL)
    ts = hour * 3600 + g.integers(0, 3600, n)
    latency = np.where(g.random(n) < 0.85, g.integers(300, 3 * 3600, n), g.integers(3 * 3600, 24 * 3600, n))
    late = g.random(n) < LATE_SHARE
    # late records: half within days (exponential), half anywhere in the revision window
    delay = np.where(
        g.random(n) < 0.5, g.exponential(2 * 86_400, n), g.uniform(86_400, MAX_LATE_DAYS * 86_400, n)
    )
    delay = np.clip(delay, 86_400, MAX_LATE_DAYS * 86_400).astype(np.int64)
    latency = np.where(late, delay, latency)
    return ts.astype(np.int32), (ts + latency).astype(np.int32)


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
                                service_tier=SERVICE_TIER,
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


def amounts(rd, lst: np.ndarray) -> np.ndarray:
    """Discounted amounts of list-price micro-cents, rounded half-up per fine record and component."""
    return (lst * rd.discount_percent_kept + 50) // 100

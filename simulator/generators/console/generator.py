"""ConsoleData: one Console organization's usage records, by day, hour and minute, generated lazily."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache

from simulator.catalog import MODELS_BY_ID
from simulator.clock import day_start
from simulator.generators.console.billing import Billing
from simulator.generators.console.claude_code import ClaudeCodeActivity
from simulator.generators.console.records import (
    DIURNAL,
    METRICS,
    WEEKDAY,
    Record,
    sortable,
    split_integer,
    usage_growth,
)
from simulator.ids import rng, stable_int
from simulator.world.organization import Organization


class ConsoleData(Billing, ClaudeCodeActivity):
    """Lazily generated Console data for one organization."""

    def __init__(self, org: Organization) -> None:
        self.org = org

    # -- usage ---------------------------------------------------------------------------
    def records(self, d: date) -> tuple[Record, ...]:
        """Every usage record of the whole UTC day ``d``."""
        return _records(self, d)

    def spike(self, d: date) -> tuple[str, float] | None:
        """A cost spike on this day, about one week in seven: (api key id, multiplier). The key is one of the
        busiest usable that day (the top third by scale), and it is used that day: a runaway production key,
        not one whose whole day costs cents."""
        iso_year, week, _ = d.isocalendar()
        r = rng(self.org.world_seed, self.org.slug, "spike", iso_year, week)
        if r.random() > 0.15 or not self.org.api_keys:
            return None
        day = r.randrange(5)
        if d.weekday() != day:
            return None
        usable = sorted((k for k in self.org.api_keys if k.usable_on(d)), key=lambda k: (-k.scale, k.id))
        if not usable:
            return None
        busiest = usable[: max(1, len(usable) // 3)]
        return r.choice(busiest).id, r.uniform(4, 8)

    @cached_property
    def _developers(self):
        return [u for u in self.org.users if u.role in ("developer", "admin", "claude_code_user")] or list(
            self.org.users
        )

    def _generate(self, d: date) -> tuple[Record, ...]:
        org = self.org
        if d < org.created:
            return ()
        factor = usage_growth(org, d) * WEEKDAY[d.weekday()]
        spike = self.spike(d)
        base = org.company.console.daily_tokens
        out: dict[tuple, list[int]] = {}

        def add(dims: tuple, total_input: int, output: int, web: int, r) -> None:
            cache_read = total_input * r.randint(50, 75) // 100
            cache_5m = total_input * r.randint(3, 9) // 100
            cache_1h = total_input * r.randint(0, 3) // 100
            uncached = total_input - cache_read - cache_5m - cache_1h
            row = out.setdefault(dims, [0] * len(METRICS))
            for i, v in enumerate((uncached, cache_5m, cache_1h, cache_read, output, web)):
                row[i] += v

        models_today = {m.id for m in org.models_on(d)}
        for key in org.api_keys:
            if not key.usable_on(d):
                continue
            r = rng(org.world_seed, org.slug, "use", key.id, d.isoformat())
            idle = r.random() > 0.85 * min(1.0, WEEKDAY[d.weekday()] + 0.2)
            if idle and not (spike and spike[0] == key.id):
                continue
            scale = key.scale * factor * r.lognormvariate(0, 0.3)
            if spike and spike[0] == key.id:  # the runaway spends its multiple of the key's usual day
                scale = key.scale * factor * spike[1]
            ws = None if key.workspace.is_default else key.workspace.id
            models = [m for m in key.models if m in models_today] or [sorted(models_today)[0]]
            weights = key.weights[: len(models)]
            for model_id, w in zip(models, weights, strict=False):
                model = MODELS_BY_ID[model_id]
                share = w / sum(weights)
                tokens = int(base * scale * share)
                if tokens <= 0:
                    continue
                for tier, tier_share in (("batch", key.batch_share), ("priority", key.priority_share)):
                    if tier_share:
                        part = int(tokens * tier_share)
                        tokens -= part
                        self._add_split(add, r, org, d, key.id, ws, model, tier, part, key)
                self._add_split(add, r, org, d, key.id, ws, model, "standard", tokens, key)
        # key-less Workbench / Console usage by members, and service-account (OIDC federation) usage
        r = rng(org.world_seed, org.slug, "workbench", d.isoformat())

        def keyless(account, service_account, model, tokens: int, output: int) -> None:
            dims = (account, None, service_account, None, model.id, "standard", "0-200k")
            add((*dims, self._geo(model, "global"), "standard"), tokens, output, 0, r)

        members = [u for u in self._developers if u.member_on(d)]
        for u in r.sample(members, min(len(members), max(1, len(members) // 8))) if members else ():
            model = MODELS_BY_ID[r.choice(sorted(models_today))]
            tokens = int(base * factor * r.uniform(0.01, 0.05))
            keyless(u.id, None, model, tokens, tokens // r.randint(5, 12))
        for sa in org.service_accounts:
            if r.random() < 0.6:
                model = MODELS_BY_ID[sorted(models_today)[0]]
                tokens = int(base * factor * r.uniform(0.05, 0.2))
                keyless(None, sa, model, tokens, tokens // 10)
        return tuple(Record(k, tuple(v)) for k, v in sorted(out.items(), key=lambda kv: sortable(kv[0])))

    @staticmethod
    def _geo(model, workspace_geo: str) -> str:
        if not model.us_geo:
            return "not_available"
        return workspace_geo

    def _add_split(self, add, r, org, d, key_id, ws, model, tier, tokens, key) -> None:
        if tokens <= 0:
            return
        geo = self._geo(model, key.workspace.default_inference_geo)
        long_ctx = int(tokens * key.long_context_share) if model.long_context else 0
        fast = (
            int((tokens - long_ctx) * key.fast_share) if (model.fast_multiplier and tier == "standard") else 0
        )
        normal = tokens - long_ctx - fast
        for ctx, speed, amount in (
            ("0-200k", "standard", normal),
            ("200k-1M", "standard", long_ctx),
            ("0-200k", "fast", fast),
        ):
            if amount > 0:
                output = amount // r.randint(6, 14)
                web = r.randint(0, 40) if key.web_search and speed == "standard" and ctx == "0-200k" else 0
                add((None, key_id, None, ws, model.id, tier, ctx, geo, speed), amount, output, web, r)

    def hourly(self, d: date) -> list[tuple[Record, ...]]:
        """The day's records split into 24 hours; every hour sums back to the day exactly."""
        return _hourly(self, d)

    def minutes(self, d: date, hour: int) -> list[tuple[Record, ...]]:
        """One hour's records split into 60 minutes (each record active in a few minutes)."""
        out: list[list[Record]] = [[] for _ in range(60)]
        for i, rec in enumerate(self.hourly(d)[hour]):
            slots = sorted({(stable_int(self.org.slug, d, hour, i, k) % 60) for k in range(3)})
            weights = tuple(1 + (stable_int(self.org.slug, d, hour, i, s) % 5) for s in slots)
            parts = [split_integer(v, weights, 0) for v in rec.metrics]
            for j, minute in enumerate(slots):
                metrics = tuple(p[j] for p in parts)
                if any(metrics):
                    out[minute].append(Record(rec.dims, metrics))
        return [tuple(x) for x in out]

    def visible(self, start: datetime, end: datetime, cutoff: datetime) -> tuple[Record, ...]:
        """Records of [start, end) as the usage report shows them at ``cutoff`` (data lags ~5 minutes).

        ``start``/``end`` are aligned to minutes; whole days use the day cache, and partial spans are
        assembled from hours and minutes so any bucket width adds up to the same totals.
        """
        end = min(end, cutoff.replace(second=0, microsecond=0))
        if end <= start:
            return ()
        d = start.date()
        if start == day_start(d) and end == day_start(d) + timedelta(days=1):
            return self.records(d)
        out: list[Record] = []
        t = start
        while t < end:
            hour_end = t.replace(minute=0) + timedelta(hours=1)
            if t.minute == 0 and hour_end <= end:
                out.extend(self.hourly(t.date())[t.hour])
                t = hour_end
            else:
                out.extend(self.minutes(t.date(), t.hour)[t.minute])
                t += timedelta(minutes=1)
        return tuple(out)


@lru_cache(maxsize=4096)
def _records(data: ConsoleData, d: date) -> tuple[Record, ...]:
    return data._generate(d)


@lru_cache(maxsize=256)
def _hourly(data: ConsoleData, d: date) -> list[tuple[Record, ...]]:
    hours: list[list[Record]] = [[] for _ in range(24)]
    for i, rec in enumerate(data.records(d)):
        shift = stable_int(data.org.slug, d, i) % 6
        weights = DIURNAL[-shift:] + DIURNAL[:-shift] if shift else DIURNAL
        peak = weights.index(max(weights))
        parts = [split_integer(v, weights, peak) for v in rec.metrics]
        for h in range(24):
            metrics = tuple(p[h] for p in parts)
            if any(metrics):
                hours[h].append(Record(rec.dims, metrics))
    return [tuple(h) for h in hours]

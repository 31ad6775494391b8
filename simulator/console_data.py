"""Console (Admin API) traffic: token usage, billed cost and Claude Code activity per organization and day.

A day's usage is a list of fine-grained records (one per key, model, tier, context window, geo and
speed), generated lazily and cached. The usage report groups these records; the cost report bills
them with the simulator's price list (priority tier excluded, code execution added), rounding once
per record and token type, so every grouping of the same day adds up to the same micro-cents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property, lru_cache

from simulator.catalog import (
    CODE_EXECUTION_FREE_SECONDS_PER_DAY,
    CODE_EXECUTION_MICROCENTS_PER_HOUR,
    MODELS_BY_ID,
    TOKEN_TYPES,
    WEB_SEARCH_MICROCENTS,
    cost_description,
    microcents_to_usd,
    price_microcents_per_token,
)
from simulator.ids import rng, stable_int
from simulator.truth import provider
from simulator.world import TERMINALS, Organization, day_start

#: Dimensions of a usage record, in the order the usage report names them.
DIMS = (
    "account_id",
    "api_key_id",
    "service_account_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)
#: Metrics of a usage record. The first five map one-to-one onto TOKEN_TYPES.
METRICS = (
    "uncached_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "web_search_requests",
)
COST_FIELDS = (
    "workspace_id",
    "description",
    "cost_type",
    "model",
    "token_type",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)
BILLED_TIERS = ("standard", "batch")  # priority tier is billed outside the cost report
DIURNAL = (2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 11, 10, 9, 8, 6, 5, 4, 3, 3, 2)
WEEKDAY = (1.0, 1.05, 1.06, 1.03, 0.94, 0.35, 0.3)


@dataclass(frozen=True)
class Record:
    dims: tuple  # values for DIMS (None where the dimension does not apply)
    metrics: tuple[int, ...]  # values for METRICS

    def dim(self, name: str):
        return self.dims[DIMS.index(name)]


@dataclass(frozen=True)
class CostLine:
    fields: tuple  # values for COST_FIELDS
    microcents: int


@dataclass(frozen=True)
class ClaudeCodeRow:
    actor: dict
    sort_key: tuple
    terminal_type: str
    is_remote: bool
    core: dict
    tool_actions: dict
    models: tuple  # (model, input, output, cache_read, cache_creation, cost cents as Decimal)


def split_integer(total: int, weights: tuple[int, ...], remainder_to: int) -> list[int]:
    """Split ``total`` by integer weights exactly (the rounding remainder goes to one slot)."""
    w = sum(weights)
    parts = [total * x // w for x in weights]
    parts[remainder_to] += total - sum(parts)
    return parts


def _growth(org: Organization, d: date) -> float:
    return 1.0 + 0.0035 * max(0, (d - org.created).days)


class ConsoleData:
    """Lazily generated Console data for one organization."""

    def __init__(self, org: Organization) -> None:
        self.org = org

    # -- usage ---------------------------------------------------------------------------
    def records(self, d: date) -> tuple[Record, ...]:
        """Every usage record of the whole UTC day ``d``."""
        return _records(self, d)

    def spike(self, d: date) -> tuple[str, float] | None:
        """A cost spike on this day: (api key id, multiplier), about one week in seven."""
        iso_year, week, _ = d.isocalendar()
        r = rng(self.org.world_seed, self.org.slug, "spike", iso_year, week)
        if r.random() > 0.15 or not self.org.api_keys:
            return None
        day = r.randrange(5)
        if d.weekday() != day:
            return None
        return r.choice(self.org.api_keys).id, r.uniform(4, 8)

    @cached_property
    def _developers(self):
        return [u for u in self.org.users if u.role in ("developer", "admin", "claude_code_user")] or list(
            self.org.users
        )

    def _generate(self, d: date) -> tuple[Record, ...]:
        org = self.org
        if d < org.created:
            return ()
        factor = _growth(org, d) * WEEKDAY[d.weekday()]
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
            if r.random() > 0.85 * min(1.0, WEEKDAY[d.weekday()] + 0.2):
                continue
            scale = key.scale * factor * r.lognormvariate(0, 0.3)
            if spike and spike[0] == key.id:
                scale *= spike[1]
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
        members = [u for u in self._developers if u.member_on(d)]
        for u in r.sample(members, min(len(members), max(1, len(members) // 8))) if members else ():
            model = MODELS_BY_ID[r.choice(sorted(models_today))]
            tokens = int(base * factor * r.uniform(0.01, 0.05))
            add(
                (
                    u.id,
                    None,
                    None,
                    None,
                    model.id,
                    "standard",
                    "0-200k",
                    self._geo(model, "global"),
                    "standard",
                ),
                tokens,
                tokens // r.randint(5, 12),
                0,
                r,
            )
        for sa in org.service_accounts:
            if r.random() < 0.6:
                model = MODELS_BY_ID[sorted(models_today)[0]]
                tokens = int(base * factor * r.uniform(0.05, 0.2))
                add(
                    (
                        None,
                        None,
                        sa,
                        None,
                        model.id,
                        "standard",
                        "0-200k",
                        self._geo(model, "global"),
                        "standard",
                    ),
                    tokens,
                    tokens // 10,
                    0,
                    r,
                )
        return tuple(Record(k, tuple(v)) for k, v in sorted(out.items(), key=lambda kv: _sortable(kv[0])))

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

    # -- cost ------------------------------------------------------------------------------
    def cost_lines(self, d: date) -> tuple[CostLine, ...]:
        """Billed lines of a completed day: tokens by type, web search, code execution."""
        return _cost_lines(self, d)

    def _bill(self, d: date) -> tuple[CostLine, ...]:
        org = self.org
        keep = Decimal(1) - org.discount
        lines: dict[tuple, int] = defaultdict(int)
        for rec in self.records(d):
            (_, _, _, ws, model_id, tier, ctx, geo, speed) = rec.dims
            if tier not in BILLED_TIERS:
                continue
            model = MODELS_BY_ID[model_id]
            for i, token_type in enumerate(TOKEN_TYPES):
                tokens = rec.metrics[i]
                if not tokens:
                    continue
                unit = price_microcents_per_token(
                    model,
                    token_type,
                    d,
                    service_tier=tier,
                    context_window=ctx,
                    inference_geo=geo,
                    speed=speed,
                )
                amount = int((tokens * unit * keep).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
                desc = cost_description(
                    model, token_type, service_tier=tier, context_window=ctx, inference_geo=geo, speed=speed
                )
                lines[(ws, desc, "tokens", model_id, token_type, tier, ctx, geo, speed)] += amount
            if rec.metrics[5]:
                amount = int((rec.metrics[5] * WEB_SEARCH_MICROCENTS * keep).quantize(Decimal(1)))
                lines[(ws, "Web Search Usage", "web_search", None, None, None, None, None, None)] += amount
        free = CODE_EXECUTION_FREE_SECONDS_PER_DAY
        for ws, seconds in self.code_execution(d):
            billable = max(0, seconds - free)
            free = max(0, free - seconds)
            if billable:
                amount = int(
                    (Decimal(billable) * CODE_EXECUTION_MICROCENTS_PER_HOUR / 3600 * keep).quantize(
                        Decimal(1), rounding=ROUND_HALF_EVEN
                    )
                )
                lines[(ws, "Code Execution Usage", "code_execution", None, None, None, None, None, None)] += (
                    amount
                )
        return tuple(CostLine(k, v) for k, v in sorted(lines.items(), key=lambda kv: _sortable(kv[0])) if v)

    def code_execution(self, d: date) -> list[tuple[str | None, int]]:
        """Container seconds per workspace (None = default workspace): billed, never in the usage report."""
        out = []
        for ws in (self.org.default_workspace, *self.org.workspaces):
            if not ws.active_on(d):
                continue
            r = rng(self.org.world_seed, self.org.slug, "codeexec", ws.id, d.isoformat())
            if r.random() < 0.5:
                out.append(
                    (None if ws.is_default else ws.id, int(r.uniform(600, 36_000) * WEEKDAY[d.weekday()]))
                )
        return out

    # -- Claude Code ---------------------------------------------------------------------------
    def claude_code(self, d: date) -> tuple[ClaudeCodeRow, ...]:
        return _claude_code(self, d)

    def _claude_code_rows(self, d: date) -> tuple[ClaudeCodeRow, ...]:
        org = self.org
        if d < org.created:
            return ()
        coders = [
            u for u in org.users if u.role in ("developer", "claude_code_user", "admin") and u.member_on(d)
        ]
        bots = [k for k in org.api_keys if k.usable_on(d) and stable_int(k.id, "cc") % 10 == 0]
        rows = []
        for actor in (*coders, *bots):
            r = rng(org.world_seed, org.slug, "cc", actor.id, d.isoformat())
            if r.random() > 0.6 * WEEKDAY[d.weekday()]:
                continue
            if hasattr(actor, "email"):
                who = {"type": "user_actor", "email_address": actor.email}
                key = (actor.email,)
            else:
                who = {"type": "api_actor", "api_key_name": actor.name}
                key = (actor.name,)
            places = [(r.choice(TERMINALS), False)]
            if r.random() < 0.15:
                places.append(("web", True))
            for terminal, remote in places:
                sessions = r.randint(1, 8)
                added = r.randint(10, 400) * sessions
                tools = {
                    name: {"accepted": r.randint(0, 6 * sessions), "rejected": r.randint(0, sessions)}
                    for name in ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
                }
                breakdown = []
                for model_id in sorted({r.choice([m.id for m in org.models_on(d)][:3]) for _ in range(2)}):
                    model = MODELS_BY_ID[model_id]
                    inp, out = r.randint(5_000, 90_000) * sessions, r.randint(1_000, 20_000) * sessions
                    cread, ccreate = inp * r.randint(5, 20), inp // r.randint(1, 4)
                    cost = sum(
                        price_microcents_per_token(
                            model,
                            tt,
                            d,
                            service_tier="standard",
                            context_window="0-200k",
                            inference_geo="global",
                            speed="standard",
                        )
                        * n
                        for tt, n in (
                            ("uncached_input_tokens", inp),
                            ("output_tokens", out),
                            ("cache_read_input_tokens", cread),
                            ("cache_creation.ephemeral_5m_input_tokens", ccreate),
                        )
                    )
                    cents = (cost / 1_000_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
                    breakdown.append((model_id, inp, out, cread, ccreate, cents))
                rows.append(
                    ClaudeCodeRow(
                        actor=who,
                        sort_key=(*key, terminal, remote),
                        terminal_type=terminal,
                        is_remote=remote,
                        core={
                            "num_sessions": sessions,
                            "lines_of_code": {"added": added, "removed": added // r.randint(2, 9)},
                            "commits_by_claude_code": r.randint(0, sessions),
                            "pull_requests_by_claude_code": r.randint(0, max(0, sessions // 3)),
                        },
                        tool_actions=tools,
                        models=tuple(breakdown),
                    )
                )
        return tuple(sorted(rows, key=lambda x: x.sort_key))


def _sortable(values: tuple) -> tuple:
    return tuple("" if v is None else str(v) for v in values)


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


@lru_cache(maxsize=4096)
def _cost_lines(data: ConsoleData, d: date) -> tuple[CostLine, ...]:
    return data._bill(d)


@lru_cache(maxsize=1024)
def _claude_code(data: ConsoleData, d: date) -> tuple[ClaudeCodeRow, ...]:
    return data._claude_code_rows(d)


# -- ground truth ---------------------------------------------------------------------------------
def _days(start: date, end: date):
    d = start
    while d < end:
        yield d
        d += timedelta(days=1)


def _console(sim, org) -> ConsoleData:
    if org.kind != "console":
        raise ValueError(f"{org.slug} is not a Console organization")
    return sim.data(org, "console")


@provider("console_cost")
def truth_console_cost(sim, org, start: date, end: date, params: dict) -> dict:
    """Billed cost in USD per day, with breakdowns by workspace, model, cost type and description."""
    data = _console(sim, org)
    last = sim.now().astimezone(UTC).date()  # only completed days are billed
    days = {}
    total = Decimal(0)
    for d in _days(start, min(end, last)):
        by: dict[str, dict] = {
            "workspace_id": defaultdict(int),
            "model": defaultdict(int),
            "cost_type": defaultdict(int),
            "description": defaultdict(int),
        }
        day_total = 0
        for line in data.cost_lines(d):
            f = dict(zip(COST_FIELDS, line.fields, strict=True))
            for dim, acc in by.items():
                acc[str(f[dim])] += line.microcents
            day_total += line.microcents
        total += microcents_to_usd(day_total)
        days[d.isoformat()] = {
            "amount_usd": str(microcents_to_usd(day_total)),
            **{
                f"by_{dim}": {k: str(microcents_to_usd(v)) for k, v in sorted(acc.items())}
                for dim, acc in by.items()
            },
        }
    return {"org": org.slug, "currency": "USD", "total_usd": str(total), "days": days}


@provider("console_usage")
def truth_console_usage(sim, org, start: date, end: date, params: dict) -> dict:
    """Token totals per day (whole completed days; today as visible now), total and by model."""
    data = _console(sim, org)
    now = sim.now()
    days = {}
    for d in _days(start, end):
        recs = data.visible(day_start(d), day_start(d) + timedelta(days=1), now - timedelta(minutes=5))
        totals = [0] * len(METRICS)
        by_model: dict[str, list[int]] = defaultdict(lambda: [0] * len(METRICS))
        for rec in recs:
            for i, v in enumerate(rec.metrics):
                totals[i] += v
                by_model[rec.dims[4]][i] += v
        days[d.isoformat()] = {
            "totals": dict(zip(METRICS, totals, strict=True)),
            "records": len(recs),
            "by_model": {m: dict(zip(METRICS, v, strict=True)) for m, v in sorted(by_model.items())},
        }
    return {"org": org.slug, "days": days}


@provider("claude_code")
def truth_claude_code(sim, org, start: date, end: date, params: dict) -> dict:
    """Claude Code rows, sessions and estimated cost (USD) per day."""
    data = _console(sim, org)
    days = {}
    for d in _days(start, end):
        rows = data.claude_code(d)
        cents = sum((m[5] for row in rows for m in row.models), Decimal(0))
        days[d.isoformat()] = {
            "rows": len(rows),
            "sessions": sum(r.core["num_sessions"] for r in rows),
            "estimated_cost_usd": str(cents / 100),
        }
    return {"org": org.slug, "days": days}


@provider("min_requests_console")
def truth_min_requests(sim, org, start: date, end: date, params: dict) -> dict:
    """Fewest requests a complete pull of [start, end) needs, per Console endpoint, at the largest limits."""
    data = _console(sim, org)
    n_days = max(0, (end - start).days)
    windows = -(-n_days // 31)
    today = sim.now().astimezone(UTC).date()
    cc = sum(
        max(1, -(-len(data.claude_code(d)) // 1000))
        for d in _days(start, min(end, today + timedelta(days=1)))
    )
    inventory_now = today
    users = len(org.users_on(inventory_now))
    per_ws = sum(
        max(1, -(-len([m for m in ms if m[0].member_on(inventory_now)]) // 1000))
        for ms in org.workspace_members.values()
    )
    return {
        "usage_report_messages": windows,
        "cost_report": -(-max(0, (min(end, today) - start).days) // 31),
        "usage_report_claude_code": cc,
        "users": max(1, -(-users // 1000)),
        "workspaces": 1,
        "workspace_members": per_ws,
        "api_keys": max(1, -(-len(org.api_keys) // 1000)),
        "invites": max(1, -(-len(org.invites) // 1000)),
        "organization": 1,
    }

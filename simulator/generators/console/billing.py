"""Console billing: the cost lines of a completed day (tokens, web search, code execution)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from simulator.catalog import (
    CODE_EXECUTION_FREE_SECONDS_PER_DAY,
    CODE_EXECUTION_MICROCENTS_PER_HOUR,
    MODELS_BY_ID,
    TOKEN_TYPES,
    WEB_SEARCH_MICROCENTS,
    cost_description,
    price_microcents_per_token,
)
from simulator.generators.console.records import BILLED_TIERS, WEEKDAY, CostLine, sortable
from simulator.ids import rng


class Billing:
    """Bills a day's records (mixed into :class:`ConsoleData`)."""

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
        return tuple(CostLine(k, v) for k, v in sorted(lines.items(), key=lambda kv: sortable(kv[0])) if v)

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


@lru_cache(maxsize=4096)
def _cost_lines(data: Billing, d: date) -> tuple[CostLine, ...]:
    return data._bill(d)

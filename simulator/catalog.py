"""The simulator's own price list and model catalogue.

Prices follow ``shared/pricing.md`` (USD per million tokens). The simulator bills with this list,
so the project's price book can be checked against it rather than copied from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

D = Decimal

TOKEN_TYPES = (
    "uncached_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
)
TOKEN_LABELS = {
    "uncached_input_tokens": "Input Tokens",
    "cache_creation.ephemeral_5m_input_tokens": "Cache Write Tokens (5m)",
    "cache_creation.ephemeral_1h_input_tokens": "Cache Write Tokens (1h)",
    "cache_read_input_tokens": "Cache Read Tokens",
    "output_tokens": "Output Tokens",
}

#: Micro-cents (1e-6 US cents) is the unit every simulated amount is computed and summed in.
MICROCENTS_PER_USD = 100_000_000
WEB_SEARCH_MICROCENTS = 1_000_000  # 10 USD per 1,000 searches = 1 cent each
CODE_EXECUTION_MICROCENTS_PER_HOUR = 5_000_000  # 0.05 USD per container-hour
CODE_EXECUTION_FREE_SECONDS_PER_DAY = 5 * 3600

#: The API's service tiers, in sort order.
SERVICE_TIERS = ("batch", "flex", "flex_discount", "priority", "priority_on_demand", "standard")


@dataclass(frozen=True)
class Model:
    id: str
    display: str
    input: Decimal
    output: Decimal
    cache_read: Decimal
    available_from: date
    long_context: bool = False  # may serve 200k-1M context
    long_context_surcharge: bool = False  # Sonnet 4 / 4.5: 2x input, 1.5x output above 200k
    fast_multiplier: Decimal | None = None  # speed=fast price multiplier
    us_geo: bool = False  # inference_geo=us available (1.1x)
    cache_read_from: tuple[tuple[date, Decimal], ...] = ()  # effective-dated cache-read changes

    def unit_price(self, token_type: str, on: date) -> Decimal:
        """List price in USD per million tokens before multipliers."""
        if token_type == "uncached_input_tokens":
            return self.input
        if token_type == "output_tokens":
            return self.output
        if token_type == "cache_creation.ephemeral_5m_input_tokens":
            return self.input * D("1.25")
        if token_type == "cache_creation.ephemeral_1h_input_tokens":
            return self.input * 2
        price = self.cache_read
        for since, value in self.cache_read_from:
            if on >= since:
                price = value
        return price


def _m(mid, display, inp, out, cread, since, **kw) -> Model:
    return Model(mid, display, D(inp), D(out), D(cread), date.fromisoformat(since), **kw)


#: Ordered by how widely simulated organizations use them (the first N form an org's catalogue).
MODELS: tuple[Model, ...] = (
    _m(
        "claude-sonnet-4-5",
        "Claude Sonnet 4.5",
        "3",
        "15",
        "0.30",
        "2025-09-29",
        long_context=True,
        long_context_surcharge=True,
    ),
    _m("claude-haiku-4-5", "Claude Haiku 4.5", "1", "5", "0.10", "2025-10-15"),
    _m(
        "claude-opus-4-6",
        "Claude Opus 4.6",
        "5",
        "25",
        "0.50",
        "2026-02-05",
        long_context=True,
        fast_multiplier=D(6),
        us_geo=True,
    ),
    _m(
        "claude-sonnet-4-6",
        "Claude Sonnet 4.6",
        "3",
        "15",
        "0.30",
        "2026-02-17",
        long_context=True,
        us_geo=True,
    ),
    _m("claude-opus-4-5", "Claude Opus 4.5", "5", "25", "0.50", "2025-11-24"),
    _m("claude-3-5-haiku", "Claude Haiku 3.5", "0.80", "4", "0.08", "2024-10-22"),
    _m(
        "claude-opus-4-7",
        "Claude Opus 4.7",
        "5",
        "25",
        "0.50",
        "2026-04-16",
        long_context=True,
        fast_multiplier=D(6),
        us_geo=True,
    ),
    _m("claude-sonnet-5", "Claude Sonnet 5", "2", "10", "0.20", "2026-06-10", long_context=True, us_geo=True),
    _m("claude-opus-4-1", "Claude Opus 4.1", "15", "75", "1.50", "2025-08-05"),
    _m(
        "claude-opus-5",
        "Claude Opus 5",
        "5",
        "25",
        "0.50",
        "2026-07-15",
        long_context=True,
        fast_multiplier=D(2),
        us_geo=True,
    ),
    _m("claude-haiku-5-5", "Claude Haiku 5.5", "0.10", "0.50", "0.01", "2026-09-01", us_geo=True),
    _m(
        "claude-sonnet-5-5",
        "Claude Sonnet 5.5",
        "2",
        "10",
        "0.20",
        "2026-09-15",
        long_context=True,
        us_geo=True,
        cache_read_from=((date(2026, 10, 7), D("0.10")),),
    ),
)
MODELS_BY_ID = {m.id: m for m in MODELS}


def price_microcents_per_token(
    model: Model,
    token_type: str,
    on: date,
    *,
    service_tier: str,
    context_window: str,
    inference_geo: str,
    speed: str,
) -> Decimal:
    """Exact list price of one token, in micro-cents, after every multiplier."""
    price = model.unit_price(token_type, on)
    if service_tier == "batch":
        price *= D("0.5")
    if context_window == "200k-1M" and model.long_context_surcharge:
        price *= D("1.5") if token_type == "output_tokens" else D(2)
    if speed == "fast" and model.fast_multiplier:
        price *= model.fast_multiplier
    if inference_geo == "us" and model.us_geo:
        price *= D("1.1")
    return price * 100  # USD/MTok -> micro-cents per token


def cost_description(
    model: Model,
    token_type: str,
    *,
    service_tier: str,
    context_window: str,
    inference_geo: str,
    speed: str = "standard",
) -> str:
    """The cost report's ``description`` for a token line, e.g. ``Claude Sonnet 4.5 Usage - Input Tokens``."""
    text = f"{model.display} Usage - {TOKEN_LABELS[token_type]}"
    if service_tier == "batch":
        text += " - Batch"
    if context_window == "200k-1M":
        text += " - Long Context"
    if inference_geo == "us":
        text += " - US Inference"
    if speed == "fast":
        text += " - Fast Mode"
    return text


def format_cents(microcents: int) -> str:
    """Micro-cents as the API's decimal string in cents, e.g. ``41280.000000``."""
    sign = "-" if microcents < 0 else ""
    whole, frac = divmod(abs(int(microcents)), 1_000_000)
    return f"{sign}{whole}.{frac:06d}"


def microcents_to_usd(microcents: int) -> Decimal:
    return Decimal(int(microcents)) / MICROCENTS_PER_USD

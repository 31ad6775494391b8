"""Console usage records, billed cost lines and Claude Code rows: their shapes and the constants behind them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from simulator.world.organization import Organization

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


def usage_growth(org: Organization, d: date) -> float:
    return 1.0 + 0.0035 * max(0, (d - org.created).days)


def sortable(values: tuple) -> tuple:
    return tuple("" if v is None else str(v) for v in values)

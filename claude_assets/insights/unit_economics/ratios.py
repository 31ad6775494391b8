"""Exact ratios: a Decimal amount over a count, rounded half-even to the scale of the money columns; a
zero or unknown denominator (or an unknown amount) gives None, never 0 or infinity."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from claude_assets.insights.unit_economics.tables import RATIO_PLACES

_QUANTUM = Decimal(1).scaleb(-RATIO_PLACES)


def per(amount: Decimal | None, count: int | None) -> Decimal | None:
    """``amount / count`` exactly rounded, or None when either is unknown or the count is 0."""
    if amount is None or count is None or count == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 80  # 38 digits of MONEY over any count, before rounding to RATIO_PLACES
        return (Decimal(amount) / Decimal(int(count))).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)


def with_ratios(rows: list[dict], ratios: dict[str, tuple[str, str]]) -> list[dict]:
    """Each row with its ratio columns (column -> (numerator, denominator)) filled in."""
    return [{**row, **{name: per(row[num], row[den]) for name, (num, den) in ratios.items()}} for row in rows]

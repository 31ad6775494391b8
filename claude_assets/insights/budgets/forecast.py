"""The forecast of a budget period's spend: run-rate with weekday seasonality, with an 80 % interval.

Method, on the scope's daily billed spend ``y`` over the trailing ``HISTORY_DAYS`` days ending on the day
judged (days before the warehouse's first day are not history; days of the previous period are). With
fewer than ``MIN_HISTORY_DAYS`` days of history there is no forecast: it equals the spend to date.

- level: the mean daily spend of that history (the run-rate);
- weekday factors: for each weekday, its mean spend over the level, when the history holds at least two
  of every weekday (two full weeks) and the level is positive; else every factor is 1 (plain run-rate);
- expected spend of each remaining day of the period: level x the factor of its weekday;
- forecast = spend to date + the sum of the remaining days' expected spend;
- interval: the residuals ``y - level x factor`` of the history give a daily standard deviation ``s``;
  the sum of ``k`` remaining days varies by ``s * sqrt(k + k^2 / n)`` (k independent days, plus the
  uncertainty of a level estimated from n days), and the 80 % interval is the forecast +- 1.2816 of that
  (the normal quantile), the low end never below the spend to date (billed spend does not go back).

Every figure is an exact ``Decimal`` in USD, rounded to the warehouse's 1e-12 at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

HISTORY_DAYS = 28
#: with fewer days of history there is no run-rate to speak of: the forecast is the spend to date
MIN_HISTORY_DAYS = 7
#: two-sided 80 % normal quantile
Z80 = Decimal("1.2816")
_USD = Decimal("1e-12")


@dataclass(frozen=True)
class Forecast:
    expected_usd: Decimal  # spend to date + the remaining days' expected spend
    low_usd: Decimal
    high_usd: Decimal
    method: str


def forecast(
    daily: Mapping[date, Decimal], spend_to_date: Decimal, day: date, period_end: date, first_day: date
) -> Forecast:
    """The forecast to ``period_end`` as judged on ``day``: ``daily`` is the scope's spend per day (a day
    absent spent nothing), ``first_day`` the first day the warehouse holds (no history before it)."""
    start = max(day - timedelta(days=HISTORY_DAYS - 1), first_day)
    history = [(d, daily.get(d, Decimal(0))) for d in _span(start, day)]
    remaining = _span(day + timedelta(days=1), period_end)
    if not remaining:
        return Forecast(spend_to_date, spend_to_date, spend_to_date, "period complete: forecast = actual")
    if len(history) < MIN_HISTORY_DAYS:
        return Forecast(
            spend_to_date,
            spend_to_date,
            spend_to_date,
            f"{len(history)} d of history (fewer than {MIN_HISTORY_DAYS}): no forecast, forecast = spend to date",
        )
    with localcontext() as ctx:
        ctx.prec = 50
        n = len(history)
        level = sum((y for _, y in history), Decimal(0)) / n
        factors = _weekday_factors(history, level)
        expected = sum((level * factors[d.weekday()] for d in remaining), Decimal(0))
        residuals = [y - level * factors[d.weekday()] for d, y in history]
        mean_r = sum(residuals, Decimal(0)) / n
        s = (
            (sum(((r - mean_r) ** 2 for r in residuals), Decimal(0)) / (n - 1)).sqrt()
            if n > 1
            else Decimal(0)
        )
        k = len(remaining)
        half = Z80 * s * (Decimal(k) + Decimal(k * k) / n).sqrt()
        total = spend_to_date + expected
        low, high = max(spend_to_date, total - half), total + half
    method = (
        f"run-rate of {n} d ({start}..{day}) x weekday factors"
        if any(f != 1 for f in factors.values())
        else f"run-rate of {n} d ({start}..{day}), no weekday factors (fewer than 2 of each weekday)"
    )
    return Forecast(_usd(total), _usd(low), _usd(high), method)


def _weekday_factors(history: list[tuple[date, Decimal]], level: Decimal) -> dict[int, Decimal]:
    by_day: dict[int, list[Decimal]] = {w: [] for w in range(7)}
    for d, y in history:
        by_day[d.weekday()].append(y)
    if level <= 0 or any(len(v) < 2 for v in by_day.values()):
        return {w: Decimal(1) for w in range(7)}
    return {w: (sum(v, Decimal(0)) / len(v)) / level for w, v in by_day.items()}


def _span(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _usd(value: Decimal) -> Decimal:
    return value.quantize(_USD, rounding=ROUND_HALF_EVEN)

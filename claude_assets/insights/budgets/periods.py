"""Budget periods: UTC calendar months and quarters."""

from __future__ import annotations

from datetime import date, timedelta


def period_bounds(kind: str, day: date) -> tuple[date, date]:
    """The first and last day of the month or quarter ``day`` is in."""
    first_month = day.month if kind == "month" else 3 * ((day.month - 1) // 3) + 1
    months = 1 if kind == "month" else 3
    start = date(day.year, first_month, 1)
    after = first_month + months
    following = date(day.year + (after - 1) // 12, (after - 1) % 12 + 1, 1)
    return start, following - timedelta(days=1)


def days(start: date, end: date) -> list[date]:
    """Every day of ``[start, end]``."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]

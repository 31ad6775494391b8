"""Whether one slice's day is an anomaly: pure arithmetic on a daily series, no SQL and no Dagster.

The baseline is weekly-seasonal and robust: the median of the same weekday over the trailing weeks, scaled
by the level of the last days against their own weekdays' medians (so a lasting step is absorbed within
days, while a one-day spike never moves the median). The usual range is read from the days the slice was
used: each weekday's median when used, widened by a number of robust standard deviations (1.4826 x the
median absolute deviation of the used days' ratios to it), and never below the range of the slice's typical weekday (a quiet day as busy as a usual working
day is not an anomaly). A day is flagged only above that range AND past both floors (absolute and percent).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from claude_assets.config import AnomalySettings

#: a normal distribution's standard deviation is 1.4826 times its median absolute deviation
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Baseline:
    """What a day was expected to be, and its usual range."""

    expected: float
    lower: float
    upper: float
    same_weekdays: int  # settled days of the same weekday the seasonal median stood on
    level: float  # the recent level against the weekdays' medians (1 = as usual)
    typical: float = 0.0  # a usual working day of the slice (the median weekday's usual when used)


@dataclass(frozen=True)
class Judgement:
    """A flagged day: its baseline, how far above it the day was, and how bad that is."""

    actual: float
    baseline: Baseline
    change: float  # actual - expected
    change_pct: float
    severity: str


def baseline(series: Mapping[date, float], day: date, settings: AnomalySettings) -> Baseline | None:
    """The baseline of ``day`` from the settled days of ``series`` before it (a day absent from ``series`` is
    not known; a known day the slice had nothing on is 0). None when too few same-weekday days are known, or
    when the slice had nothing at all in the trailing weeks (a new slice has no baseline to judge it by)."""
    window = [day - timedelta(days=k) for k in range(1, 7 * settings.baseline_weeks + 1)]
    first = min((t for t in series if series[t]), default=None)  # the slice's history starts here
    known = [t for t in window if t in series and first is not None and t >= first]
    by_weekday: dict[int, list[float]] = defaultdict(list)
    for t in known:
        by_weekday[t.weekday()].append(series[t])
    same = by_weekday.get(day.weekday(), [])
    if len(same) < settings.min_baseline_weeks:
        return None
    usual = {w: median(values) for w, values in by_weekday.items()}
    ratios = [
        (t, series[t] / usual[t.weekday()]) for t in known if usual[t.weekday()] > 0
    ]  # each known day against its weekday's usual
    recent = [r for t, r in ratios if (day - t).days <= settings.level_days]
    level = median(recent) if recent else 1.0
    expected = usual[day.weekday()] * level
    # the usual range is read from the days the slice was used (a key or user idle on some days is not
    # made more variable by them): each weekday's usual when used, and the spread of used days around it
    # (a weekday used fewer than min_baseline_weeks times takes the median of every used day)
    every_used = [series[t] for t in known if series[t] > 0]
    if not every_used:  # nothing used in the trailing weeks: no range to judge by
        return None
    pooled = median(every_used)
    active = {}
    for w, values in by_weekday.items():
        used_on_w = [v for v in values if v > 0]
        active[w] = median(used_on_w) if len(used_on_w) >= settings.min_baseline_weeks else pooled
    used = [(t, series[t] / active[t.weekday()]) for t in known if series[t] > 0]
    on_day, typical = active[day.weekday()], median(active.values())
    # a busy day's spread is read from the busy weekdays: quiet days (weekends) swing far more, relatively
    busy_days = {w for w, v in active.items() if v >= typical / 2}
    alike = busy_days if day.weekday() in busy_days else set(active)
    spread = max(
        _relative_spread(_left_out_ratios(series, [t for t in known if t.weekday() in alike])),
        settings.min_relative_spread,
    )
    widened = 1 + settings.interval_sigmas * spread
    # a day back at its usual after a quiet spell is not an anomaly: the range is never narrower than at the
    # usual level (a lasting rise still lifts it)
    used_level = median([r for t, r in used if (day - t).days <= settings.level_days] or [1.0])
    risen = max(used_level, 1.0)
    # a slice often idle (a key or user not used every day) is expected to spend its usual day when it is used
    expected = max(expected, on_day * used_level)
    half = settings.interval_sigmas * spread * expected
    # a slice given to bursts keeps them in its usual range: up to its second-largest day of the window
    # (against its weekday's usual), so one past spike never widens the range but recurring ones do
    bursts = sorted((r for _, r in used), reverse=True)
    ceiling = bursts[1] * on_day if len(bursts) > 1 else 0.0
    # a quiet day (a weekend, or a weekday the slice often skips) as busy as the slice's usual working day is
    # not an anomaly: the range reaches at least that of its typical weekday (the median weekday's usual)
    upper = max(on_day * risen * widened, ceiling, typical * risen * widened)
    return Baseline(expected, max(0.0, expected - half), upper, len(same), level, typical * used_level)


def _left_out_ratios(series: Mapping[date, float], known: list[date]) -> list[float]:
    """Each used day against the median of the other used days of its weekday: a median taken with the day
    itself in it (of a handful of weeks) sits close to it and would make every slice look steadier than it is."""
    used: dict[int, list[float]] = defaultdict(list)
    for t in known:
        if series[t] > 0:
            used[t.weekday()].append(series[t])
    ratios = []
    for values in used.values():
        if len(values) < 3:
            continue
        for i, v in enumerate(values):
            ratios.append(v / median(values[:i] + values[i + 1 :]))
    return ratios


def _relative_spread(ratios: list[float]) -> float:
    if len(ratios) < 2:
        return 0.0
    centre = median(ratios)
    return MAD_TO_SIGMA * median(abs(r - centre) for r in ratios)


def judge(
    series: Mapping[date, float], day: date, floor: float, settings: AnomalySettings
) -> Judgement | None:
    """The judgement of ``day`` when it is an anomaly (above its usual range, at least ``floor`` and
    ``settings.min_pct`` percent above expected), else None. Only increases are flagged; a slice whose
    expected day is under ``min_expected_pct_of_floor`` percent of the floor is not judged on its own: its
    change shows in its parents, where it is a driver."""
    actual = series.get(day, 0.0)
    if actual < floor:  # it cannot be ``floor`` above anything
        return None
    base = baseline(series, day, settings)
    if base is None or base.expected <= 0:  # nothing is usual on this weekday: no baseline to judge by
        return None
    if base.expected < floor * settings.min_expected_pct_of_floor / 100:  # too small to judge on its own
        return None
    change = actual - base.expected
    pct = change / base.expected * 100
    if actual <= base.upper or change < floor or pct < settings.min_pct:
        return None
    return Judgement(actual, base, change, pct, severity(pct, settings))


def severity(change_pct: float, settings: AnomalySettings) -> str:
    """high, medium or low by the percent above expected."""
    if change_pct >= settings.high_pct:
        return "high"
    return "medium" if change_pct >= settings.medium_pct else "low"

"""When a pulled day is complete at its source: provisional until then, final after.

A source family states how it finishes a day (``CompleteAfter``): the documented delay after the day
ends, and for sources with an export watermark (``data_refreshed_at``) the refresh interval. A day is
judged by the API's own clock (its ``Date`` header), never the local one:

- a day that has not ended by the API's clock cannot be pulled at all (``not_ended``);
- a day is final once the API's clock has passed its end plus the delay and, for a watermarked source,
  the watermark has reached that instant too ("buckets after it are incomplete", reference B8);
- otherwise it is provisional, and ``final_after`` says from when a new pull gives it as final.

This is "partial vs complete". Whether a complete day may still be revised is answered beside it
(``settle``): a complete day is *revisable* until its source's documented revision window (e.g. the
Enterprise reports' 30 days) has passed since the day ended, by the API's clock and, for a watermarked
source, by ``data_refreshed_at`` too; then it is *settled*.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from claude_assets.warehouse.writes import DayCompleteness


@dataclass(frozen=True)
class CompleteAfter:
    """How one source finishes a day: ``delay`` after the day ends (and a watermark, if it has one)."""

    source: str  # named in messages, e.g. "Claude Code analytics (GET /v1/organizations/usage_report/claude_code)"
    delay: timedelta
    #: set for a source whose pages carry ``data_refreshed_at``: the cadence of its exports
    refresh_interval: timedelta | None = None


def day_end(day: date) -> datetime:
    """The instant the UTC day ends (the next midnight)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def not_ended(day: date, api_time: datetime) -> bool:
    """The day has not ended yet by the API's clock: nothing of it can be complete."""
    return api_time < day_end(day)


def last_ended_day(api_time: datetime) -> date:
    """The newest UTC day that has ended by the API's clock."""
    return api_time.astimezone(UTC).date() - timedelta(days=1)


def judge(
    rule: CompleteAfter | None,
    day: date,
    api_time: datetime | None,
    data_refreshed_at: datetime | None,
    revisable_for: timedelta = timedelta(0),
) -> DayCompleteness:
    """Whether ``day`` was complete at the source (``completeness``) and settled (``settle``)."""
    return settle(
        completeness(rule, day, api_time, data_refreshed_at), rule, day, revisable_for, data_refreshed_at
    )


def settle(
    state: DayCompleteness,
    rule: CompleteAfter | None,
    day: date,
    revisable_for: timedelta,
    data_refreshed_at: datetime | None,
) -> DayCompleteness:
    """A complete day is settled once its source no longer revises it: the API's clock (and, for a source
    with an export watermark, ``data_refreshed_at``) has passed the day's end plus ``revisable_for``.

    Without the API's clock a day inside a non-zero window is revisable (nothing says it has settled).
    """
    settles_after = day_end(day) + revisable_for
    watermarked = rule is not None and rule.refresh_interval is not None
    clock = data_refreshed_at if watermarked else state.api_time
    settled = not state.provisional and (
        revisable_for == timedelta(0) or (clock is not None and clock >= settles_after)
    )
    return replace(state, settled=settled, settles_after=settles_after)


def completeness(
    rule: CompleteAfter | None, day: date, api_time: datetime | None, data_refreshed_at: datetime | None
) -> DayCompleteness:
    """Whether ``day``, pulled when the API's clock read ``api_time``, was complete at the source.

    ``rule`` None: the source serves a day only once it is complete (final as soon as served).
    Without the API's clock (no ``Date`` header) a day with a rule stays provisional with no
    ``final_after``: nothing says when it would be final, so it is shown, not re-pulled on a guess.
    """
    if rule is None:
        return DayCompleteness(False, None, api_time, data_refreshed_at)
    if api_time is None:
        return DayCompleteness(True, None, None, data_refreshed_at)
    complete_at = day_end(day) + rule.delay
    if rule.refresh_interval is None:
        if api_time >= complete_at:
            return DayCompleteness(False, None, api_time, None)
        return DayCompleteness(True, complete_at, api_time, None)
    if data_refreshed_at is not None and data_refreshed_at >= complete_at:
        return DayCompleteness(False, None, api_time, data_refreshed_at)
    return DayCompleteness(
        True,
        max(complete_at, next_refresh(rule.refresh_interval, api_time, data_refreshed_at)),
        api_time,
        data_refreshed_at,
    )


def next_refresh(interval: timedelta, api_time: datetime, data_refreshed_at: datetime | None) -> datetime:
    """The first export expected after ``api_time``: the watermark plus whole intervals (or one interval
    from now when there is no export yet), so a late export is waited for, not polled."""
    if data_refreshed_at is None:
        return api_time + interval
    steps = (api_time - data_refreshed_at) // interval + 1
    return data_refreshed_at + max(1, steps) * interval

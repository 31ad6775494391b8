"""Whether a source is late or has stalled, judged by the API's clock against its configured timing.

Late: its watermark trails the API's clock by more than ``expected_delay``. Stalled: its watermark has
not moved for longer than ``stall_after`` (how long is remembered from one judgement to the next as
``Seen``: the watermark and the API instant it was first seen). Either is an ERROR-severity failure of
the source's ``source_on_time`` check, naming the source, organization, last watermark and how late it
is; the next judgement after data arrives passes again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from claude_assets.config import SourceTiming


@dataclass(frozen=True)
class Seen:
    """A watermark and the API instant it was first seen at."""

    watermark: datetime
    since: datetime

    def as_json(self) -> dict:
        return {"watermark": self.watermark.isoformat(), "since": self.since.isoformat()}

    @classmethod
    def from_json(cls, value: object) -> Seen | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(datetime.fromisoformat(value["watermark"]), datetime.fromisoformat(value["since"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Verdict:
    """One organization's source: its last watermark, how late it is, how long it has not moved."""

    org: str
    watermark: datetime | None
    latest_day: date | None
    api_time: datetime
    late_by: timedelta | None  # positive: late
    unchanged_for: timedelta
    problem: str | None  # None: on time

    def metadata(self) -> dict:
        return {
            "watermark": self.watermark.isoformat() if self.watermark else None,
            "latest_ready_day": self.latest_day.isoformat() if self.latest_day else None,
            "api_time": self.api_time.isoformat(),
            "late_by_hours": round(self.late_by.total_seconds() / 3600, 2) if self.late_by else 0,
            "unchanged_hours": round(self.unchanged_for.total_seconds() / 3600, 2),
            "problem": self.problem,
        }


def span(delta: timedelta) -> str:
    """``2 d 3 h`` / ``5 h 10 min`` / ``12 min``: how long, for people."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def judge(
    source: str,
    org: str,
    *,
    watermark: datetime | None,
    latest_day: date | None,
    api_time: datetime,
    timing: SourceTiming,
    seen: Seen | None,
) -> tuple[Verdict, Seen | None]:
    """The verdict on one organization's source now, and what to remember for the next judgement.

    A probe that found no watermark (no data in the days it looks at) keeps the last one seen: the
    source is judged by it, so a source that went quiet grows late rather than looking fresh.
    """
    if watermark is None and seen is not None:
        watermark = seen.watermark
    if watermark is None:
        return Verdict(org, None, latest_day, api_time, None, timedelta(0), None), None
    now_seen = seen if seen is not None and seen.watermark == watermark else Seen(watermark, api_time)
    late_by = api_time - watermark - timing.expected_delay
    unchanged = max(timedelta(0), api_time - now_seen.since)
    problems = []
    where = f"its data stands at {watermark.isoformat()}" + (
        f" (newest ready day {latest_day.isoformat()})" if latest_day else ""
    )
    if unchanged > timing.stall_after:
        problems.append(
            f"has stalled: {where} and has not advanced for {span(unchanged)} (stall_after {span(timing.stall_after)})"
        )
    if late_by > timedelta(0):
        problems.append(
            f"is {span(late_by)} late: {where}, {span(api_time - watermark)} behind the API's clock "
            f"{api_time.isoformat()} (expected_delay {span(timing.expected_delay)})"
        )
    problem = f"{source} of {org} " + "; it ".join(problems) if problems else None
    return (
        Verdict(
            org,
            watermark,
            latest_day,
            api_time,
            late_by if late_by > timedelta(0) else None,
            unchanged,
            problem,
        ),
        now_seen,
    )

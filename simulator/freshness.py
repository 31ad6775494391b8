"""When data becomes visible: completed days, engagement lag, report refreshes and revisions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from simulator.world.profiles import ENTERPRISE_DATA_FLOOR

LOOKBACK_DAYS = 365
AGGREGATION_HOUR = 10  # engagement data for day D is aggregated at 10:00 UTC the next day


def last_completed_day(now: datetime) -> date:
    """The newest UTC day that has fully ended."""
    return now.astimezone(UTC).date() - timedelta(days=1)


def latest_engagement_day(now: datetime, lag_days: int = 1) -> date:
    """Newest day the engagement endpoints serve (day D appears at 10:00 UTC on D + lag_days)."""
    return (
        (now.astimezone(UTC) - timedelta(hours=AGGREGATION_HOUR)).date()
        - timedelta(days=lag_days - 1)
        - timedelta(days=1)
    )


def report_refreshed_at(now: datetime, refresh_hours: int = 4) -> datetime:
    """``data_refreshed_at``: the latest export, on a fixed cadence of ``refresh_hours`` from midnight UTC."""
    now = now.astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(hours=(now.hour // refresh_hours) * refresh_hours)


def lookback_floor(now: datetime) -> datetime:
    """Earliest ``starting_at`` the Enterprise reports accept: 365 days back, never before 2026-01-01."""
    floor = datetime.combine(ENTERPRISE_DATA_FLOOR, datetime.min.time(), tzinfo=UTC)
    return max(floor, now.astimezone(UTC) - timedelta(days=LOOKBACK_DAYS))

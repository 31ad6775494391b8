"""The simulated clock (a fixed instant, real time, or faster) and the UTC day and timestamp helpers."""

from __future__ import annotations

import threading
import time as monotonic_time
from datetime import UTC, date, datetime, time, timedelta


def day_start(d: date) -> datetime:
    """Midnight UTC at the start of ``d``."""
    return datetime.combine(d, time(0), tzinfo=UTC)


def iso(value: datetime) -> str:
    """An instant as the API writes it: RFC 3339 in UTC, to the second (``2026-03-01T00:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant; naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SimClock:
    """``now = anchor + (monotonic elapsed) * speed``.

    ``speed=0`` freezes the clock (the default when an instant is given, so responses are
    reproducible); ``speed=1`` follows real time; ``speed=3600`` runs an hour per second.
    """

    def __init__(self, now: datetime | None = None, speed: float | None = None) -> None:
        self._lock = threading.Lock()
        self._anchor = now or datetime.now(UTC)
        self._anchor_mono = monotonic_time.monotonic()
        self._speed = speed if speed is not None else (0.0 if now is not None else 1.0)

    def now(self) -> datetime:
        with self._lock:
            return self._anchor + timedelta(
                seconds=(monotonic_time.monotonic() - self._anchor_mono) * self._speed
            )

    @property
    def speed(self) -> float:
        return self._speed

    def set(self, now: datetime | None = None, speed: float | None = None) -> None:
        current = self.now()
        with self._lock:
            self._anchor = now or current
            self._anchor_mono = monotonic_time.monotonic()
            if speed is not None:
                if speed < 0:
                    raise ValueError("speed must be >= 0")
                self._speed = speed

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.set(now=self.now() + timedelta(seconds=seconds))

"""Stalled sources: a source of one organization that stops advancing from a given day, with no error.

The real APIs have done this for weeks at a time: requests still succeed, but a source's newest day
(or its export watermark) stays where it was. A stalled source serves what it served at 00:00 UTC on
the stall day: its data clock stops there while the API's own clock (the ``Date`` header, request
validation) goes on. Resuming it lets the data clock catch up with the API's at once.
"""

from __future__ import annotations

import threading
from datetime import date, datetime

from simulator.clock import day_start

#: each stallable source and the paths that serve it
SOURCES: dict[str, tuple[str, ...]] = {
    "console_usage": ("/v1/organizations/usage_report/messages",),
    "console_cost": ("/v1/organizations/cost_report",),
    "claude_code": ("/v1/organizations/usage_report/claude_code",),
    "engagement": (
        "/v1/organizations/analytics/summaries",
        "/v1/organizations/analytics/users",
        "/v1/organizations/analytics/apps/",
        "/v1/organizations/analytics/skills",
        "/v1/organizations/analytics/connectors",
        "/v1/organizations/analytics/artifacts",
        "/v1/organizations/analytics/plugins",
    ),
    "enterprise_reports": (
        "/v1/organizations/analytics/usage_report",
        "/v1/organizations/analytics/cost_report",
        "/v1/organizations/analytics/user_usage_report",
        "/v1/organizations/analytics/user_cost_report",
        "/v1/organizations/analytics/usage",
        "/v1/organizations/analytics/cost",
    ),
}


def source_of(path: str) -> str | None:
    """The stallable source an endpoint path belongs to (None: inventory and the like)."""
    for source, prefixes in SOURCES.items():
        if any(path == p or (p.endswith("/") and path.startswith(p)) for p in prefixes):
            return source
    return None


def parse_stall(text: str) -> tuple[str, str, date]:
    """``SOURCE:ORG:DAY`` (the CLI's ``--stall``) as (source, organization slug, day)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"--stall: expected SOURCE:ORG:YYYY-MM-DD, got {text!r}")
    source, org, day = parts
    check_source(source)
    try:
        return source, org, date.fromisoformat(day)
    except ValueError:
        raise ValueError(f"--stall: {day!r} is not a day (YYYY-MM-DD)") from None


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    return source


class Stalls:
    """The stalled (source, organization) pairs and the day each stalled from; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._from: dict[tuple[str, str], date] = {}

    def stall(self, source: str, org: str, day: date) -> None:
        with self._lock:
            self._from[(check_source(source), org)] = day

    def resume(self, source: str, org: str) -> None:
        with self._lock:
            self._from.pop((check_source(source), org), None)

    def listing(self) -> list[dict]:
        with self._lock:
            return [
                {"source": s, "org": o, "from": d.isoformat()} for (s, o), d in sorted(self._from.items())
            ]

    def data_now(self, now: datetime, org: str, path: str) -> datetime:
        """The instant a source's data stands at: ``now``, or 00:00 UTC of its stall day if earlier."""
        source = source_of(path)
        with self._lock:
            day = self._from.get((source, org)) if source else None
        return now if day is None else min(now, day_start(day))

"""Engagement values revised between days, as the reference documents (B0, B13), deterministically.

- "may be revised by a few percent" (B0): a few per-user counts of ``/analytics/users`` fill in over the
  daily aggregations that follow a day. After the first aggregation (10:00 UTC on D+1) each such value is
  short of its final value by at most ``MISSING[0]`` (4 %), after the second by at most ``MISSING[1]``
  (1.5 %), and from the third (10:00 UTC on D+3) it is final. A value only ever rises towards the final one.
- B13, release notes of 2026-11-23: ``web_search_count`` "was undercounted, fixed for data from
  2026-11-17 (values can rise) ... Earlier days are not recounted". Days before 2026-11-17 keep the
  undercount (about ``WEB_SEARCH_UNDERCOUNT`` of the searches are counted); days from 2026-11-17 show it until the fix
  (``WEB_SEARCH_FIXED_AT``), then the full count.

The final values are those the generator builds (``EngagementData.day``); what the API shows at a clock
is a pure function of the world, its seed, the day and the clock, so the same three give the same answers
and the ground truth at that clock agrees with the routes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from simulator.clock import day_start
from simulator.freshness import AGGREGATION_HOUR
from simulator.ids import np_rng

#: the per-user metrics that are revised ("a few percent"); each stays consistent with the other endpoints
#: (none of them is a sum of /skills, /connectors, /plugins or /artifacts rows)
REVISED = (
    "web_search_count",
    "claude_code_metrics.core_metrics.lines_of_code.added_count",
    "claude_code_metrics.core_metrics.lines_of_code.removed_count",
    "cowork_metrics.action_count",
)
#: the most a revised value is short of its final value after the 1st, 2nd... aggregation following its day
MISSING = (0.04, 0.015)
WEB_SEARCH = "web_search_count"
WEB_SEARCH_FIXED_FROM = date(2026, 11, 17)
WEB_SEARCH_FIXED_AT = datetime(2026, 11, 23, tzinfo=UTC)
WEB_SEARCH_UNDERCOUNT = 0.85  # the share of web searches counted while undercounted


def revision_step(day: date, now: datetime | None) -> int | None:
    """Which of ``MISSING`` applies to ``day`` at ``now`` (None: final, or ``now`` None asks for final values)."""
    if now is None:
        return None
    first = day_start(day) + timedelta(days=1, hours=AGGREGATION_HOUR)
    step = max(0, (now.astimezone(UTC) - first) // timedelta(days=1))
    return step if step < len(MISSING) else None


def web_search_undercounted(day: date, now: datetime | None) -> bool:
    """B13: every day before the fix's first day, and the later ones until the fix was released."""
    return day < WEB_SEARCH_FIXED_FROM or (now is not None and now < WEB_SEARCH_FIXED_AT)


def version(day: date, now: datetime | None) -> tuple:
    """What identifies the values served for ``day`` at ``now`` (for result caches)."""
    return (revision_step(day, now), web_search_undercounted(day, now))


def as_of(users: dict[str, np.ndarray], day: date, now: datetime | None, seed: int, slug: str) -> dict:
    """The day's per-user columns as the API shows them at ``now`` (``now`` None: the final values)."""
    step = revision_step(day, now)
    undercount = web_search_undercounted(day, now)
    if step is None and not undercount:
        return users
    out = dict(users)
    n = users["user"].size
    if step is not None:
        for path in REVISED:
            share = np_rng(seed, slug, "engagement-revision", day.isoformat(), path).random(n)
            missing = np.floor(users[path] * MISSING[step] * share).astype(np.int64)
            out[path] = users[path] - missing
    if undercount:  # rounded up or down at random (fixed per user and day): about the share on average
        jitter = np_rng(seed, slug, "web-search-undercount", day.isoformat()).random(n)
        out[WEB_SEARCH] = np.floor(out[WEB_SEARCH] * WEB_SEARCH_UNDERCOUNT + jitter).astype(np.int64)
    return out

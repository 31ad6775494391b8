"""Ground truth: exact totals straight from the generators, for tests and benchmarks.

Each provider takes ``(sim, org, start, end, params)`` (dates, end exclusive) and returns JSON-able
data with money as decimal strings in USD. Route: ``GET /_simulator/truth?org=&kind=&start=&end=``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from simulator.generators.console import truth as console
from simulator.generators.engagement import truth as engagement
from simulator.generators.reports import minimum
from simulator.generators.reports import truth as reports


def truth_anomalies(sim, org, start: date, end: date, params: dict) -> dict:
    """Every injected anomaly of the organization in [start, end): organization, day, slice kind (api_key for
    Console; user or product for Enterprise), slice and multiplier."""
    kind = console if org.kind == "console" else reports
    return kind.truth_anomalies(sim, org, start, end, params)


PROVIDERS: dict[str, Callable] = {
    "console_cost": console.truth_console_cost,
    "console_usage": console.truth_console_usage,
    "claude_code": console.truth_claude_code,
    "min_requests_console": console.truth_min_requests,
    "enterprise_summaries": engagement.truth_summaries,
    "enterprise_user_activity": engagement.truth_user_activity,
    "min_requests_engagement": engagement.truth_min_requests,
    "enterprise_cost": reports.truth_enterprise_cost,
    "enterprise_usage": reports.truth_enterprise_usage,
    "enterprise_user_cost": reports.truth_enterprise_user_cost,
    "min_requests_reports": minimum.truth_min_requests,
    "anomalies": truth_anomalies,
}


def truth(sim, org_slug: str, kind: str, start: date, end: date, **params):
    """Python entry point: ``truth(sim, "acme-console", "console_cost", date(...), date(...))``."""
    if kind not in PROVIDERS:
        raise KeyError(f"unknown truth kind {kind!r}; known: {', '.join(sorted(PROVIDERS))}")
    return PROVIDERS[kind](sim, sim.world.by_slug(org_slug), start, end, params)

"""Ground truth: exact totals straight from the generators, for tests and benchmarks.

Each provider takes ``(sim, org, start, end, params)`` (dates, end exclusive) and returns JSON-able
data with money as decimal strings in USD. Route: ``GET /_simulator/truth?org=&kind=&start=&end=``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

PROVIDERS: dict[str, Callable] = {}


def provider(kind: str):
    def wrap(fn):
        PROVIDERS[kind] = fn
        return fn

    return wrap


def truth(sim, org_slug: str, kind: str, start: date, end: date, **params):
    """Python entry point: ``truth(sim, "acme-console", "console_cost", date(...), date(...))``."""
    _load_providers()
    if kind not in PROVIDERS:
        raise KeyError(f"unknown truth kind {kind!r}; known: {', '.join(sorted(PROVIDERS))}")
    return PROVIDERS[kind](sim, sim.world.by_slug(org_slug), start, end, params)


def _load_providers() -> None:
    import importlib

    for module in ("simulator.console_data", "simulator.engagement_data", "simulator.report_data"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a family not built yet
            if exc.name != module:
                raise

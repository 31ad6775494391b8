"""Which child slices explain a flagged change, and the top driver: pure arithmetic, no SQL.

A child's part of the change is its actual minus its own baseline's expected value (all of it for a child
with no baseline, e.g. a new API key); its share is that part over the parent's change. The top driver is
the most specific child (an API key, a user, then a workspace, a product, a model) that explains at least
``driver_min_share`` of the change, else the child explaining the most."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date

from claude_assets.config import AnomalySettings
from claude_assets.insights.anomalies.detection import baseline

#: the kinds of slice, most specific first (the order a top driver is looked for in)
SPECIFICITY = ("api_key", "user", "workspace", "product", "model")


@dataclass(frozen=True)
class Driver:
    slice_kind: str
    slice: str
    actual: float
    expected: float
    change: float
    share: float  # of the parent's change

    def as_json(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def drivers(
    children: Mapping[tuple[str, str], Mapping[date, float]],
    day: date,
    change: float,
    settings: AnomalySettings,
) -> list[Driver]:
    """The children (kind, slice) -> series that rose on ``day``, the largest part of the change first, at most
    ``settings.max_drivers`` of each kind."""
    if change <= 0:
        return []
    found: list[Driver] = []
    for (kind, name), series in children.items():
        actual = series.get(day, 0.0)
        base = baseline(series, day, settings)
        expected = base.expected if base else 0.0
        part = actual - expected
        if part > 0:
            found.append(Driver(kind, name, actual, expected, part, part / change))
    found.sort(key=lambda d: (-d.change, d.slice_kind, d.slice))
    kept: list[Driver] = []
    per_kind: dict[str, int] = {}
    for d in found:
        if per_kind.get(d.slice_kind, 0) < settings.max_drivers:
            per_kind[d.slice_kind] = per_kind.get(d.slice_kind, 0) + 1
            kept.append(d)
    return kept


def top_driver(found: list[Driver], settings: AnomalySettings) -> Driver | None:
    """The most specific driver explaining at least ``driver_min_share`` of the change, else the largest."""
    for kind in SPECIFICITY:
        best = max((d for d in found if d.slice_kind == kind), key=lambda d: d.share, default=None)
        if best is not None and best.share >= settings.driver_min_share:
            return best
    return max(found, key=lambda d: d.share, default=None)

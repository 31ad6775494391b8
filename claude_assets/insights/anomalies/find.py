"""From the series of every slice to the anomaly rows: which settled days to judge, each slice's series over
the settled days only, the judgement, the drivers and the one-line explanation. No SQL and no Dagster."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal

import pandas as pd

from claude_assets.config import AnomalySettings
from claude_assets.insights.anomalies.detection import Judgement, baseline, judge
from claude_assets.insights.anomalies.drivers import Driver, drivers, top_driver
from claude_assets.insights.anomalies.series import ALL, COST, TOTAL

Key = tuple[str, str]  # (slice kind, slice)
#: the columns of the anomaly rows, by measure: the unit is in the name
UNITS = {COST: "usd", "tokens": "tokens"}
FIGURES = ("actual", "expected", "lower", "upper", "change")


def anomaly_id(org_id: str, day: date, measure: str, slice_kind: str, slice_: str) -> str:
    """Stable across re-runs: the same organization, day, measure and slice give the same id."""
    text = "|".join((org_id, day.isoformat(), measure, slice_kind, slice_))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Series:
    """The series of one organization's slices over its settled days (0 on a settled day with no row)."""

    def __init__(self, rows: pd.DataFrame, settled: Iterable[date]) -> None:
        self.days = sorted(settled)
        known = set(self.days)
        self.exact: dict[tuple[str, Key, date], Decimal] = {}
        sparse: dict[tuple[str, str | None, str | None], dict[Key, dict[date, float]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for r in rows.itertuples(index=False):
            day = _day(r.usage_date)
            if day not in known:
                continue
            parent_kind = None if pd.isna(r.parent_kind) else r.parent_kind
            parent = None if pd.isna(r.parent) else r.parent
            value = Decimal(r.value)
            sparse[(r.measure, parent_kind, parent)][(r.slice_kind, r.slice)][day] = float(value)
            if parent_kind is None:
                self.exact[(r.measure, (r.slice_kind, r.slice), day)] = value
        self._sparse = sparse

    def slices(self, measure: str, parent: Key | None = None) -> dict[Key, Mapping[date, float]]:
        """Slice -> day -> value on the settled days with rows: the judged slices (no parent), or a parent's
        children."""
        group = self._sparse.get((measure, *(parent or (None, None))), {})
        return dict(group)


def find(
    org_id: str, rows: pd.DataFrame, settled: Iterable[date], days: Iterable[date], settings: AnomalySettings
) -> list[dict]:
    """The anomaly rows of one organization on ``days`` (only the settled ones are judged)."""
    series = Series(rows, settled)
    judged_days = sorted(set(days) & set(series.days))
    out = []
    for measure in UNITS:
        judged = series.slices(measure)
        floors = _floors(judged, series.days, judged_days, measure, settings)
        for key, sparse in sorted(judged.items()):
            full = _dense(sparse, series.days)
            for day in judged_days:
                found = judge(full, day, floors[day], settings)
                if found is None:
                    continue
                children = (
                    {k: _dense(v, series.days) for k, v in judged.items() if k[0] != TOTAL}
                    if key[0] == TOTAL
                    else {k: _dense(v, series.days) for k, v in series.slices(measure, key).items()}
                )
                out.append(
                    _row(
                        org_id,
                        day,
                        measure,
                        key,
                        found,
                        drivers(children, day, found.change, settings),
                        series.exact.get((measure, key, day), Decimal(0)),
                        settings,
                    )
                )
    return out


def _floors(
    judged: dict[Key, Mapping[date, float]],
    days: list[date],
    judged_days: list[date],
    measure: str,
    settings: AnomalySettings,
) -> dict[date, float]:
    """Per judged day, the least rise flagged: the absolute floor, or ``min_total_pct`` percent of the
    organization's expected total that day (at least of its usual working day: a weekend is not a smaller
    organization) when that is more."""
    floor = float(settings.min_usd) if measure == COST else float(settings.min_tokens)
    total = _dense(judged.get((TOTAL, ALL), {}), days)
    out = {}
    for day in judged_days:
        base = baseline(total, day, settings)
        share = max(base.expected, base.typical) * settings.min_total_pct / 100 if base else 0.0
        out[day] = max(floor, share)
    return out


def _dense(sparse: Mapping[date, float], days: list[date]) -> dict[date, float]:
    return {d: sparse.get(d, 0.0) for d in days}


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _row(
    org_id: str,
    day: date,
    measure: str,
    key: Key,
    found: Judgement,
    drivers_: list[Driver],
    actual_exact: Decimal,
    settings: AnomalySettings,
) -> dict:
    unit = UNITS[measure]
    b = found.baseline
    figures = {
        "actual": actual_exact,
        "expected": b.expected,
        "lower": b.lower,
        "upper": b.upper,
        "change": float(actual_exact) - b.expected,
    }
    top = top_driver(drivers_, settings)
    row = {
        "anomaly_id": anomaly_id(org_id, day, measure, *key),
        "org_id": org_id,
        "usage_date": day,
        "measure": measure,
        "slice_kind": key[0],
        "slice": key[1],
        "severity": found.severity,
        **{f"{name}_{u}": None for name in FIGURES for u in UNITS.values()},
        **{f"{name}_{unit}": _amount(v, unit) for name, v in figures.items()},
        "change_pct": round(found.change_pct, 3),
        "same_weekdays": b.same_weekdays,
        "level": round(b.level, 6),
        "drivers": json.dumps([d.as_json() for d in drivers_]),
        "top_driver_kind": top.slice_kind if top else None,
        "top_driver": top.slice if top else None,
        "top_driver_share": round(top.share, 6) if top else None,
    }
    row["explanation"] = explain(row, unit, top)
    return row


def _amount(value: Decimal | float, unit: str) -> str | int:
    if unit == "tokens":
        return round(value)
    if isinstance(value, Decimal):
        return str(value)
    return str(Decimal(str(round(value, 6))))


def _show(value: str | int, unit: str) -> str:
    if unit == "tokens":
        return f"{int(value):,} tokens"
    return f"${Decimal(value):,.2f}"


def explain(row: dict, unit: str, top: Driver | None) -> str:
    """One line a person can read: what, when, how far above the usual, and the top driver."""
    what = "cost" if unit == "usd" else "tokens"
    where = (
        f"{row['org_id']} total"
        if row["slice_kind"] == TOTAL
        else f"{row['org_id']} {row['slice_kind']} {row['slice']}"
    )
    pct = f"+{row['change_pct']:.0f}%"
    line = (
        f"{where} {what} {_show(row[f'actual_{unit}'], unit)} on {row['usage_date']:%a %Y-%m-%d}, expected "
        f"{_show(row[f'expected_{unit}'], unit)} (usual up to {_show(row[f'upper_{unit}'], unit)}), {pct}"
    )
    if top is None:
        return line + "; no child slice rose"
    return line + f"; top driver {top.slice_kind} {top.slice} ({top.share:.0%} of the change)"

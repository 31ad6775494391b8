"""The budget status of each day of a run, and the first crossings it implies, written in one transaction.

A day ``D`` is judged by the budget version in effect on ``D``: its period is the month or quarter holding
``D``; spend to date is the scope's billed spend from the period's first day through ``D`` (every day the
facts hold, settled or not: the part on unsettled (organization, day) pairs is its own column); the forecast
is ``budgets.forecast``. Only rows of the facts dated up to ``D`` are read, so a re-run of ``D`` gives the
same row whatever was loaded since.

``first_crossed_*_on`` of a status row is the earliest day of its period, up to its own day, whose row
crossed the threshold; ``insights.budget_crossings`` holds one row per (budget, period, threshold, basis)
crossed on any day, taken from the earliest such status row. Both are recomputed from the status table as
a whole inside the same transaction as the days rewritten, so a day re-run with the same facts changes
nothing, and a day filled in later (a backfill of earlier days) moves a first crossing to the day it truly
happened.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from contextlib import suppress
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import duckdb
import pandas as pd

from claude_assets.facts.allocation import ALLOCATION_INPUTS
from claude_assets.facts.cost import COST_INPUTS
from claude_assets.insights.budgets import forecast as fc
from claude_assets.insights.budgets.file import Budget, BudgetVersion
from claude_assets.insights.budgets.periods import days, period_bounds
from claude_assets.insights.budgets.spend import daily_spend, first_day, source_of
from claude_assets.insights.budgets.tables import BUDGET_CROSSINGS, BUDGET_STATUS
from claude_assets.insights.settled import settled_days
from claude_assets.warehouse.contract import MONEY, Table
from claude_assets.warehouse.sql import in_day_ranges
from claude_assets.warehouse.writes import ensure, transaction

_USD = Decimal("1e-12")
BASES = ("actual", "forecast")


def status_frame(
    con: duckdb.DuckDBPyConnection, budgets: Iterable[Budget], ranges: Sequence[tuple[date, date]]
) -> tuple[pd.DataFrame, dict[str, list[date]]]:
    """The status rows of every budget for the days of ``ranges`` (each ``[start, end)``), and the unsettled
    (organization, day) pairs their spend includes."""
    judged = [d for start, end in ranges for d in days(start, end - timedelta(days=1))]
    rows: list[dict] = []
    unsettled: dict[str, set[date]] = {}
    for budget in budgets:
        by_version: dict[BudgetVersion, list[date]] = {}
        for d in judged:
            version = budget.in_effect(d)
            if version is not None:
                by_version.setdefault(version, []).append(d)
        for version, ds in by_version.items():
            rows += _version_rows(con, budget.name, version, ds, unsettled)
    frame = pd.DataFrame(rows, columns=BUDGET_STATUS.column_names)
    return frame, {org: sorted(ds) for org, ds in sorted(unsettled.items())}


def _version_rows(
    con: duckdb.DuckDBPyConnection,
    name: str,
    version: BudgetVersion,
    judged: list[date],
    unsettled_seen: dict[str, set[date]],
) -> list[dict]:
    span_start = min(
        min(period_bounds(version.period, d)[0] for d in judged),
        min(judged) - timedelta(days=fc.HISTORY_DAYS - 1),
    )
    span_end = max(judged)
    spend = daily_spend(con, version, span_start, span_end)
    inputs = COST_INPUTS + (ALLOCATION_INPUTS if version.allocated else ())
    settled = settled_days(con, inputs, span_start, span_end + timedelta(days=1))
    by_day: dict[date, Decimal] = {}
    for (_, d), usd in spend.items():
        by_day[d] = by_day.get(d, Decimal(0)) + usd
    first = first_day(con, version) or span_start
    out = []
    for d in judged:
        start, end = period_bounds(version.period, d)
        to_date = sum((usd for day, usd in by_day.items() if start <= day <= d), Decimal(0))
        open_pairs = [
            (org, day, usd)
            for (org, day), usd in spend.items()
            if start <= day <= d and day not in settled.get(org, set())
        ]
        for org, day, _ in open_pairs:
            unsettled_seen.setdefault(org, set()).add(day)
        f = fc.forecast(by_day, to_date, d, end, first)
        common = {
            "budget": name,
            "usage_date": d,
            "version_effective_from": version.effective_from,
            "scope": version.scope_label(),
            "spend_source": source_of(version),
            "period": version.period,
            "period_start": start,
            "period_end": end,
            "days_elapsed": (d - start).days + 1,
            "days_in_period": (end - start).days + 1,
            "amount_usd": version.amount_usd,
            "day_spend_usd": by_day.get(d, Decimal(0)),
            "spend_to_date_usd": to_date,
            "unsettled_spend_usd": sum((usd for _, _, usd in open_pairs), Decimal(0)),
            "unsettled_days": len({day for _, day, _ in open_pairs}),
            "forecast_usd": f.expected_usd,
            "forecast_low_usd": f.low_usd,
            "forecast_high_usd": f.high_usd,
            "forecast_method": f.method,
            "first_crossed_actual_on": None,
            "first_crossed_forecast_on": None,
        }
        for pct in version.thresholds_pct:
            threshold = threshold_usd(version.amount_usd, pct)
            out.append(
                {
                    **common,
                    "threshold_pct": pct,
                    "threshold_usd": threshold,
                    "crossed_actual": to_date >= threshold,
                    "crossed_forecast": f.expected_usd >= threshold,
                }
            )
    return out


def threshold_usd(amount: Decimal, pct: Decimal) -> Decimal:
    return (amount * pct / 100).quantize(_USD, rounding=ROUND_HALF_EVEN)


def write(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    ranges: Sequence[tuple[date, date]],
    validate_status,
    validate_crossings,
) -> tuple[int, int]:
    """Make the days of ``ranges`` of ``insights.budget_status`` equal to ``frame``, recompute the first
    crossings, and rebuild ``insights.budget_crossings``, in one transaction. ``validate_*`` raise on a frame
    that breaks its pandera schema: the status frame is checked before anything is written, the crossings
    inside the transaction (a failure rolls everything back)."""
    validate_status(_staged(BUDGET_STATUS, frame))
    ensure(con, BUDGET_STATUS)
    ensure(con, BUDGET_CROSSINGS)
    where, params = in_day_ranges(ranges)
    with transaction(con):
        con.execute(f"DELETE FROM {BUDGET_STATUS.qualified} WHERE {where}", params)
        _insert(con, BUDGET_STATUS, frame)
        _first_crossings(con)
        crossings = crossings_frame(con)
        validate_crossings(_staged(BUDGET_CROSSINGS, crossings))
        con.execute(f"DELETE FROM {BUDGET_CROSSINGS.qualified}")
        _insert(con, BUDGET_CROSSINGS, crossings)
    return len(frame), len(crossings)


def _first_crossings(con: duckdb.DuckDBPyConnection) -> None:
    """Set first_crossed_*_on of every status row from the rows of its period up to its day (the table is
    rewritten from a copy: small, and DuckDB's UPDATE of rows inserted in the same transaction is fragile)."""
    first = (
        "min(CASE WHEN {flag} THEN usage_date END) OVER (PARTITION BY budget, period, period_start, "
        "threshold_pct ORDER BY usage_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _budget_status AS
            SELECT * REPLACE ({first.format(flag="crossed_actual")} AS first_crossed_actual_on,
                              {first.format(flag="crossed_forecast")} AS first_crossed_forecast_on)
            FROM {BUDGET_STATUS.qualified}"""
    )
    try:
        con.execute(f"DELETE FROM {BUDGET_STATUS.qualified}")
        con.execute(f"INSERT INTO {BUDGET_STATUS.qualified} SELECT * FROM _budget_status")
    finally:
        with suppress(duckdb.Error):  # an aborted transaction refuses it; the original error matters
            con.execute("DROP TABLE IF EXISTS _budget_status")


def crossings_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per (budget, period, threshold, basis) crossed on some day: the figures of the first day."""
    rows = []
    for basis in BASES:
        found = con.execute(
            f"""SELECT budget, scope, period, period_start, period_end, threshold_pct, usage_date, amount_usd,
                       threshold_usd, spend_to_date_usd, forecast_usd, forecast_low_usd, forecast_high_usd,
                       unsettled_spend_usd
                FROM {BUDGET_STATUS.qualified} WHERE crossed_{basis}
                QUALIFY row_number() OVER (PARTITION BY budget, period_start, threshold_pct ORDER BY usage_date) = 1
                ORDER BY budget, period_start, threshold_pct"""
        ).fetchall()
        for r in found:
            (
                budget,
                scope,
                period,
                start,
                end,
                pct,
                day,
                amount,
                threshold,
                spent,
                expected,
                low,
                high,
                open_,
            ) = r
            rows.append(
                {
                    "crossing_id": crossing_id(budget, start, pct, basis),
                    "budget": budget,
                    "scope": scope,
                    "period": period,
                    "period_start": start,
                    "period_end": end,
                    "threshold_pct": pct,
                    "basis": basis,
                    "first_crossed_on": day,
                    "amount_usd": amount,
                    "threshold_usd": threshold,
                    "spend_to_date_usd": spent,
                    "forecast_usd": expected,
                    "unsettled_spend_usd": open_,
                    "explanation": explanation(
                        budget, period, start, end, pct, basis, day, amount, spent, expected, low, high, open_
                    ),
                }
            )
    return pd.DataFrame(rows, columns=BUDGET_CROSSINGS.column_names)


def crossing_id(budget: str, period_start: date, threshold_pct: Decimal, basis: str) -> str:
    """Stable across re-runs: a hash of the budget's name, the period's first day, the threshold (normalized,
    so 80 and 80.000000 are one threshold) and the basis."""
    pct = format(Decimal(threshold_pct).normalize(), "f")
    return hashlib.sha256(f"{budget}|{period_start.isoformat()}|{pct}|{basis}".encode()).hexdigest()[:32]


def explanation(
    budget, period, start, end, pct, basis, day, amount, spent, expected, low, high, unsettled
) -> str:
    pct_text = format(Decimal(pct).normalize(), "f")
    where = f"{period} {start}..{end}"
    open_text = f", {_money(unsettled)} of it not yet settled" if unsettled else ""
    if basis == "actual":
        return (
            f"{budget}: spend to date {_money(spent)} reached {pct_text}% of the {_money(amount)} budget "
            f"({where}) on {day}{open_text}."
        )
    return (
        f"{budget}: forecast {_money(expected)} (80% interval {_money(low)}-{_money(high)}) for the {where} "
        f"reaches {pct_text}% of the {_money(amount)} budget, as of {day} (spend to date {_money(spent)}{open_text})."
    )


def _money(value: Decimal) -> str:
    return f"${Decimal(value):,.2f}"


def _staged(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as stored values read back (money as exact strings), for the pandera schema."""
    out = frame.copy()
    for c in table.columns:
        if c.type == MONEY or c.type.startswith("DECIMAL") or c.type == "DATE":
            out[c.name] = out[c.name].map(_text)
    return out


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _insert(con: duckdb.DuckDBPyConnection, table: Table, frame: pd.DataFrame) -> None:
    if not len(frame):
        return
    staged = _staged(table, frame)[table.column_names].astype(object)
    select = ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in table.columns)
    con.register("_budget_rows", staged)
    try:
        con.execute(f"INSERT INTO {table.qualified} SELECT {select} FROM _budget_rows")
    finally:
        con.unregister("_budget_rows")

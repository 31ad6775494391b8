"""The budgets part of the summary ``make demo`` prints: each budget's status on the last day judged (spend to
date and how much of it is not yet settled, the forecast to period end with its interval, the thresholds
crossed on actual and on forecast and the day each first was), and the crossings of the current periods.

Every figure is an exact DuckDB DECIMAL, shown to the cent."""

from __future__ import annotations

from datetime import date

import duckdb
from rich.console import RenderableType
from rich.text import Text

from demo.tables import has_table, table, usd

STATUS, CROSSINGS = "insights.budget_status", "insights.budget_crossings"


def _pct(value) -> str:
    return f"{value.normalize():f}%"


def budget_status(con: duckdb.DuckDBPyConnection) -> list[RenderableType]:
    """The budget tables as rich renderables (a note when they are not built yet)."""
    if not has_table(con, STATUS):
        return [Text("insights.budget_status: not built (no budgets_file, or the asset has not run)")]
    last = con.execute(f"SELECT max(usage_date) FROM {STATUS}").fetchone()[0]
    if last is None:
        return [Text("insights.budget_status: no budget in effect on the days judged")]
    return [_status(con, last), _crossings(con, last)]


def _status(con: duckdb.DuckDBPyConnection, day: date) -> RenderableType:
    shown = table(
        f"insights.budget_status on {day}: spend to date (the part not yet settled), forecast to period end "
        "(80 % interval), thresholds crossed and the day each first was",
        "budget",
        "scope",
        "period",
        "budget (USD)>",
        "spend to date>",
        "not settled>",
        "forecast (80 % interval)>",
        "crossed on actual",
        "crossed on forecast",
    )
    rows = con.execute(
        f"""SELECT budget, any_value(scope), any_value(period), any_value(period_start), any_value(period_end),
                   any_value(amount_usd), any_value(spend_to_date_usd), any_value(unsettled_spend_usd),
                   any_value(forecast_usd), any_value(forecast_low_usd), any_value(forecast_high_usd),
                   list(threshold_pct ORDER BY threshold_pct) FILTER (WHERE crossed_actual),
                   list(first_crossed_actual_on ORDER BY threshold_pct) FILTER (WHERE crossed_actual),
                   list(threshold_pct ORDER BY threshold_pct) FILTER (WHERE crossed_forecast),
                   list(first_crossed_forecast_on ORDER BY threshold_pct) FILTER (WHERE crossed_forecast)
            FROM {STATUS} WHERE usage_date = ? GROUP BY budget ORDER BY budget""",
        [day],
    ).fetchall()
    for b, scope, period, start, end, amount, spent, open_, mid, low, high, pa, da, pf, df in rows:
        shown.add_row(
            b,
            scope,
            f"{period} {start} → {end}",
            usd(amount),
            f"{usd(spent)} ({spent / amount:.0%})",
            usd(open_) if open_ else "—",
            f"{usd(mid)} ({usd(low)} to {usd(high)})",
            _crossed(pa, da),
            _crossed(pf, df),
        )
    return shown


def _crossed(pcts, days) -> str:
    return ", ".join(f"{_pct(p)} on {d}" for p, d in zip(pcts or [], days or [], strict=True)) or "—"


def _crossings(con: duckdb.DuckDBPyConnection, day: date) -> RenderableType:
    shown = table(
        f"insights.budget_crossings of the periods holding {day} (one alert each, by crossing_id)",
        "first crossed",
        "basis",
        "crossing",
        "explanation",
    )
    rows = con.execute(
        f"""SELECT first_crossed_on, basis, crossing_id, explanation FROM {CROSSINGS}
            WHERE period_start <= ? AND period_end >= ? ORDER BY first_crossed_on, budget, basis, threshold_pct""",
        [day, day],
    ).fetchall()
    for first, basis, cid, text in rows:
        shown.add_row(str(first), basis, cid[:8], text)
    return shown


def main() -> None:  # pragma: no cover - for a look at a warehouse by hand
    import sys

    from rich.console import Console

    with duckdb.connect(sys.argv[1], read_only=True) as con:
        for part in budget_status(con):
            Console(width=220).print(part)


if __name__ == "__main__":  # pragma: no cover
    main()

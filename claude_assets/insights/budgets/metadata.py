"""What a budget materialization reports: each budget's figures on the run's last day (to the cent, exact and
to plot), the days whose spend is not yet settled, and the crossings first crossed on the run's days (the
asset names them as the run's, ``figures.as_run``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from claude_assets.insights.budgets.file import Budget
from claude_assets.insights.budgets.tables import BUDGET_CROSSINGS, BUDGET_STATUS
from claude_assets.warehouse import figures
from claude_assets.warehouse.sql import in_day_ranges


def _window(ranges: Sequence[tuple[date, date]]) -> dg.MetadataValue:
    return dg.MetadataValue.md(
        "\n".join(f"- {s} → {e - timedelta(days=1)} ({(e - s).days} d)" for s, e in ranges) or "(no days)"
    )


def status_metadata(
    con: duckdb.DuckDBPyConnection,
    ranges: Sequence[tuple[date, date]],
    budgets: Sequence[Budget],
    unsettled: dict[str, list[date]],
    budgets_file: Path | None,
) -> dict:
    where, params = in_day_ranges(ranges)
    rows = con.execute(f"SELECT count(*) FROM {BUDGET_STATUS.qualified} WHERE {where}", params).fetchone()[0]
    meta: dict = {
        "dagster/row_count": rows,
        "window": _window(ranges),
        "budgets_file": str(budgets_file) if budgets_file else "(none configured: no budgets)",
        "budgets": len(budgets),
        "waiting_to_settle": dg.MetadataValue.md(
            "\n".join(
                f"- `{org}`: {len(ds)} day(s), {ds[0]} → {ds[-1]} (counted in spend to date, not final)"
                for org, ds in unsettled.items()
            )
            or "none: every day counted is settled"
        ),
    }
    last = con.execute(
        f"""WITH last AS (
                SELECT budget, max(usage_date) AS usage_date FROM {BUDGET_STATUS.qualified} WHERE {where}
                GROUP BY budget)
            SELECT budget, usage_date, period, period_start, period_end, amount_usd, spend_to_date_usd,
                   unsettled_spend_usd, forecast_usd, forecast_low_usd, forecast_high_usd,
                   string_agg(CASE WHEN crossed_actual THEN CAST(threshold_pct AS DOUBLE)::VARCHAR END, ', '
                              ORDER BY threshold_pct),
                   string_agg(CASE WHEN crossed_forecast THEN CAST(threshold_pct AS DOUBLE)::VARCHAR END, ', '
                              ORDER BY threshold_pct)
            FROM {BUDGET_STATUS.qualified} JOIN last USING (budget, usage_date)
            GROUP BY ALL ORDER BY budget""",
        params,
    ).fetchall()
    lines = [
        "| budget | day | period | budget (USD) | spend to date | not settled | forecast (80 % interval) | "
        "crossed (actual) | crossed (forecast) |",
        "|---|---|---|---:|---:|---:|---|---|---|",
    ]
    for b, day, period, start, end, amount, spent, open_, mid, low, high, actual, forecast in last:
        lines.append(
            f"| {b} | {day} | {period} {start}..{end} | {amount:,.2f} | {spent:,.2f} | {open_:,.2f} | "
            f"{mid:,.2f} ({low:,.2f}-{high:,.2f}) | {actual or '-'} | {forecast or '-'} |"
        )
        meta.update(figures.money(f"{b} spend_to_date_usd", spent))
        meta.update(figures.money(f"{b} forecast_usd", mid))
        meta.update(figures.money(f"{b} unsettled_spend_usd", open_))
    silent = con.execute(
        f"SELECT budget FROM {BUDGET_STATUS.qualified} WHERE {where} GROUP BY budget "
        "HAVING max(spend_to_date_usd) = 0 ORDER BY budget",
        params,
    ).fetchall()
    # a scope that matches nothing is most often a misspelt id, or a product (billed lines carry none)
    meta["budgets_with_no_spend"] = ", ".join(b for (b,) in silent) or "none"
    meta["status_on_last_day"] = dg.MetadataValue.md("\n".join(lines) if last else "(no budget in effect)")
    return meta


def crossings_metadata(con: duckdb.DuckDBPyConnection, ranges: Sequence[tuple[date, date]]) -> dict:
    where, params = in_day_ranges(ranges, column="first_crossed_on")
    new = con.execute(
        f"SELECT crossing_id, first_crossed_on, explanation FROM {BUDGET_CROSSINGS.qualified} WHERE {where} "
        "ORDER BY first_crossed_on, budget, basis, threshold_pct",
        params,
    ).fetchall()
    return {
        "first_crossed_in_window": len(new),
        "crossings": dg.MetadataValue.md(
            "\n".join(f"- {day} `{cid[:8]}` {text}" for cid, day, text in new[:30]) or "none in these days"
        ),
    }

"""The alerts, read from the insights tables and written as Slack-compatible messages.

A message is ``{"text": ..., "blocks": [...]}``: ``text`` is the whole alert in one line (what a
notification or a receiver that ignores blocks shows), the blocks say it with a link to the asset and
partition in the Dagster UI. Only the columns of the tables' contract are read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import quote

import dagster as dg
import duckdb

from claude_assets.insights.alerts.tables import ANOMALIES, ANOMALIES_ASSET, BUDGET_STATUS_ASSET, CROSSINGS
from claude_assets.warehouse.sql import table_exists

#: Slack's limit on a section block's text
SECTION_LIMIT = 3000


@dataclass(frozen=True)
class Alert:
    key: str  # anomaly:<anomaly_id> or budget_crossing:<crossing_id>
    kind: str
    day: date
    payload: dict


def asset_link(ui_base_url: str, key: dg.AssetKey, partition: str) -> str:
    """The asset's partition in the Dagster UI."""
    path = "/".join(quote(p, safe="") for p in key.path)
    return f"{ui_base_url}/assets/{path}?view=partitions&partition={quote(partition, safe='')}"


def new_alerts(con: duckdb.DuckDBPyConnection, start: date, end: date, ui_base_url: str) -> list[Alert]:
    """The anomalies of the days ``[start, end)`` and the thresholds first crossed on them, as alerts
    (none from a table not written yet)."""
    return [*_anomalies(con, start, end, ui_base_url), *_crossings(con, start, end, ui_base_url)]


def _anomalies(con: duckdb.DuckDBPyConnection, start: date, end: date, ui: str) -> list[Alert]:
    if not table_exists(con, ANOMALIES):
        return []
    rows = con.execute(
        "SELECT anomaly_id, org_id, usage_date, measure, slice_kind, slice, severity, explanation "
        f"FROM {ANOMALIES} WHERE usage_date >= ? AND usage_date < ? ORDER BY usage_date, anomaly_id",
        [start, end],
    ).fetchall()
    out = []
    for anomaly_id, org, day, measure, slice_kind, slice_, severity, explanation in rows:
        where = "organization total" if slice_kind == "total" else f"{slice_kind} {slice_}"
        headline = f"{str(severity).capitalize()} {_measure(measure)} anomaly: {org}, {where}, {day}"
        link = asset_link(ui, ANOMALIES_ASSET, day.isoformat())
        out.append(
            Alert(
                f"anomaly:{anomaly_id}",
                "anomaly",
                day,
                message(
                    headline, explanation or "", link, "insights.cost_anomalies", f"anomaly_id {anomaly_id}"
                ),
            )
        )
    return out


def _crossings(con: duckdb.DuckDBPyConnection, start: date, end: date, ui: str) -> list[Alert]:
    if not table_exists(con, CROSSINGS):
        return []
    rows = con.execute(
        "SELECT crossing_id, budget, period_start, period_end, threshold_pct, basis, first_crossed_on, "
        f"amount_usd, explanation FROM {CROSSINGS} WHERE first_crossed_on >= ? AND first_crossed_on < ? "
        "ORDER BY first_crossed_on, crossing_id",
        [start, end],
    ).fetchall()
    out = []
    for crossing_id, budget, p_start, p_end, pct, basis, day, amount, explanation in rows:
        on = "on forecast" if basis == "forecast" else "on actual spend"
        headline = (
            f"Budget {budget}: {_pct(pct)}% crossed {on} on {day} "
            f"(budget {_usd(amount)}, period {p_start} to {p_end})"
        )
        link = asset_link(ui, BUDGET_STATUS_ASSET, day.isoformat())
        out.append(
            Alert(
                f"budget_crossing:{crossing_id}",
                "budget_crossing",
                day,
                message(
                    headline, explanation or "", link, "insights.budget_status", f"crossing_id {crossing_id}"
                ),
            )
        )
    return out


def message(headline: str, explanation: str, link: str, asset: str, ident: str) -> dict:
    """A Slack-compatible message: one-line ``text`` and blocks (section, link, context)."""
    text = escape(f"{headline}. {explanation}" if explanation else headline)
    body = f"*{escape(headline)}*" + (f"\n{escape(explanation)}" if explanation else "")
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": body[:SECTION_LIMIT]}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"<{link}|Open {escape(asset)} in Dagster>"},
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(ident)}]},
        ],
    }


def escape(text: str) -> str:
    """Slack's mrkdwn escapes: &, < and > (they delimit links and mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _measure(measure: str) -> str:
    return {"cost_usd": "cost", "tokens": "token usage"}.get(measure, measure)


def _pct(value: Decimal | float | int) -> str:
    d = Decimal(str(value)).normalize()
    return format(d, "f")


def _usd(value: Decimal | None) -> str:
    if value is None:
        return "no amount"
    return f"${Decimal(value):,.2f}"

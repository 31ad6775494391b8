"""The demo's anomaly summary: the anomalies found per organization with their top driver, or why none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
from rich.console import Console

from claude_assets.config import AnomalySettings
from claude_assets.insights.anomalies import store
from claude_assets.insights.anomalies.detection import Baseline, Judgement
from claude_assets.insights.anomalies.drivers import Driver
from claude_assets.insights.anomalies.find import _row
from demo.anomaly_summary import anomaly_summary


def _text(con) -> str:
    out = Console(width=250, record=True)
    for renderable in anomaly_summary(con):
        out.print(renderable)
    return out.export_text()


def test_without_the_table_it_says_nothing_was_judged():
    assert "not materialized" in _text(duckdb.connect())


def test_it_shows_each_anomaly_with_actual_expected_and_top_driver():
    settings = AnomalySettings()
    found = Judgement(400.0, Baseline(100.0, 50.0, 160.0, 6, 1.0), 300.0, 300.0, "high")
    driver = Driver("api_key", "apikey_runaway", 350.0, 60.0, 290.0, 290 / 300)
    row = _row(
        "acme", date(2026, 5, 6), "cost_usd", ("total", "all"), found, [driver], Decimal("400.00"), settings
    )
    con = duckdb.connect()
    store.write(con, date(2026, 5, 6), date(2026, 5, 7), store.to_frame([row]))
    text = _text(con)
    assert "acme" in text and "2026-05-06" in text and "$400.00" in text and "$100.00" in text
    assert "api_key apikey_runaway (97%)" in text and "+300%" in text

"""The anomalies part of the summary ``make demo`` prints: the anomalies insights.cost_anomalies found, per
organization, with severity, actual against expected and the top driver, and the days still waiting to settle.

``anomaly_summary(con)`` takes a read-only connection and returns rich renderables (nothing is printed here)."""

from __future__ import annotations

from decimal import Decimal

import duckdb
from rich.console import RenderableType
from rich.text import Text

from demo.tables import has_table, table, usd

TABLE = "insights.cost_anomalies"
#: the most anomalies shown per organization (highest severity, then most recent first)
TOP = 10


def _figure(measure: str, value) -> str:
    if value is None:
        return "—"
    return usd(Decimal(value)) if measure == "cost_usd" else f"{int(value):,} tok"


def anomaly_summary(con: duckdb.DuckDBPyConnection) -> list[RenderableType]:
    """A table of the anomalies found (at most ``TOP`` per organization), or a line saying why there is none."""
    if not has_table(con, TABLE):
        return [Text(f"{TABLE}: not materialized yet (no anomalies judged)")]
    rows = con.execute(
        f"""
        SELECT org_id, usage_date, measure, slice_kind, slice, severity,
               coalesce(CAST(actual_usd AS VARCHAR), CAST(actual_tokens AS VARCHAR)),
               coalesce(CAST(expected_usd AS VARCHAR), CAST(expected_tokens AS VARCHAR)),
               change_pct, top_driver_kind, top_driver, top_driver_share
        FROM (SELECT *, row_number() OVER (PARTITION BY org_id ORDER BY
                  CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, usage_date DESC,
                  measure, slice_kind, slice) AS n
              FROM {TABLE})
        WHERE n <= ? ORDER BY org_id, usage_date DESC, measure, slice_kind, slice""",
        [TOP],
    ).fetchall()
    counts = con.execute(
        f"SELECT org_id, count(*), min(usage_date), max(usage_date) FROM {TABLE} GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    if not rows:
        return [Text(f"{TABLE}: no anomalies on the settled days judged")]
    shown = table(
        f"{TABLE}: anomalies found ({', '.join(f'{o}: {n}' for o, n, _, _ in counts)}; "
        f"up to {TOP} per organization, most severe first)",
        "organization",
        "day",
        "measure",
        "slice",
        "severity",
        "actual>",
        "expected>",
        "change>",
        "top driver",
    )
    for i, (
        org,
        day,
        measure,
        kind,
        name,
        severity,
        actual,
        expected,
        pct,
        dkind,
        driver,
        share,
    ) in enumerate(rows):
        if i and rows[i - 1][0] != org:
            shown.add_section()
        shown.add_row(
            org,
            str(day),
            measure,
            "total" if kind == "total" else f"{kind} {name}",
            severity,
            _figure(measure, actual),
            _figure(measure, expected),
            f"+{pct:.0f}%",
            f"{dkind} {driver} ({share:.0%})" if driver else "—",
        )
    return [shown]

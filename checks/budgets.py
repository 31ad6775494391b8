"""Checks of insights.budget_status and insights.budget_crossings: pandera schemas of the rows (money read as
exact strings), and the asset checks over what a run wrote.

A status row must be a coherent verdict (unsettled spend within spend to date, the forecast inside its
interval and never below spend to date, the threshold the right share of the budget); a crossing must be
the earliest status row of its period that crossed, under the id its key hashes to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa

from checks import schemas as sc
from checks.markdown import failing_rows, schema_failures
from checks.window import SchemaViolation, validate
from claude_assets.warehouse.contract import MONEY, Table
from claude_assets.warehouse.sql import in_day_ranges
from claude_assets.warehouse.writes import duplicate_grain_count

SCHEMA, GRAIN, FIRST_CROSSINGS = "schema", "grain_unique", "first_crossings_match_status"


def _dec(v: object) -> Decimal | None:
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else Decimal(str(v))


def _rows(test):
    def check(frame: pd.DataFrame) -> pd.Series:
        return frame.apply(lambda r: bool(test(r)), axis=1) if len(frame) else pd.Series([], dtype=bool)

    return check


def _status_coherent(r) -> bool:
    spent, open_ = _dec(r["spend_to_date_usd"]), _dec(r["unsettled_spend_usd"])
    low, mid, high = _dec(r["forecast_low_usd"]), _dec(r["forecast_usd"]), _dec(r["forecast_high_usd"])
    return open_ <= spent and spent <= low <= mid <= high


def _threshold_right(r) -> bool:
    wanted = (_dec(r["amount_usd"]) * _dec(r["threshold_pct"]) / 100).quantize(Decimal("1e-12"))
    return _dec(r["threshold_usd"]) == wanted


def _crossed_right(r) -> bool:
    threshold = _dec(r["threshold_usd"])
    return bool(r["crossed_actual"]) == (_dec(r["spend_to_date_usd"]) >= threshold) and bool(
        r["crossed_forecast"]
    ) == (_dec(r["forecast_usd"]) >= threshold)


def _in_period(r) -> bool:
    return str(r["period_start"]) <= str(r["usage_date"]) <= str(r["period_end"])


_MONEY_CHECKS = [sc.NON_NEGATIVE_DECIMAL]
_PERIOD = [pa.Check.isin(["month", "quarter"], error="period must be month or quarter")]
_PCT = [
    pa.Check(
        lambda s: s.map(lambda v: _dec(v) is not None and _dec(v) > 0), error="must be a positive percentage"
    )
]


def _with_checks(schema: pa.DataFrameSchema, checks: list[pa.Check]) -> pa.DataFrameSchema:
    """``schema`` with dataframe-wide checks (row by row) added."""
    return pa.DataFrameSchema(schema.columns, checks=checks, strict=schema.strict, name=schema.name)


def status_schema(table: Table) -> pa.DataFrameSchema:
    money = {c.name: _MONEY_CHECKS for c in table.columns if c.type == MONEY}
    base = sc.staged_schema(table, {**money, "period": _PERIOD, "threshold_pct": _PCT})
    return _with_checks(
        base,
        [
            pa.Check(
                _rows(_status_coherent),
                error="unsettled <= spend to date <= forecast low <= forecast <= high",
            ),
            pa.Check(_rows(_threshold_right), error="threshold_usd = amount_usd x threshold_pct / 100"),
            pa.Check(_rows(_crossed_right), error="crossed_* agree with spend to date and forecast"),
            pa.Check(_rows(_in_period), error="usage_date inside its period"),
        ],
    )


def crossings_schema(table: Table) -> pa.DataFrameSchema:
    money = {c.name: _MONEY_CHECKS for c in table.columns if c.type == MONEY}
    base = sc.staged_schema(
        table,
        {
            **money,
            "period": _PERIOD,
            "threshold_pct": _PCT,
            "basis": [pa.Check.isin(["actual", "forecast"], error="basis must be actual or forecast")],
            "crossing_id": [pa.Check.str_matches(r"^[0-9a-f]{32}$", error="crossing_id is a 32-hex hash")],
        },
    )
    return _with_checks(
        base,
        [
            pa.Check(
                _rows(lambda r: str(r["period_start"]) <= str(r["first_crossed_on"]) <= str(r["period_end"])),
                error="first_crossed_on inside its period",
            ),
            pa.Check(
                lambda f: ~f["crossing_id"].duplicated(keep=False) if len(f) else pd.Series([], dtype=bool),
                error="one row per crossing_id",
            ),
        ],
    )


def status_specs(table: Table) -> list[dg.AssetCheckSpec]:
    key = table.asset_key
    return [
        dg.AssetCheckSpec(
            SCHEMA,
            asset=key,
            blocking=True,
            description="Pandera schema of the status rows of the run's days: exact non-negative USD, unsettled "
            "spend within spend to date, the forecast inside its interval and never below spend to date, "
            "thresholds the right share of the budget, crossings agreeing with the figures. The rows are "
            "validated before the write too: a failure writes nothing.",
        ),
        dg.AssetCheckSpec(
            GRAIN,
            asset=key,
            blocking=True,
            description="One row per budget, day and threshold in the run's days.",
        ),
    ]


def crossings_specs(table: Table) -> list[dg.AssetCheckSpec]:
    key = table.asset_key
    return [
        dg.AssetCheckSpec(
            SCHEMA,
            asset=key,
            blocking=True,
            description="Pandera schema of every crossing: one row per crossing_id, first_crossed_on inside its "
            "period, exact non-negative USD.",
        ),
        dg.AssetCheckSpec(
            FIRST_CROSSINGS,
            asset=key,
            blocking=True,
            description="Each crossing is the earliest status row of its budget, period and threshold that crossed "
            "on its basis, and every such status row has its crossing: an alert is posted once, for the right day.",
        ),
    ]


def _schema_result(
    con, table: Table, schema: pa.DataFrameSchema, where: str, params: list
) -> dg.AssetCheckResult:
    cols = ", ".join(
        f'CAST("{c.name}" AS VARCHAR) AS "{c.name}"'
        if c.type.startswith("DECIMAL") or c.type == "DATE"
        else f'"{c.name}"'
        for c in table.columns
    )
    frame = con.execute(f"SELECT {cols} FROM {table.qualified} WHERE {where}", params).df()
    frame = frame.astype(object).where(frame.notna(), None)
    try:
        validate(schema, table, frame)
    except SchemaViolation as exc:
        return dg.AssetCheckResult(
            asset_key=table.asset_key,
            check_name=SCHEMA,
            passed=False,
            metadata={
                "violations": len(exc.failures),
                "first": dg.MetadataValue.md(str(exc)),
                "failing_rows": schema_failures(exc.failures),
            },
        )
    return dg.AssetCheckResult(
        asset_key=table.asset_key, check_name=SCHEMA, passed=True, metadata={"rows_validated": len(frame)}
    )


def status_results(
    con: duckdb.DuckDBPyConnection, table: Table, ranges: Sequence[tuple[date, date]]
) -> list[dg.AssetCheckResult]:
    where, params = in_day_ranges(ranges)
    duplicates = duplicate_grain_count(con, table, where, params)
    return [
        _schema_result(con, table, status_schema(table), where, params),
        dg.AssetCheckResult(
            asset_key=table.asset_key,
            check_name=GRAIN,
            passed=duplicates == 0,
            metadata={
                "duplicate_rows": duplicates,
                **({"failing_rows": _duplicated(con, table, where, params)} if duplicates else {}),
            },
        ),
    ]


def crossings_results(
    con: duckdb.DuckDBPyConnection, table: Table, status: Table
) -> list[dg.AssetCheckResult]:
    mismatched = con.execute(
        f"""WITH firsts AS (
                SELECT budget, period_start, threshold_pct, 'actual' AS basis, min(usage_date) AS day
                FROM {status.qualified} WHERE crossed_actual GROUP BY ALL
                UNION ALL
                SELECT budget, period_start, threshold_pct, 'forecast', min(usage_date)
                FROM {status.qualified} WHERE crossed_forecast GROUP BY ALL)
            SELECT count(*) FROM firsts f FULL JOIN {table.qualified} c
              ON f.budget = c.budget AND f.period_start = c.period_start AND f.threshold_pct = c.threshold_pct
             AND f.basis = c.basis
            WHERE f.day IS DISTINCT FROM c.first_crossed_on"""
    ).fetchone()[0]
    return [
        _schema_result(con, table, crossings_schema(table), "TRUE", []),
        dg.AssetCheckResult(
            asset_key=table.asset_key,
            check_name=FIRST_CROSSINGS,
            passed=mismatched == 0,
            metadata={"crossings_not_matching_status": mismatched},
        ),
    ]


def _duplicated(con: duckdb.DuckDBPyConnection, table: Table, where: str, params: list) -> dg.MetadataValue:
    keys = ", ".join(f'"{c}"' for c in table.grain)
    return failing_rows(
        con,
        f"SELECT {keys}, count(*) AS copies FROM {table.qualified} WHERE {where} GROUP BY ALL "
        "HAVING count(*) > 1 ORDER BY ALL",
        params,
    )

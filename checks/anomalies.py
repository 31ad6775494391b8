"""Checks of insights.cost_anomalies over the day ranges a run rebuilt.

The rows are validated with pandera before they are written (a failure writes nothing); after the write, no
two rows share the grain or an anomaly_id (blocking: the alerts post once per anomaly_id), and no row sits
on a day that is not settled (blocking: a figure its source may still revise never raises an anomaly).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa

from checks import schemas as sc
from checks.markdown import failing_rows
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.sql import in_day_ranges

Ranges = Sequence[tuple[date, date]]
SCHEMA, GRAIN, SETTLED = "schema", "grain_unique", "settled_days_only"
_USD = ("actual_usd", "expected_usd", "lower_usd", "upper_usd", "change_usd")
_TOKENS = ("actual_tokens", "expected_tokens", "lower_tokens", "upper_tokens", "change_tokens")


def _one_unit(frame: pd.DataFrame) -> pd.Series:
    """A cost row fills every *_usd figure and no *_tokens one; a token row the reverse."""
    usd = frame[list(_USD)].notna()
    tokens = frame[list(_TOKENS)].notna()
    cost = frame["measure"] == "cost_usd"
    return (cost & usd.all(axis=1) & ~tokens.any(axis=1)) | (~cost & tokens.all(axis=1) & ~usd.any(axis=1))


def _above_expected(frame: pd.DataFrame) -> pd.Series:
    """Only increases are flagged: actual above the usual range's upper end, itself at least expected."""
    out = pd.Series(True, index=frame.index)
    for unit, cast in (("usd", lambda s: s.map(lambda v: None if v is None else float(v))), ("tokens", None)):
        actual, expected, upper = (frame[f"{n}_{unit}"] for n in ("actual", "expected", "upper"))
        if cast:
            actual, expected, upper = cast(actual), cast(expected), cast(upper)
        filled = actual.notna()
        out &= ~filled | (
            (actual.astype(float) > upper.astype(float)) & (upper.astype(float) >= expected.astype(float))
        )
    return out


def schema(
    table: Table, kinds: Sequence[str], measures: Sequence[str], severities: Sequence[str]
) -> pa.DataFrameSchema:
    """The pandera schema of the rows about to be written (money as exact strings)."""
    base = sc.staged_schema(
        table,
        {
            "measure": [pa.Check.isin(list(measures))],
            "slice_kind": [pa.Check.isin(list(kinds))],
            "severity": [pa.Check.isin(list(severities))],
            **{c: [sc.NON_NEGATIVE_DECIMAL] for c in _USD},
            **{c: [sc.NON_NEGATIVE] for c in _TOKENS},
            "change_pct": [pa.Check.gt(0)],
            "same_weekdays": [pa.Check.ge(1)],
            "top_driver_share": [pa.Check.gt(0)],
            "anomaly_id": [pa.Check.str_matches(r"^[0-9a-f]{32}$")],
        },
    )
    return pa.DataFrameSchema(
        base.columns,
        checks=[
            pa.Check(
                _one_unit, error="a cost row fills the *_usd figures only, a token row the *_tokens ones"
            ),
            pa.Check(
                _above_expected, error="actual must be above the usual range, whose upper end is >= expected"
            ),
        ],
        strict=True,
        name=base.name,
    )


def specs(table: Table) -> list[dg.AssetCheckSpec]:
    key = table.asset_key
    return [
        dg.AssetCheckSpec(
            SCHEMA,
            asset=key,
            blocking=True,
            description="Pandera schema of the rows (types, NOT NULL, known measures, kinds and severities, the "
            "unit's columns only, actual above the usual range); a failure writes nothing.",
        ),
        dg.AssetCheckSpec(
            GRAIN,
            asset=key,
            blocking=True,
            description="No two rows share (org_id, usage_date, measure, slice_kind, slice) or an anomaly_id: "
            "alerts post once per anomaly_id.",
        ),
        dg.AssetCheckSpec(
            SETTLED,
            asset=key,
            blocking=True,
            description="Every row is on a settled (organization, day): a day its source may still revise is "
            "never judged.",
        ),
    ]


def grain_result(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> dg.AssetCheckResult:
    where, params = in_day_ranges(ranges)
    grain = ", ".join(table.grain)
    dup_grain, dup_ids = con.execute(
        f"SELECT (SELECT count(*) FROM (SELECT {grain} FROM {table.qualified} WHERE {where} GROUP BY ALL "
        f"HAVING count(*) > 1)), (SELECT count(*) FROM (SELECT anomaly_id FROM {table.qualified} WHERE {where} "
        "GROUP BY ALL HAVING count(*) > 1))",
        params + params,
    ).fetchone()
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=GRAIN,
        passed=dup_grain == 0 and dup_ids == 0,
        metadata={
            "duplicate_grains": int(dup_grain),
            "duplicate_ids": int(dup_ids),
            **(
                {
                    "failing_rows": failing_rows(
                        con,
                        f"SELECT * FROM (SELECT anomaly_id, {grain}, count(*) OVER (PARTITION BY {grain}) "
                        "AS same_grain, count(*) OVER (PARTITION BY anomaly_id) AS same_id "
                        f"FROM {table.qualified} WHERE {where}) WHERE same_grain > 1 OR same_id > 1 "
                        "ORDER BY ALL",
                        params,
                    )
                }
                if dup_grain or dup_ids
                else {}
            ),
        },
    )


def settled_result(
    con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges, settled: dict[str, set[date]]
) -> dg.AssetCheckResult:
    where, params = in_day_ranges(ranges)
    rows = con.execute(
        f"SELECT DISTINCT org_id, usage_date FROM {table.qualified} WHERE {where} ORDER BY ALL", params
    ).fetchall()
    bad = [(org, day) for org, day in rows if day not in settled.get(org, set())]
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=SETTLED,
        passed=not bad,
        metadata={
            "org_days_not_settled": len(bad),
            "first": dg.MetadataValue.md("\n".join(f"- `{o}` {d}" for o, d in bad[:10]) or "none"),
        },
    )

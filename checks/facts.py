"""Checks of facts.cost and facts.usage over the day ranges a run rebuilt.

facts.cost must carry exactly the billed money of its record tables (blocking, with a guard against cents read
as dollars), never billed money on an estimate row (blocking), and name the models it could not price (warn).
facts.usage must carry exactly the tokens of its record tables (blocking) and name its unpriced models (warn).
The schemas are pandera schemas of the rows as stored (money read as exact strings, never as floats).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg
import duckdb
import pandera.pandas as pa

from checks import schemas as sc
from checks.markdown import schema_failures
from checks.window import SchemaViolation, validate
from claude_assets.warehouse.contract import MONEY, Table
from claude_assets.warehouse.sql import in_day_ranges

Ranges = Sequence[tuple[date, date]]
SCHEMA, BILLED_TOTALS, ESTIMATES_UNBILLED, UNPRICED = (
    "schema",
    "billed_equals_record",
    "estimates_unbilled",
    "unpriced",
)
USAGE_TOTALS = "tokens_equal_record"
#: per organization kind, the record of billed money: the raw total the billed lines of a day must equal
BILLED_RECORD = """
    SELECT org_id, usage_date, sum(amount_usd) AS record FROM raw.console_cost GROUP BY ALL
    UNION ALL
    SELECT org_id, usage_date, sum(amount_usd) FROM raw.enterprise_cost WHERE grouping = 'total' GROUP BY ALL
"""
#: per organization kind, the raw tokens the usage rows counted in totals must equal
TOKEN_RECORD = """
    SELECT org_id, usage_date, sum(uncached_input_tokens + cache_creation_5m_input_tokens
        + cache_creation_1h_input_tokens + cache_read_input_tokens + output_tokens) AS record
    FROM raw.console_usage GROUP BY ALL
    UNION ALL
    SELECT org_id, usage_date, sum(uncached_input_tokens + cache_creation_5m_input_tokens
        + cache_creation_1h_input_tokens + cache_read_input_tokens + output_tokens)
    FROM raw.enterprise_usage WHERE grouping = 'total' GROUP BY ALL
"""


def cost_specs(table: Table) -> list[dg.AssetCheckSpec]:
    key = table.asset_key
    return [
        dg.AssetCheckSpec(
            SCHEMA, asset=key, blocking=True, description="Pandera schema of the rows rebuilt."
        ),
        dg.AssetCheckSpec(
            BILLED_TOTALS,
            asset=key,
            blocking=True,
            description="Billed money per organization and day equals the record exactly: the sum of "
            "raw.console_cost (Console), the ungrouped 'total' rows of raw.enterprise_cost (Enterprise); the "
            "metadata counts days off by exactly 100x (cents read as dollars).",
        ),
        dg.AssetCheckSpec(
            ESTIMATES_UNBILLED,
            asset=key,
            blocking=True,
            description="No estimate row carries billed or effective money; no billed row an estimate.",
        ),
        dg.AssetCheckSpec(UNPRICED, asset=key, description="Warns with the models the price book lacks."),
    ]


def usage_specs(table: Table) -> list[dg.AssetCheckSpec]:
    key = table.asset_key
    return [
        dg.AssetCheckSpec(
            SCHEMA, asset=key, blocking=True, description="Pandera schema of the rows rebuilt."
        ),
        dg.AssetCheckSpec(
            USAGE_TOTALS,
            asset=key,
            blocking=True,
            description="Tokens of the Console and Enterprise usage rows per organization and day equal the "
            "record exactly: raw.console_usage, the ungrouped 'total' rows of raw.enterprise_usage.",
        ),
        dg.AssetCheckSpec(UNPRICED, asset=key, description="Warns with the models the price book lacks."),
    ]


def cost_results(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> list[dg.AssetCheckResult]:
    return [
        schema_result(con, table, ranges),
        billed_totals_result(con, table, ranges),
        estimates_unbilled_result(con, table, ranges),
        unpriced_result(con, table, ranges),
    ]


def usage_results(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> list[dg.AssetCheckResult]:
    return [
        schema_result(con, table, ranges),
        usage_totals_result(con, table, ranges),
        unpriced_result(con, table, ranges),
    ]


COST_CHECKS = {
    "org_kind": [pa.Check.isin(["console", "enterprise"])],
    "charge_kind": [pa.Check.isin(["billed", "estimate"])],
    "currency": [sc.USD],
    **{c: [sc.NON_NEGATIVE_DECIMAL] for c in ("billed_cost_usd", "list_cost_usd", "effective_cost_usd")},
    "estimated_cost_usd": [sc.NON_NEGATIVE_DECIMAL],
}
USAGE_CHECKS = {
    "org_kind": [pa.Check.isin(["console", "enterprise"])],
    **{c: [sc.NON_NEGATIVE] for c in ("tokens", "web_search_requests", "requests")},
    "list_cost_usd": [sc.NON_NEGATIVE_DECIMAL],
}


def schema_result(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> dg.AssetCheckResult:
    """The pandera schema over the rows of the ranges, money read as exact strings."""
    checks = COST_CHECKS if table.name == "cost" else USAGE_CHECKS
    cols = ", ".join(
        f'CAST("{c.name}" AS VARCHAR) AS "{c.name}"' if c.type == MONEY else f'"{c.name}"'
        for c in table.columns
    )
    schema, validated = sc.staged_schema(table, checks), 0
    for day_range in ranges:  # one bounded range at a time: a year's rows are never in memory together
        where, params = in_day_ranges([day_range])
        frame = con.execute(f"SELECT {cols} FROM {table.qualified} WHERE {where}", params).df()
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
        validated += len(frame)
    return dg.AssetCheckResult(
        asset_key=table.asset_key, check_name=SCHEMA, passed=True, metadata={"rows_validated": validated}
    )


def _mismatches(con, facts_sql: str, record_sql: str, ranges: Ranges) -> list[tuple]:
    """(org, day, facts figure, record figure) of every organization-day in the ranges where they differ."""
    where, params = in_day_ranges(ranges)
    return con.execute(
        f"""
        WITH f AS (SELECT * FROM ({facts_sql}) WHERE {where}),
             r AS (SELECT org_id, usage_date, sum(record) AS record FROM ({record_sql}) WHERE {where} GROUP BY ALL)
        SELECT coalesce(f.org_id, r.org_id), coalesce(f.usage_date, r.usage_date), f.figure, r.record
        FROM f FULL JOIN r ON f.org_id = r.org_id AND f.usage_date = r.usage_date
        WHERE f.figure IS DISTINCT FROM r.record
        ORDER BY ALL
        """,
        params + params,
    ).fetchall()


def billed_totals_result(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> dg.AssetCheckResult:
    """Billed money per organization and day equals the record's total, exactly (no cents read as dollars)."""
    bad = _mismatches(
        con,
        f"SELECT org_id, usage_date, sum(billed_cost_usd) AS figure FROM {table.qualified} "
        "WHERE charge_kind = 'billed' GROUP BY ALL",
        BILLED_RECORD,
        ranges,
    )
    x100 = [b for b in bad if b[2] is not None and b[3] and b[2] in (b[3] * 100, b[3] / 100)]
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=BILLED_TOTALS,
        passed=not bad,
        metadata={
            "org_days_differing": len(bad),
            "org_days_off_by_100x": len(x100),
            "first": dg.MetadataValue.md(
                "\n".join(f"- `{o}` {d}: facts {f} vs record {r}" for o, d, f, r in bad[:10]) or "none"
            ),
        },
    )


def estimates_unbilled_result(
    con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges
) -> dg.AssetCheckResult:
    """No estimate row carries billed or effective money, and no billed row carries an estimate."""
    where, params = in_day_ranges(ranges)
    n = con.execute(
        f"SELECT count(*) FROM {table.qualified} WHERE {where} AND ("
        "(charge_kind = 'estimate' AND (billed_cost_usd <> 0 OR effective_cost_usd <> 0)) "
        "OR (charge_kind = 'billed' AND estimated_cost_usd IS NOT NULL))",
        params,
    ).fetchall()[0][0]
    return dg.AssetCheckResult(
        asset_key=table.asset_key, check_name=ESTIMATES_UNBILLED, passed=n == 0, metadata={"rows_mixing": n}
    )


def unpriced_result(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> dg.AssetCheckResult:
    """A WARN naming every model with rows the price book could not price (requests are not a priced unit)."""
    where, params = in_day_ranges(ranges)
    skip = " AND token_type <> 'requests'" if table.name == "usage" else ""
    rows = con.execute(
        f"SELECT coalesce(model, '(no model)'), count(*) FROM {table.qualified} "
        f"WHERE {where} AND list_cost_usd IS NULL{skip} GROUP BY ALL ORDER BY ALL",
        params,
    ).fetchall()
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=UNPRICED,
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"unpriced_models": [m for m, _ in rows], "unpriced_rows": sum(n for _, n in rows)},
    )


def usage_totals_result(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> dg.AssetCheckResult:
    """Tokens counted in totals (included_in null) per organization and day equal the record's tokens."""
    bad = _mismatches(
        con,
        f"SELECT org_id, usage_date, sum(tokens) AS figure FROM {table.qualified} "
        f"WHERE {table.totals_where} AND source <> 'raw.claude_code_model_usage' GROUP BY ALL",
        TOKEN_RECORD,
        ranges,
    )
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=USAGE_TOTALS,
        passed=not bad,
        metadata={
            "org_days_differing": len(bad),
            "first": dg.MetadataValue.md(
                "\n".join(f"- `{o}` {d}: facts {f} vs record {r}" for o, d, f, r in bad[:10]) or "none"
            ),
        },
    )

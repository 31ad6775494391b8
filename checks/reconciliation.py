"""Checks of ``facts.cost_reconciliation`` (every one over the days a run rebuilt, ``[start, end)``).

- ``unexplained_within_tolerance`` (blocking): no organization's day has, in any comparison but the
  parity of the two APIs, an unexplained part above the configured ``reconciliation_tolerance_usd`` (in
  absolute value, summed over the day's lines).
- ``legacy_analytics_parity`` (blocking, its severity by the record): the legacy reports and the Usage and
  Cost Analytics API report the same money per organization, day, model and cost type, exactly (no
  tolerance: the same bills, in the same cents). A gap of an organization whose ``cost_record`` is
  ``analytics`` is an ERROR (facts.cost's billed money then disagrees with the legacy record, so what
  reads the reconciliation waits); of one whose record is the legacy report a WARN (facts.cost is
  unaffected; the gap says the API the docs recommend migrating to disagrees, so do not switch yet).
- ``waterfall_closes`` (blocking): on every line, from_figure_usd + the causes' amounts = to_figure_usd
  exactly, and each line's figures are the same on all its cause rows.
- ``figures_at_scale`` (blocking): the guard against cents read as dollars and groupings counted twice.
  Per organization and day, each comparison's to figure equals the record it claims to be (the sum of
  raw.console_cost; the 'total' grouping of raw.enterprise_cost), and so does facts.cost's billed total
  where that table is built; and no comparison's figures are 20 times apart (a x100 slip) once both pass
  one dollar.
- ``schema``: the rows match the declaration (pandera).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import dagster as dg
import duckdb
import pandera.pandas as pa

from checks import schemas as sc
from checks.markdown import rows_table
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.sql import in_day_ranges

UNEXPLAINED_WITHIN_TOLERANCE = "unexplained_within_tolerance"
LEGACY_ANALYTICS_PARITY = "legacy_analytics_parity"
PARITY = "legacy_vs_analytics"  # the comparison of the legacy reports with the Usage and Cost Analytics API
WATERFALL_CLOSES = "waterfall_closes"
FIGURES_AT_SCALE = "figures_at_scale"
SCHEMA = "schema"
#: figures this many times apart are a unit slip (cents read as dollars is x100), not a discrepancy
SCALE_RATIO = 20
Ranges = Sequence[tuple[date, date]]


def specs(table: Table) -> list[dg.AssetCheckSpec]:
    def spec(name: str, blocking: bool, description: str) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(name, asset=table.asset_key, blocking=blocking, description=description)

    return [
        spec(
            UNEXPLAINED_WITHIN_TOLERANCE,
            True,
            "Per organization, day and comparison, the unexplained part (sum of |amount_usd| of cause "
            "'unexplained') is at most reconciliation_tolerance_usd from the configuration (the parity of the "
            "two APIs has its own check, legacy_analytics_parity).",
        ),
        spec(
            LEGACY_ANALYTICS_PARITY,
            True,
            "The legacy reports and the Usage and Cost Analytics API report the same money per organization, "
            "day, model and cost type, exactly (cause 'unexplained' of legacy_vs_analytics is zero). ERROR "
            "for an organization whose cost_record is analytics, WARN for the others.",
        ),
        spec(
            WATERFALL_CLOSES,
            True,
            "Every line: from_figure_usd + sum(amount_usd) = to_figure_usd exactly, one figure per line.",
        ),
        spec(
            FIGURES_AT_SCALE,
            True,
            "Cents-as-dollars and double-counted groupings: each day's to figures equal the raw record "
            "(raw.console_cost; raw.enterprise_cost grouping 'total'), facts.cost's billed total equals it too "
            f"where built, and no comparison's figures are {SCALE_RATIO}x apart above one dollar.",
        ),
        spec(SCHEMA, False, "Rows match the table's declaration (pandera)."),
    ]


def _result(
    table: Table, name: str, failures: list[tuple], names: Sequence[str], **meta
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=name,
        passed=not failures,
        metadata={
            "failures": len(failures),
            "detail": dg.MetadataValue.md(rows_table(failures[:50], names)),
            **meta,
        },
    )


def unexplained_within_tolerance(
    con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges, tolerance: Decimal
) -> dg.AssetCheckResult:
    where, params = in_day_ranges(ranges)
    rows = con.execute(
        f"SELECT org_id, usage_date, comparison, CAST(sum(abs(amount_usd)) AS VARCHAR) AS unexplained_usd "
        f"FROM {table.qualified} WHERE cause = 'unexplained' AND comparison <> '{PARITY}' AND {where} GROUP BY ALL "
        "HAVING sum(abs(amount_usd)) > CAST(? AS DECIMAL(38, 12)) ORDER BY ALL",
        [*params, str(tolerance)],
    ).fetchall()
    return _result(
        table,
        UNEXPLAINED_WITHIN_TOLERANCE,
        rows,
        ("org_id", "usage_date", "comparison", "unexplained_usd"),
        tolerance_usd=float(tolerance),
    )


def legacy_analytics_parity(
    con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges, analytics_record: Sequence[str] = ()
) -> dg.AssetCheckResult:
    """Every line of legacy_vs_analytics with an unexplained amount; ERROR when one belongs to an
    organization in ``analytics_record`` (its facts.cost reads the analytics API), else WARN."""
    where, params = in_day_ranges(ranges)
    rows = con.execute(
        f"SELECT org_id, usage_date, model, cost_type, CAST(from_figure_usd AS VARCHAR), "
        f"CAST(to_figure_usd AS VARCHAR), CAST(amount_usd AS VARCHAR) FROM {table.qualified} "
        f"WHERE comparison = '{PARITY}' AND cause = 'unexplained' AND amount_usd <> 0 AND {where} "
        "ORDER BY abs(amount_usd) DESC, org_id, usage_date, model, cost_type",
        params,
    ).fetchall()
    orgs = sorted({r[0] for r in rows})
    on_record = [o for o in orgs if o in analytics_record]
    result = _result(
        table,
        LEGACY_ANALYTICS_PARITY,
        rows,
        ("org_id", "usage_date", "model", "cost_type", "legacy_usd", "analytics_usd", "unexplained_usd"),
        organizations=", ".join(orgs) or "none",
        organizations_whose_record_is_analytics=", ".join(on_record) or "none",
    )
    return dg.AssetCheckResult(
        asset_key=result.asset_key,
        check_name=result.check_name,
        passed=result.passed,
        metadata=result.metadata,
        severity=dg.AssetCheckSeverity.ERROR if on_record else dg.AssetCheckSeverity.WARN,
        description=None
        if not rows
        else f"the legacy reports and the Usage and Cost Analytics API disagree on {len(rows)} line(s) of "
        f"{', '.join(orgs)} with no documented cause"
        + ("" if on_record else " (warning: facts.cost reads the legacy record for these organizations)"),
    )


def waterfall_closes(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> dg.AssetCheckResult:
    where, params = in_day_ranges(ranges)
    rows = con.execute(
        f"""
        SELECT org_id, usage_date, comparison, product, model, cost_type, token_type,
               CAST(min(from_figure_usd) + sum(amount_usd) - min(to_figure_usd) AS VARCHAR) AS gap_usd
        FROM {table.qualified} WHERE {where}
        GROUP BY org_id, usage_date, comparison, product, model, cost_type, token_type
        HAVING min(from_figure_usd) + sum(amount_usd) <> min(to_figure_usd)
            OR min(from_figure_usd) <> max(from_figure_usd) OR min(to_figure_usd) <> max(to_figure_usd)
        ORDER BY ALL
        """,
        params,
    ).fetchall()
    return _result(
        table,
        WATERFALL_CLOSES,
        rows,
        ("org_id", "usage_date", "comparison", "product", "model", "cost_type", "token_type", "gap_usd"),
    )


def _exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


#: per organization and day, the record's billed total: Console cost lines, the Enterprise 'total' grouping
RECORDS = {
    "raw.console_cost": "SELECT org_id, usage_date, sum(amount_usd) AS record_usd FROM raw.console_cost "
    "WHERE {where} GROUP BY ALL",
    "raw.enterprise_cost": "SELECT org_id, usage_date, sum(amount_usd) AS record_usd FROM raw.enterprise_cost "
    "WHERE grouping = 'total' AND {where} GROUP BY ALL",
}
#: the figure of each comparison that is the billed record (legacy_vs_analytics starts from the legacy report)
_BILLED_FIGURE = "CASE WHEN comparison = 'legacy_vs_analytics' THEN from_figure_usd ELSE to_figure_usd END"


def _lines(table: Table, where: str) -> str:
    """One row per line (its figures repeat on every cause row)."""
    return (
        "SELECT DISTINCT org_id, usage_date, comparison, product, model, cost_type, token_type, from_figure_usd, "
        f"to_figure_usd FROM {table.qualified} WHERE {where}"
    )


def figures_at_scale(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> dg.AssetCheckResult:
    where, params = in_day_ranges(ranges)
    failures: list[tuple] = con.execute(
        f"""
        SELECT org_id, usage_date, comparison, '{SCALE_RATIO}x apart' AS problem,
               CAST(sum(from_figure_usd) AS VARCHAR), CAST(sum(to_figure_usd) AS VARCHAR)
        FROM ({_lines(table, where)})
        GROUP BY org_id, usage_date, comparison
        HAVING least(sum(from_figure_usd), sum(to_figure_usd)) > 1
           AND greatest(sum(from_figure_usd), sum(to_figure_usd))
               > {SCALE_RATIO} * least(sum(from_figure_usd), sum(to_figure_usd))
        ORDER BY ALL
        """,
        params,
    ).fetchall()
    present = [sql for name, sql in RECORDS.items() if _exists(con, name)]
    if present:
        record = " UNION ALL ".join(sql.format(where=where) for sql in present)
        record_params = params * len(present)
        failures += con.execute(
            f"""
            WITH record AS ({record}),
            figures AS (SELECT org_id, usage_date, comparison, sum({_BILLED_FIGURE}) AS figure_usd
                        FROM ({_lines(table, where)}) GROUP BY ALL)
            SELECT f.org_id, f.usage_date, f.comparison, 'billed figure is not the record',
                   CAST(f.figure_usd AS VARCHAR), CAST(r.record_usd AS VARCHAR)
            FROM figures f LEFT JOIN record r USING (org_id, usage_date)
            WHERE f.figure_usd IS DISTINCT FROM r.record_usd
            ORDER BY ALL
            """,
            [*record_params, *params],
        ).fetchall()
        if _exists(con, "facts.cost"):
            failures += con.execute(
                f"""
                WITH record AS ({record}),
                billed AS (SELECT org_id, usage_date, sum(billed_cost_usd) AS billed_usd FROM facts.cost
                           WHERE charge_kind = 'billed' AND {where} GROUP BY ALL)
                SELECT org_id, usage_date, 'facts.cost', 'billed total is not the record',
                       CAST(b.billed_usd AS VARCHAR), CAST(r.record_usd AS VARCHAR)
                FROM billed b FULL OUTER JOIN record r USING (org_id, usage_date)
                WHERE b.billed_usd IS DISTINCT FROM r.record_usd
                ORDER BY ALL
                """,
                [*record_params, *params],
            ).fetchall()
    return _result(
        table,
        FIGURES_AT_SCALE,
        failures,
        ("org_id", "usage_date", "comparison", "problem", "figure_usd", "expected_usd"),
    )


def schema(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> dg.AssetCheckResult:
    """Validate the rows with pandera; money and instants read as exact text (never floats)."""
    cols = ", ".join(
        f'CAST("{c.name}" AS VARCHAR) AS "{c.name}"'
        if c.type.startswith(("DECIMAL", "TIMESTAMP", "DATE"))
        else f'"{c.name}"'
        for c in table.columns
    )
    rules = {
        "cause": [pa.Check.isin(list(CAUSE_NAMES), error="unknown cause")],
        "amount_usd": [sc.DECIMAL],
        "from_figure_usd": [sc.DECIMAL],
        "to_figure_usd": [sc.DECIMAL],
    }
    schema, rows, errors = sc.staged_schema(table, rules), 0, ""
    for day_range in ranges:  # one bounded range at a time: a year's rows are never in memory together
        where, params = in_day_ranges([day_range])
        frame = con.execute(f"SELECT {cols} FROM {table.qualified} WHERE {where}", params).df()
        rows += len(frame)
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            errors = str(exc.failure_cases.head(20))
            break
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=SCHEMA,
        passed=not errors,
        metadata={"rows": rows, "errors": dg.MetadataValue.md(errors or "(none)")},
    )


CAUSE_NAMES = (
    "priority_tier_not_in_cost_report",
    "negotiated_discount",
    "code_execution_not_in_usage",
    "keyless_workbench_usage",
    "non_seat_traffic",
    "revision_between_pulls",
    "rounding",
    "unexplained",
)


def results(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    ranges: Ranges,
    tolerance: Decimal,
    analytics_record: Sequence[str] = (),
) -> list[dg.AssetCheckResult]:
    """Every check of the table over the rebuilt days (``analytics_record``: the organizations whose
    cost_record is the Usage and Cost Analytics API)."""
    return [
        unexplained_within_tolerance(con, table, ranges, tolerance),
        legacy_analytics_parity(con, table, ranges, analytics_record),
        waterfall_closes(con, table, ranges),
        figures_at_scale(con, table, ranges),
        schema(con, table, ranges),
    ]

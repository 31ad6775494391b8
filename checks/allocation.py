"""Asset checks of ``facts.cost_allocation`` (billed cost split to API keys, users and remainders).

- ``allocated_equals_parent`` (blocking): for every parent line of the days written (every billed line of
  ``facts.cost``), the allocated rows add up to the parent's billed cost exactly (DECIMAL, no tolerance);
  a parent with no rows, rows with no parent, a key naming several lines or a wrong carried parent amount
  fail it too.
- ``schema`` (blocking): the pandera schema of the rows (kinds, identities, shares and amounts).
- ``users_within_parent`` (WARN): the per-user report's amounts never exceeded the billed lines they are
  matched to; where they did, the users were scaled down to the lines, and this check lists where.

Every function evaluates the day ranges a run wrote, ``[start, end)`` each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa

from checks import schemas as sc
from checks.markdown import rows_table
from checks.window import SCHEMA, SchemaViolation, validate
from claude_assets.warehouse.contract import Table

ALLOCATED_EQUALS_PARENT = "allocated_equals_parent"
USERS_WITHIN_PARENT = "users_within_parent"
Ranges = Sequence[tuple[date, date]]
ORG_KINDS = ("console", "enterprise")
#: which identity column each kind of row carries (the other stays null)
IDENTITY = {"api_key": "api_key_id", "user": "user_id"}


def specs(table: Table) -> list[dg.AssetCheckSpec]:
    key = table.asset_key
    return [
        dg.AssetCheckSpec(
            ALLOCATED_EQUALS_PARENT,
            asset=key,
            blocking=True,
            description="For every parent line of the days written (every billed line of facts.cost), the "
            "allocated rows add up exactly to the parent's billed_cost_usd: no fraction of a cent lost or "
            "invented. Parents with no rows and rows with no parent fail it too.",
        ),
        dg.AssetCheckSpec(
            SCHEMA,
            asset=key,
            blocking=True,
            description="Pandera schema of the rows: columns, NOT NULL, known kinds, each kind's identity "
            "(api_key rows name a key, user rows a user, others neither), shares in [0, 1], non-negative "
            "amounts, one row per grain.",
        ),
        dg.AssetCheckSpec(
            USERS_WITHIN_PARENT,
            asset=key,
            blocking=False,
            description="The per-user report's amounts of a model and day never exceeded its billed lines; "
            "where they did, the users were scaled down to the lines (users_scaled) and this warns.",
        ),
    ]


def _decimal_in(series: pd.Series, low: Decimal, high: Decimal | None) -> pd.Series:
    def ok(v: object) -> bool:
        try:
            d = Decimal(str(v))
        except (InvalidOperation, ValueError):
            return False
        return d >= low and (high is None or d <= high)

    return series.map(ok)


def _identity(frame: pd.DataFrame) -> pd.Series:
    """Each row names exactly the identity its kind calls for."""
    ok = pd.Series(True, index=frame.index)
    for kind_column in IDENTITY.values():
        wanted = frame["allocated_to_kind"].map(lambda k, c=kind_column: IDENTITY.get(k) == c)
        ok &= frame[kind_column].notna() == wanted
    return ok


def schema(table: Table) -> pa.DataFrameSchema:
    """The rows as read back with money and shares as exact decimal strings."""
    base = sc.staged_schema(
        table,
        {
            "org_kind": [pa.Check.isin(ORG_KINDS, error="unknown org_kind")],
            "allocated_to_kind": [
                pa.Check.isin(
                    ["api_key", "keyless", "user", "unattributed", "whole_line"], error="unknown kind"
                )
            ],
            "share": [
                pa.Check(
                    lambda s: _decimal_in(s, Decimal(0), Decimal(1)),
                    error="share must be a decimal in [0, 1]",
                    element_wise=False,
                )
            ],
            "allocated_cost_usd": [sc.NON_NEGATIVE_DECIMAL],
            "parent_billed_cost_usd": [sc.NON_NEGATIVE_DECIMAL],
        },
    )
    return pa.DataFrameSchema(
        base.columns,
        checks=[pa.Check(_identity, error="the row's identity does not match its kind", element_wise=False)],
        unique=list(table.grain),
        strict=True,
        name=table.qualified,
    )


def _read_day(con: duckdb.DuckDBPyConnection, table: Table, day: date) -> pd.DataFrame:
    exact = ", ".join(
        f'CAST("{c.name}" AS VARCHAR) AS "{c.name}"' if c.type.startswith("DECIMAL") else f'"{c.name}"'
        for c in table.columns
    )
    return con.execute(f"SELECT {exact} FROM {table.qualified} WHERE usage_date = ?", [day]).df()


def schema_result(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> dg.AssetCheckResult:
    """Validate the rows day by day (a day's rows fit in memory; a year's may not)."""
    rows_schema, validated, failures = schema(table), 0, []
    for start, end in ranges:
        day = start
        while day < end:
            frame = _read_day(con, table, day)
            validated += len(frame)
            try:
                validate(rows_schema, table, frame)
            except SchemaViolation as exc:
                failures.append(exc.failures.assign(usage_date=day.isoformat()))
            day += timedelta(days=1)
    failed = pd.concat(failures) if failures else pd.DataFrame()
    sample = failed.head(20)[["usage_date", "column", "check", "failure_case"]] if len(failed) else failed
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=SCHEMA,
        passed=not failures,
        metadata={
            "rows_validated": validated,
            "failures": len(failed),
            "first_failures": dg.MetadataValue.md(
                sample.to_markdown(index=False) if len(sample) else "(none)"
            ),
        },
    )


def _compare_sql(table: Table, parents_sql: str) -> str:
    return f"""
        WITH parents AS ({parents_sql}),
        billed AS (
            SELECT org_id, usage_date, parent_line, sum(parent_billed_cost_usd) AS billed, count(*) AS lines
            FROM parents GROUP BY ALL
        ),
        allocated AS (
            SELECT org_id, usage_date, parent_line, sum(allocated_cost_usd) AS allocated, count(*) AS rows,
                   min(parent_billed_cost_usd) AS carried_min, max(parent_billed_cost_usd) AS carried_max
            FROM {table.qualified} WHERE usage_date >= $1 AND usage_date < $2 GROUP BY ALL
        )
        SELECT org_id, usage_date, parent_line, b.billed, a.allocated, coalesce(a.rows, 0) AS rows,
            CASE
                WHEN b.parent_line IS NULL THEN 'rows with no parent line in facts.cost'
                WHEN a.parent_line IS NULL THEN 'parent line with no allocated rows'
                WHEN b.lines > 1 THEN 'parent_line names several lines of facts.cost'
                WHEN a.allocated <> b.billed THEN 'allocated differs from billed'
                WHEN a.carried_min <> b.billed OR a.carried_max <> b.billed
                    THEN 'parent_billed_cost_usd differs from the parent'
            END AS problem
        FROM billed AS b FULL JOIN allocated AS a USING (org_id, usage_date, parent_line)
        ORDER BY problem NULLS LAST, usage_date, org_id, parent_line"""


def allocated_equals_parent(
    con: duckdb.DuckDBPyConnection, table: Table, parents_sql: str, ranges: Ranges
) -> dg.AssetCheckResult:
    """Compare every parent line of ``parents_sql`` (days ``[$1, $2)``) with the sum of its allocated rows."""
    parents, bad, billed, allocated = 0, [], Decimal(0), Decimal(0)
    for start, end in ranges:
        rows = con.execute(_compare_sql(table, parents_sql), [start, end]).fetchall()
        parents += sum(1 for r in rows if r[3] is not None)
        billed += sum((r[3] for r in rows if r[3] is not None), Decimal(0))
        allocated += sum((r[4] for r in rows if r[4] is not None), Decimal(0))
        bad += [r for r in rows if r[6]]
    names = ["org_id", "usage_date", "parent_line", "billed", "allocated", "rows", "problem"]
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=ALLOCATED_EQUALS_PARENT,
        passed=not bad,
        metadata={
            "parents_checked": parents,
            "parents_failing": len(bad),
            "billed_usd": str(billed),
            "allocated_usd": str(allocated),
            "first_failures": dg.MetadataValue.md(rows_table(bad[:20], names)),
        },
    )


def users_within_parent(con: duckdb.DuckDBPyConnection, table: Table, ranges: Ranges) -> dg.AssetCheckResult:
    """WARN where the users of a model and day were scaled down to its billed lines."""
    scaled = []
    for start, end in ranges:
        scaled += con.execute(
            f"""SELECT org_id, usage_date, model, count(DISTINCT user_id) AS users,
                       sum(allocated_cost_usd) AS scaled_to_usd
                FROM {table.qualified}
                WHERE usage_date >= ? AND usage_date < ? AND users_scaled
                GROUP BY ALL ORDER BY ALL""",
            [start, end],
        ).fetchall()
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=USERS_WITHIN_PARENT,
        passed=not scaled,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "models_scaled": len(scaled),
            "where": dg.MetadataValue.md(
                rows_table(scaled[:20], ["org_id", "usage_date", "model", "users", "scaled_to_usd"])
            ),
        },
    )


def results(
    con: duckdb.DuckDBPyConnection, table: Table, parents_sql: str, ranges: Ranges
) -> list[dg.AssetCheckResult]:
    """Every check of the table over the day ranges written."""
    return [
        allocated_equals_parent(con, table, parents_sql, ranges),
        schema_result(con, table, ranges),
        users_within_parent(con, table, ranges),
    ]

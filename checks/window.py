"""Asset checks evaluated on exactly the windows a run wrote (``partition_time_window`` semantics).

Every ingest asset declares these specs and reports them in the same step that writes, so a
failed blocking check stops everything downstream of the bad window.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa

from checks.markdown import FAILING_ROWS, rows_table
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.writes import INGEST_LOG, duplicate_grain_count

SCHEMA, GRAIN, DAYS, NOT_EMPTY = "schema", "grain_unique", "days_complete", "not_empty"


def specs(table: Table) -> list[dg.AssetCheckSpec]:
    key = table.asset_key
    return [
        dg.AssetCheckSpec(
            SCHEMA,
            asset=key,
            blocking=True,
            description="Pandera schema of the fetched rows (types, NOT NULL, non-negative, USD); "
            "a failure writes nothing.",
        ),
        dg.AssetCheckSpec(
            GRAIN,
            asset=key,
            blocking=True,
            description=f"No two rows share the grain ({', '.join(table.grain)}) in the window, and no row of "
            "the organization sits on a day no request answered for (raw.ingest_log), inside or outside the window.",
        ),
        dg.AssetCheckSpec(
            DAYS,
            asset=key,
            blocking=True,
            description="Every day of the window was fetched and logged in raw.ingest_log.",
        ),
        dg.AssetCheckSpec(
            NOT_EMPTY,
            asset=key,
            blocking=False,
            description="The window returned rows: an organization with no data at all is an error, "
            "not a silent success.",
        ),
    ]


class SchemaViolation(Exception):
    def __init__(self, table: Table, failures: pd.DataFrame):
        self.table = table
        self.failures = failures
        sample = failures.head(10)[["column", "check", "failure_case"]].to_string(index=False)
        super().__init__(
            f"{table.qualified}: {len(failures)} schema violation(s); nothing was written.\n{sample}"
        )


def validate(schema: pa.DataFrameSchema, table: Table, frame: pd.DataFrame) -> None:
    """Raise ``SchemaViolation`` (with every failure case) when the staged frame breaks the schema."""
    try:
        schema.validate(frame, lazy=True)
    except pa_errors.SchemaErrors as exc:
        raise SchemaViolation(table, exc.failure_cases) from None


def results(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    windows: dict[str, list[tuple[date, date]]],
    validated_rows: int,
) -> list[dg.AssetCheckResult]:
    """Results of every check over the windows written, per organization."""
    duplicates, missing, rows = {}, {}, {}
    duplicated: list[tuple] = []  # the first grains held by more than one row, with their number of rows
    unrequested = {org: _rows_on_unrequested_days(con, table, org) for org in windows}
    for org, spans in windows.items():
        for start, end in spans:
            where, params = "org_id = ? AND usage_date >= ? AND usage_date < ?", [org, start, end]
            duplicates[org] = duplicates.get(org, 0) + duplicate_grain_count(con, table, where, params)
            if duplicates[org] and len(duplicated) < FAILING_ROWS:
                duplicated += _duplicated_grains(con, table, where, params, FAILING_ROWS - len(duplicated))
            logged = {
                r[0]
                for r in con.execute(
                    f"SELECT usage_date FROM {INGEST_LOG.qualified} WHERE table_name = ? AND {where}",
                    [table.qualified, *params],
                ).fetchall()
            }
            expected = pd.date_range(start, end, inclusive="left").date
            missing.setdefault(org, []).extend(d.isoformat() for d in expected if d not in logged)
            rows[org] = (
                rows.get(org, 0)
                + con.execute(f"SELECT count(*) FROM {table.qualified} WHERE {where}", params).fetchall()[0][
                    0
                ]
            )
    key = table.asset_key
    return [
        dg.AssetCheckResult(
            asset_key=key, check_name=SCHEMA, passed=True, metadata={"rows_validated": validated_rows}
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=GRAIN,
            passed=not any(duplicates.values()) and not any(unrequested.values()),
            metadata={
                "duplicate_rows": sum(duplicates.values()),
                "by_org": {k: v for k, v in duplicates.items() if v},
                "rows_on_unrequested_days": {k: v for k, v in unrequested.items() if v},
                "failing_rows": dg.MetadataValue.md(
                    rows_table(duplicated, [*table.grain, "rows"]) + _unrequested_table(unrequested)
                ),
            },
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=DAYS,
            passed=not any(missing.values()),
            metadata={
                "missing_days": sum(len(v) for v in missing.values()),
                "first_missing": {k: v[:5] for k, v in missing.items() if v},
                "failing_rows": dg.MetadataValue.md(
                    rows_table(
                        [(org, day) for org, days in missing.items() for day in days][:FAILING_ROWS],
                        ["org_id", "usage_date (not logged in raw.ingest_log)"],
                    )
                ),
            },
        ),
        rows_by_org_result(key, NOT_EMPTY, rows, "rows_by_org"),
    ]


def rows_by_org_result(
    key: dg.AssetKey, check_name: str, rows: dict[str, int], label: str
) -> dg.AssetCheckResult:
    """An ERROR-severity result that fails when an organization of ``rows`` (row counts by org) has none."""
    empty = sorted(org for org, n in rows.items() if n == 0)
    metadata = {label: rows, "empty_orgs": empty}
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check_name,
        passed=not empty,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


def _rows_on_unrequested_days(con: duckdb.DuckDBPyConnection, table: Table, org: str) -> dict[str, int]:
    """Rows of ``org`` (anywhere in the table) on days no logged request answered for: rows written under a
    day nobody asked about, which no later run of that day would replace. Day -> rows, the first 20."""
    found = con.execute(
        f"""SELECT CAST(t.usage_date AS VARCHAR), count(*) FROM {table.qualified} t
            WHERE t.org_id = ? AND NOT EXISTS (
                SELECT 1 FROM {INGEST_LOG.qualified} l
                WHERE l.table_name = ? AND l.org_id = t.org_id AND l.usage_date = t.usage_date)
            GROUP BY 1 ORDER BY 1 LIMIT 20""",
        [org, table.qualified],
    ).fetchall()
    return dict(found)


def _duplicated_grains(
    con: duckdb.DuckDBPyConnection, table: Table, where: str, params: list, limit: int
) -> list[tuple]:
    """The first ``limit`` grains of ``where`` held by more than one row: (grain..., rows)."""
    keys = ", ".join(f'"{c}"' for c in table.grain)
    return con.execute(
        f"SELECT {keys}, count(*) FROM {table.qualified} WHERE {where} GROUP BY ALL HAVING count(*) > 1 "
        f"ORDER BY ALL LIMIT {int(limit)}",
        params,
    ).fetchall()


def _unrequested_table(unrequested: dict[str, dict[str, int]]) -> str:
    found = [(org, day, n) for org, days in unrequested.items() for day, n in days.items()]
    if not found:
        return ""
    return "\n\nRows on days no request answered for:\n\n" + rows_table(
        found[:FAILING_ROWS], ["org_id", "usage_date", "rows"]
    )

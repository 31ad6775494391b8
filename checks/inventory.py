"""Checks of the inventory history tables (SCD type 2): the staged snapshot and the versions.

Per table: the pandera schema of the snapshot before anything is written, then over the
organizations a run wrote: exactly one current version per entity of the snapshot (none for an
entity that is gone), no two versions of an entity overlapping, and every version ending after it
starts. The first three are blocking: a reader joining on ``valid_from``/``valid_to`` would
silently double or lose rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa

from checks.markdown import failing_rows
from checks.window import rows_by_org_result
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.history import VALIDITY

SCHEMA, ONE_CURRENT, NO_OVERLAP, VALID_RANGE, HAS_ROWS = (
    "snapshot_schema",
    "one_current_version",
    "no_overlapping_versions",
    "valid_range",
    "has_current_rows",
)


def _is_instant(value: object) -> bool:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return True
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


INSTANT = pa.Check(
    lambda s: s.map(_is_instant), element_wise=False, error="must be an ISO-8601 instant with a UTC offset"
)
SHA256 = pa.Check.str_matches(r"^[0-9a-f]{64}$", error="must be a sha256 hex digest")


def snapshot_schema(
    table: Table, keys: Sequence[str], checks: dict[str, list[pa.Check]] | None = None
) -> pa.DataFrameSchema:
    """The staged snapshot: every column of ``table`` but the validity ones, NOT NULL where declared,
    instants parseable, one row per entity."""
    checks = checks or {}
    columns = {}
    for c in table.columns:
        if c.name in VALIDITY:
            continue
        extra = [INSTANT] if c.type == "TIMESTAMPTZ" else [SHA256] if c.name == "row_hash" else []
        columns[c.name] = pa.Column(
            nullable=c.nullable, checks=[*extra, *checks.get(c.name, [])], coerce=False
        )
    return pa.DataFrameSchema(columns, strict=True, unique=list(keys), name=f"{table.qualified} (snapshot)")


def specs(table: Table, expect_rows: bool) -> list[dg.AssetCheckSpec]:
    key = table.asset_key
    out = [
        dg.AssetCheckSpec(
            SCHEMA,
            asset=key,
            blocking=True,
            description="Pandera schema of the fetched snapshot (columns, NOT NULL, instants, one row "
            "per entity); a failure writes nothing.",
        ),
        dg.AssetCheckSpec(
            ONE_CURRENT,
            asset=key,
            blocking=True,
            description="Every entity of the latest snapshot has exactly one current version, an "
            "entity no longer listed has none, and is_current = (valid_to IS NULL).",
        ),
        dg.AssetCheckSpec(
            NO_OVERLAP,
            asset=key,
            blocking=True,
            description="No two versions of an entity overlap in [valid_from, valid_to).",
        ),
        dg.AssetCheckSpec(
            VALID_RANGE,
            asset=key,
            blocking=True,
            description="Every closed version has valid_from < valid_to.",
        ),
    ]
    if expect_rows:
        out.append(
            dg.AssetCheckSpec(
                HAS_ROWS,
                asset=key,
                blocking=False,
                description="The organization has current rows: an organization without "
                "them is an error, not a silent success.",
            )
        )
    return out


def _in(orgs: Sequence[str]) -> str:
    return "org_id IN (" + ", ".join("?" for _ in orgs) + ")"


def current_version_problems(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    keys: Sequence[str],
    snapshot_keys: pd.DataFrame,
    orgs: Sequence[str],
) -> dict[str, int]:
    """Counts of: snapshot entities without exactly one current version, current versions of entities
    not in the snapshot, and rows whose is_current disagrees with valid_to."""
    cols = ", ".join(f'"{k}"' for k in keys)
    con.register("_snapshot_keys", snapshot_keys[list(keys)].drop_duplicates())
    try:
        wrong, stale = con.execute(
            f"""
            WITH cur AS (SELECT {cols}, count(*) AS n FROM {table.qualified} WHERE {_in(orgs)} AND is_current
                         GROUP BY ALL),
                 snap AS (SELECT {cols}, true AS listed FROM _snapshot_keys)
            SELECT count(*) FILTER (WHERE listed AND coalesce(n, 0) <> 1),
                   count(*) FILTER (WHERE listed IS NULL AND n > 0)
            FROM cur FULL OUTER JOIN snap USING ({cols})""",
            list(orgs),
        ).fetchall()[0]
    finally:
        con.unregister("_snapshot_keys")
    flags = con.execute(
        f"SELECT count(*) FROM {table.qualified} WHERE {_in(orgs)} "
        "AND is_current IS DISTINCT FROM (valid_to IS NULL)",
        list(orgs),
    ).fetchall()[0][0]
    return {
        "entities_without_one_current_version": int(wrong),
        "current_versions_of_unlisted_entities": int(stale),
        "rows_with_is_current_not_matching_valid_to": int(flags),
    }


def overlapping_versions(
    con: duckdb.DuckDBPyConnection, table: Table, keys: Sequence[str], orgs: Sequence[str]
) -> int:
    """Versions that start before the previous version of the same entity ends (or at the same instant)."""
    return con.execute(
        f"SELECT count(*) FROM ({_overlapping_sql(table, keys, orgs)})", list(orgs)
    ).fetchall()[0][0]


def _overlapping_sql(table: Table, keys: Sequence[str], orgs: Sequence[str]) -> str:
    cols = ", ".join(f'"{k}"' for k in keys)
    return f"""
        SELECT org_id, {cols}, prev_from, prev_to, valid_from, valid_to FROM (
          SELECT org_id, {cols}, valid_from, valid_to,
                 lag(valid_from) OVER w AS prev_from,
                 lag(coalesce(valid_to, 'infinity'::TIMESTAMPTZ)) OVER w AS prev_to
          FROM {table.qualified} WHERE {_in(orgs)}
          WINDOW w AS (PARTITION BY {cols} ORDER BY valid_from, valid_to NULLS LAST))
        WHERE prev_from IS NOT NULL AND (prev_to > valid_from OR prev_from = valid_from)"""


def bad_ranges(con: duckdb.DuckDBPyConnection, table: Table, orgs: Sequence[str]) -> int:
    """Versions that do not end after they start."""
    return con.execute(f"SELECT count(*) FROM ({_bad_ranges_sql(table, orgs)})", list(orgs)).fetchall()[0][0]


def _bad_ranges_sql(table: Table, orgs: Sequence[str]) -> str:
    return (
        f"SELECT * EXCLUDE (extra, row_hash, fetched_at, source_request) FROM {table.qualified} "
        f"WHERE {_in(orgs)} AND (valid_from IS NULL OR (valid_to IS NOT NULL AND valid_from >= valid_to))"
    )


def current_rows(con: duckdb.DuckDBPyConnection, table: Table, orgs: Sequence[str]) -> dict[str, int]:
    found = dict(
        con.execute(
            f"SELECT org_id, count(*) FROM {table.qualified} WHERE {_in(orgs)} AND is_current "
            "GROUP BY org_id",
            list(orgs),
        ).fetchall()
    )
    return {org: int(found.get(org, 0)) for org in orgs}


def results(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    keys: Sequence[str],
    snapshot_keys: pd.DataFrame,
    orgs: Sequence[str],
    validated_rows: int,
    expect_rows: bool,
) -> list[dg.AssetCheckResult]:
    """Every check of ``table`` over the organizations whose snapshots were just applied."""
    key = table.asset_key
    current = current_version_problems(con, table, keys, snapshot_keys, orgs)
    overlaps = overlapping_versions(con, table, keys, orgs)
    ranges = bad_ranges(con, table, orgs)
    out = [
        dg.AssetCheckResult(
            asset_key=key, check_name=SCHEMA, passed=True, metadata={"rows_validated": validated_rows}
        ),
        dg.AssetCheckResult(
            asset_key=key, check_name=ONE_CURRENT, passed=not any(current.values()), metadata=current
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=NO_OVERLAP,
            passed=overlaps == 0,
            metadata={
                "overlapping_versions": overlaps,
                **(
                    {"failing_rows": failing_rows(con, _overlapping_sql(table, keys, orgs), orgs)}
                    if overlaps
                    else {}
                ),
            },
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=VALID_RANGE,
            passed=ranges == 0,
            metadata={
                "versions_ending_before_they_start": ranges,
                **({"failing_rows": failing_rows(con, _bad_ranges_sql(table, orgs), orgs)} if ranges else {}),
            },
        ),
    ]
    if expect_rows:
        out.append(rows_by_org_result(key, HAS_ROWS, current_rows(con, table, orgs), "current_rows_by_org"))
    return out

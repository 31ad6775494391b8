"""Cross-table checks of the raw Enterprise engagement tables, where the API's definitions make them agree.

Daily active users: ``/summaries`` counts the members active on a day, and ``/users`` in single-day mode
returns one row per member active on that day, so ``daily_active_user_count`` of a day equals the number
of rows of ``raw.enterprise_user_activity`` for that day.

The two tables are separate assets and can be materialized in either order, or one without the other.
The check is declared on both and compares the days of the run's window that *both* tables hold (per
``raw.ingest_log``); a day the other table has not been materialized for is not compared, and the
result lists it. So whichever of the two is loaded second verifies those days. A disagreement between
rows fetched by the same run is an error; between rows fetched by different runs it is a warning, since
the API may revise engagement values by a few percent between its daily exports (re-run both).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import duckdb

from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.writes import INGEST_LOG

DAU_CHECK = {
    "enterprise_summary": "dau_matches_user_activity",
    "enterprise_user_activity": "rows_match_summary_dau",
}


def dau_spec(table: Table, other: Table) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        DAU_CHECK[table.name],
        asset=table.asset_key,
        blocking=False,
        description=f"Per organization and day: raw.enterprise_summary.daily_active_user_count equals the number of "
        f"rows in raw.enterprise_user_activity. Only days both tables hold are compared; days "
        f"{other.qualified} has not been materialized for are listed, not failed (the same check on "
        f"{other.qualified} compares them once it is loaded). Different runs: warning; same run: error.",
    )


def _exists(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [table.schema, table.name],
        ).fetchone()[0]
        > 0
    )


def _where(windows: dict[str, list[tuple[date, date]]]) -> tuple[str, list]:
    parts, params = [], []
    for org, spans in windows.items():
        for start, end in spans:
            parts.append("(org_id = ? AND usage_date >= ? AND usage_date < ?)")
            params += [org, start, end]
    return " OR ".join(parts), params


def _days(windows: dict[str, list[tuple[date, date]]]) -> Iterator[tuple[str, date]]:
    for org, spans in windows.items():
        for start, end in spans:
            for i in range((end - start).days):
                yield org, start + timedelta(days=i)


def dau_result(
    con: duckdb.DuckDBPyConnection,
    asset_key: dg.AssetKey,
    summary: Table,
    users: Table,
    windows: dict[str, list[tuple[date, date]]],
) -> dg.AssetCheckResult:
    """The DAU agreement over ``windows`` (organization -> day ranges), reported on ``asset_key``."""
    name = DAU_CHECK[asset_key.path[-1]]
    if not windows:
        return dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=name,
            passed=True,
            metadata={"note": "no day of this run can hold data; nothing to compare"},
        )
    where, params = _where(windows)
    logged: dict[str, dict[tuple[str, date], str]] = {summary.qualified: {}, users.qualified: {}}
    if _exists(con, INGEST_LOG):
        for table_name, org, day, run_id in con.execute(
            f"SELECT table_name, org_id, usage_date, run_id FROM {INGEST_LOG.qualified} "
            f"WHERE table_name IN (?, ?) AND ({where})",
            [summary.qualified, users.qualified, *params],
        ).fetchall():
            logged[table_name][(org, day)] = run_id
    dau = _per_org_day(
        con, summary, f"daily_active_user_count FROM {summary.qualified} WHERE {where}", params
    )
    rows = _per_org_day(con, users, f"count(*) FROM {users.qualified} WHERE {where} GROUP BY ALL", params)
    compared, mismatches, same_run_mismatch = 0, [], False
    without: dict[str, list[str]] = {summary.qualified: [], users.qualified: []}
    for key in _days(windows):
        missing = [t for t in (summary.qualified, users.qualified) if key not in logged[t]]
        for t in missing:
            without[t].append(f"{key[0]} {key[1]}")
        if missing:
            continue
        compared += 1
        expected, actual = dau.get(key), rows.get(key, 0)
        if expected != actual:
            same = logged[summary.qualified][key] == logged[users.qualified][key]
            same_run_mismatch |= same
            mismatches.append(
                {
                    "org_id": key[0],
                    "usage_date": key[1].isoformat(),
                    "summary_dau": expected,
                    "user_activity_rows": actual,
                    "same_run": same,
                }
            )
    metadata = {
        "days_compared": compared,
        "days_disagreeing": len(mismatches),
        "first_disagreements": dg.MetadataValue.json(mismatches[:10]),
        f"days_without_{summary.name}": len(without[summary.qualified]),
        f"days_without_{users.name}": len(without[users.qualified]),
    }
    not_loaded = {t: v for t, v in without.items() if v}
    if not_loaded:
        metadata["not_compared"] = dg.MetadataValue.md(
            "\n".join(
                f"- {t} has not been materialized for {len(v)} day(s) of this window (e.g. {', '.join(v[:3])}); "
                "those days are compared when it is"
                for t, v in not_loaded.items()
            )
        )
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=name,
        passed=not mismatches,
        metadata=metadata,
        severity=dg.AssetCheckSeverity.ERROR if same_run_mismatch else dg.AssetCheckSeverity.WARN,
    )


def _per_org_day(con, table: Table, select: str, params: list) -> dict:
    """``{(org_id, usage_date): value}`` of ``SELECT org_id, usage_date, <select>``; empty if the table is absent."""
    if not _exists(con, table):
        return {}
    return {(o, d): n for o, d, n in con.execute(f"SELECT org_id, usage_date, {select}", params).fetchall()}

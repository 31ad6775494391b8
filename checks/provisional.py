"""Provisional days that are due for a new pull: logged before their source had finished them, and the
instant from which a pull gives them as final (``final_after``) has passed.

"Has passed" is judged on the API's clock, estimated from the local one: each log row keeps both the
local instant it was written (``fetched_at``) and the API's (``api_time``), so the API's clock now is the
local clock minus that difference. A local clock running ahead of the API's cannot ask for a day early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import dagster as dg
import duckdb

from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.writes import INGEST_LOG

PROVISIONAL = "provisional_days_repulled"
#: The API's clock now, per log row, from the local clock ``?`` (see the module docstring).
API_NOW = "(CAST(? AS TIMESTAMPTZ) - coalesce(fetched_at - api_time, INTERVAL 0 SECOND))"


def spec(table: Table) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        PROVISIONAL,
        asset=table.asset_key,
        blocking=False,
        description="No day of the table is still provisional (pulled before its source had finished it) "
        "after its final_after has passed (raw.ingest_log); such a day needs a new pull, which the "
        "provisional re-pull sensor requests.",
    )


@dataclass(frozen=True)
class DueDay:
    """A provisional day whose ``final_after`` has passed: the latest pull of (table, organization, day)."""

    table_name: str
    org_id: str
    usage_date: date
    final_after: datetime
    run_id: str
    fetched_at: datetime


def due(con: duckdb.DuckDBPyConnection, tables: Sequence[str], now: datetime | None = None) -> list[DueDay]:
    """Provisional days of ``tables`` (qualified names) whose ``final_after`` has passed by the API's clock."""
    if not tables or not _has_completeness(con):
        return []
    now = now or datetime.now(UTC)
    marks = ", ".join("?" for _ in tables)
    found = con.execute(
        f"""SELECT table_name, org_id, usage_date, final_after, coalesce(run_id, ''), fetched_at
            FROM {INGEST_LOG.qualified}
            WHERE provisional AND final_after IS NOT NULL AND final_after <= {API_NOW}
              AND table_name IN ({marks})
            ORDER BY ALL""",
        [now.isoformat(), *tables],
    ).fetchall()
    return [DueDay(*row) for row in found]


def result(con: duckdb.DuckDBPyConnection, table: Table, now: datetime | None = None) -> dg.AssetCheckResult:
    """WARN when a day of the table (any organization) is provisional past its ``final_after``."""
    overdue = due(con, [table.qualified], now)
    waiting = 0
    if _has_completeness(con):
        waiting = con.execute(
            f"SELECT count(*) FROM {INGEST_LOG.qualified} WHERE table_name = ? AND provisional",
            [table.qualified],
        ).fetchall()[0][0]
    by_org: dict[str, list[str]] = {}
    for d in overdue:
        by_org.setdefault(d.org_id, []).append(d.usage_date.isoformat())
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=PROVISIONAL,
        passed=not overdue,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "scope": "the whole table, every organization (not only this run's partitions)",
            "provisional_days_due": len(overdue),
            "due_by_org": {org: days[:20] for org, days in by_org.items()},
            "provisional_days": waiting,
            "what_to_do": "materialize the days listed (or start the provisional re-pull sensor)"
            if overdue
            else "nothing",
        },
    )


def _has_completeness(con: duckdb.DuckDBPyConnection) -> bool:
    """The log exists and records completeness (a log of an older version gains it at its next write)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
            "AND column_name = 'final_after'",
            [INGEST_LOG.schema, INGEST_LOG.name],
        ).fetchall()[0][0]
    )

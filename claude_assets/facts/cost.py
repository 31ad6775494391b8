"""facts.cost: every billed line of every organization, and the estimates that are never billed money.

One statement per kind of line, in a ``sql/*.sql`` file beside this module, each the rows of the days [$1, $2):

- ``cost_console``: Console billed lines (raw.console_cost), list cost from the priced Console usage;
- ``cost_enterprise``: Enterprise billed lines (raw.enterprise_cost, grouping ``token_type``);
- ``cost_analytics``: the billed lines of organizations whose ``cost_record`` is ``analytics``
  (raw.analytics_cost, grouping ``billing``), on the days that API was read for them; their other days, and
  every other organization, keep the legacy lines above;
- ``cost_priority``: estimates of priority-tier Console usage at list price (not in the cost report);
- ``cost_claude_code``: Claude Code's own estimated cost.

The priced usage they read (``_usage_priced``) is staged by :func:`claude_assets.facts.usage.stage_priced_usage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import duckdb

from claude_assets.facts.tables import FACTS_COST
from claude_assets.facts.usage import USAGE_INPUTS, stage_priced_usage, statement
from claude_assets.ingest.console.tables import CONSOLE_COST
from claude_assets.ingest.enterprise_reports.tables import ANALYTICS_COST, ENTERPRISE_COST
from claude_assets.privacy.pseudonyms import Pseudonyms
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.writes import ensure, rebuild_days

#: the raw tables facts.cost reads
COST_INPUTS: tuple[Table, ...] = (CONSOLE_COST, ENTERPRISE_COST, *USAGE_INPUTS)
COST_STATEMENTS = ("cost_console", "cost_enterprise", "cost_analytics", "cost_priority", "cost_claude_code")


def stage_analytics_record(
    con: duckdb.DuckDBPyConnection, start: date, end: date, analytics_record: Mapping[str, str]
) -> None:
    """Temp table ``_analytics_record`` (org_id, usage_date, org_kind): the organization-days of [start, end)
    whose billed lines come from the Usage and Cost Analytics API: an organization of ``analytics_record``
    (slug -> kind; cost_record: analytics), on a day raw.ingest_log shows that API was read for it. Any
    other day keeps its legacy lines (never none)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _analytics_record (org_id VARCHAR, usage_date DATE, org_kind VARCHAR)"
    )
    logged = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = 'ingest_log'"
    ).fetchall()[0][0]
    if analytics_record and logged:
        con.execute(
            "INSERT INTO _analytics_record SELECT DISTINCT l.org_id, l.usage_date, k.org_kind "
            "FROM raw.ingest_log AS l JOIN (SELECT unnest(?) AS org_id, unnest(?) AS org_kind) AS k USING (org_id) "
            "WHERE l.table_name = ? AND l.usage_date >= ? AND l.usage_date < ?",
            [list(analytics_record), list(analytics_record.values()), ANALYTICS_COST.qualified, start, end],
        ).fetchall()  # consumed: the connection takes new functions (pseudonyms) only with no result open


def rebuild_cost(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    pseudonyms: Pseudonyms | None = None,
    analytics_record: Mapping[str, str] | None = None,
) -> int:
    """Replace the days [start, end) of facts.cost; returns the rows written. ``analytics_record``: the
    organizations whose cost_record is the Usage and Cost Analytics API (slug -> kind)."""
    for table in (CONSOLE_COST, ENTERPRISE_COST, ANALYTICS_COST):
        ensure(con, table)
    stage_analytics_record(con, start, end, analytics_record or {})
    stage_priced_usage(con, start, end, pseudonyms)
    lines = " UNION ALL BY NAME ".join(f"({statement(name)})" for name in COST_STATEMENTS)
    return rebuild_days(con, FACTS_COST, start, end, lines, [start, end])

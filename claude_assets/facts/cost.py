"""facts.cost: every billed line of every organization, and the estimates that are never billed money.

One statement per kind of line, in a ``sql/*.sql`` file beside this module, each the rows of the days [$1, $2):

- ``cost_console``: Console billed lines (raw.console_cost), list cost from the priced Console usage;
- ``cost_enterprise``: Enterprise billed lines (raw.enterprise_cost, grouping ``token_type``);
- ``cost_priority``: estimates of priority-tier Console usage at list price (not in the cost report);
- ``cost_claude_code``: Claude Code's own estimated cost.

The priced usage they read (``_usage_priced``) is staged by :func:`claude_assets.facts.usage.stage_priced_usage`.
"""

from __future__ import annotations

from datetime import date

import duckdb

from claude_assets.facts.tables import FACTS_COST
from claude_assets.facts.usage import USAGE_INPUTS, stage_priced_usage, statement
from claude_assets.ingest.console.tables import CONSOLE_COST
from claude_assets.ingest.enterprise_reports.tables import ENTERPRISE_COST
from claude_assets.privacy.pseudonyms import Pseudonyms
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.writes import ensure, rebuild_days

#: the raw tables facts.cost reads
COST_INPUTS: tuple[Table, ...] = (CONSOLE_COST, ENTERPRISE_COST, *USAGE_INPUTS)
COST_STATEMENTS = ("cost_console", "cost_enterprise", "cost_priority", "cost_claude_code")


def rebuild_cost(
    con: duckdb.DuckDBPyConnection, start: date, end: date, pseudonyms: Pseudonyms | None = None
) -> int:
    """Replace the days [start, end) of facts.cost; returns the rows written."""
    for table in (CONSOLE_COST, ENTERPRISE_COST):
        ensure(con, table)
    stage_priced_usage(con, start, end, pseudonyms)
    lines = " UNION ALL BY NAME ".join(f"({statement(name)})" for name in COST_STATEMENTS)
    return rebuild_days(con, FACTS_COST, start, end, lines, [start, end])

"""facts.usage: token usage by token type, web searches and requests of every organization, priced at list.

The usage of the three sources (Console usage report, Enterprise usage report, Claude Code) is staged once per
day range as one relation of measures (``_usage_units``), priced with the price book in one place
(:func:`price_usage`) and kept as ``_usage_priced``; facts.usage is that relation, and facts.cost reads it for
the list cost of Console lines and the estimates. SQL lives in ``sql/*.sql`` files beside this module.
"""

from __future__ import annotations

from datetime import date

import duckdb

from claude_assets.facts.pricing import priced_sql
from claude_assets.facts.tables import FACTS_USAGE
from claude_assets.ingest.console.tables import CLAUDE_CODE_MODELS, CLAUDE_CODE_USAGE, CONSOLE_USAGE
from claude_assets.ingest.enterprise_reports.tables import ENTERPRISE_USAGE
from claude_assets.privacy.pseudonyms import Pseudonyms
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.sql import sql_file
from claude_assets.warehouse.writes import ensure, rebuild_days

#: the raw tables facts.usage reads
USAGE_INPUTS: tuple[Table, ...] = (CONSOLE_USAGE, ENTERPRISE_USAGE, CLAUDE_CODE_MODELS, CLAUDE_CODE_USAGE)
#: one statement per source, each the usage of the days [$1, $2) as rows of measures
SOURCE_STATEMENTS = ("usage_console", "usage_enterprise", "usage_claude_code")


def statement(name: str) -> str:
    """The SQL of ``sql/<name>.sql`` beside this module."""
    return sql_file(__file__, name)


def stage_priced_usage(
    con: duckdb.DuckDBPyConnection, start: date, end: date, pseudonyms: Pseudonyms | None = None
) -> None:
    """Temp table ``_usage_priced``: every source's usage of the days [start, end), one row per measure, priced;
    people named as ``pseudonyms`` says (none: as the API said)."""
    (pseudonyms or Pseudonyms()).register(con)
    for table in USAGE_INPUTS:
        ensure(con, table)  # an organization kind the configuration lacks leaves its raw table empty
    con.execute(statement("usage_token_type"))
    units = " UNION ALL BY NAME ".join(f"({statement(name)})" for name in SOURCE_STATEMENTS)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _usage_units AS SELECT row_number() OVER () AS unit_id, * FROM ({units})",
        [start, end],
    )
    price_usage(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _usage_priced AS {statement('usage_priced')}")


def price_usage(con: duckdb.DuckDBPyConnection) -> None:
    """The one place list prices are applied: the price book over ``_usage_to_price`` into ``_usage_prices``
    (``unit_id``, ``list_cost_usd``, ``price_rule``)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _usage_to_price AS {statement('usage_to_price')}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _usage_prices AS "
        f"SELECT unit_id, list_cost_usd, price_rule FROM ({priced_sql('_usage_to_price')})"
    )


def rebuild_usage(
    con: duckdb.DuckDBPyConnection, start: date, end: date, pseudonyms: Pseudonyms | None = None
) -> int:
    """Replace the days [start, end) of facts.usage; returns the rows written."""
    stage_priced_usage(con, start, end, pseudonyms)
    return rebuild_days(con, FACTS_USAGE, start, end, statement("usage"), [start, end])

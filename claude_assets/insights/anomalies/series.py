"""Reading the daily series of every slice from the facts: one long frame per run, exact sums as strings.

Each row is one organization, day, measure and slice (``parent_kind`` null: a slice judged on its own,
the total included) or one child slice inside a parent (``parent_kind``/``parent`` set: the series drivers
are computed from). Billed cost comes from ``facts.cost_allocation`` (it adds up to the billed lines of
``facts.cost`` exactly, and carries the API key and user), Enterprise product cost from the
``product_model`` grouping of ``raw.enterprise_cost`` (billed amounts by product), tokens from
``facts.usage`` (rows counted in totals only: ``included_in IS NULL``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from claude_assets.facts.tables import COST_ALLOCATION, FACTS_USAGE
from claude_assets.ingest.enterprise_reports.tables import ENTERPRISE_COST
from claude_assets.warehouse.sql import table_exists

COST, TOKENS = "cost_usd", "tokens"
MEASURES = (COST, TOKENS)
TOTAL, ALL = "total", "all"
SLICE_KINDS = (TOTAL, "model", "workspace", "api_key", "user", "product")
_WORKSPACE = "CASE WHEN org_kind = 'console' THEN coalesce(workspace_id, 'default') END"


@dataclass(frozen=True)
class Source:
    """One table the series of a measure are summed from."""

    measure: str
    table: str  # qualified name, also the existence check
    sql: str  # rows with org_id, usage_date, value and the columns ``dims`` reads
    dims: dict[str, str]  # slice kind -> SQL expression (null: the row has no such slice)
    pairs: tuple[tuple[str | None, str], ...]  # (parent kind or None for a judged slice, slice kind)


ALLOCATED_COST = Source(
    COST,
    COST_ALLOCATION.qualified,
    f"SELECT org_id, usage_date, org_kind, model, workspace_id, allocated_to_kind, api_key_id, user_id, "
    f"allocated_cost_usd AS value FROM {COST_ALLOCATION.qualified}",
    {
        "model": "model",
        "workspace": _WORKSPACE,
        "api_key": "CASE WHEN allocated_to_kind = 'api_key' THEN api_key_id END",
        "user": "CASE WHEN allocated_to_kind IN ('user', 'keyless') THEN user_id END",
    },
    (
        (None, TOTAL),
        (None, "model"),
        (None, "workspace"),
        (None, "api_key"),
        (None, "user"),
        ("workspace", "api_key"),
        ("workspace", "user"),
        ("model", "api_key"),
        ("model", "user"),
        ("model", "workspace"),
        ("api_key", "model"),
        ("user", "model"),
    ),
)
PRODUCT_COST = Source(
    COST,
    ENTERPRISE_COST.qualified,
    f"SELECT org_id, usage_date, product, model, amount_usd AS value FROM {ENTERPRISE_COST.qualified} "
    "WHERE grouping = 'product_model'",
    {"product": "product", "model": "model"},
    ((None, "product"), ("product", "model"), ("model", "product")),
)
USAGE_TOKENS = Source(
    TOKENS,
    FACTS_USAGE.qualified,
    f"SELECT org_id, usage_date, org_kind, model, workspace_id, api_key_id, user_id, product, tokens AS value "
    f"FROM {FACTS_USAGE.qualified} WHERE {FACTS_USAGE.totals_where} AND tokens IS NOT NULL",
    {
        "model": "model",
        "workspace": _WORKSPACE,
        "api_key": "api_key_id",
        "user": "user_id",
        "product": "product",
    },
    (
        (None, TOTAL),
        (None, "model"),
        (None, "workspace"),
        (None, "api_key"),
        (None, "user"),
        (None, "product"),
        ("workspace", "api_key"),
        ("model", "api_key"),
        ("model", "workspace"),
        ("model", "product"),
        ("product", "model"),
        ("api_key", "model"),
        ("user", "model"),
    ),
)
SOURCES = (ALLOCATED_COST, PRODUCT_COST, USAGE_TOKENS)
#: the tables the series are read from (their raw inputs decide which days are settled)
READS = (COST_ALLOCATION, FACTS_USAGE)


def _pair_sql(source: Source, parent: str | None, kind: str) -> str:
    dim = source.dims.get(kind, f"'{ALL}'")
    parent_dim = source.dims[parent] if parent else "NULL"
    where = " AND ".join(f"({e}) IS NOT NULL" for e in (dim, parent_dim if parent else "1"))
    parent_kind = f"'{parent}'" if parent else "NULL"
    return (
        f"SELECT org_id, usage_date, '{source.measure}' AS measure, {parent_kind} AS parent_kind, "
        f"CAST({parent_dim} AS VARCHAR) AS parent, "
        f"'{kind}' AS slice_kind, CAST({dim} AS VARCHAR) AS slice, CAST(sum(value) AS VARCHAR) AS value "
        f"FROM src WHERE {where} GROUP BY ALL"
    )


def read(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pd.DataFrame:
    """Every series row of the days [start, end), of the sources whose table exists."""
    frames = []
    for source in SOURCES:
        if not table_exists(con, source.table):
            continue
        union = " UNION ALL ".join(_pair_sql(source, p, k) for p, k in source.pairs)
        frames.append(
            con.execute(
                f"WITH src AS (SELECT * FROM ({source.sql}) WHERE usage_date >= ? AND usage_date < ?) {union}",
                [start, end],
            ).df()
        )
    columns = ["org_id", "usage_date", "measure", "parent_kind", "parent", "slice_kind", "slice", "value"]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

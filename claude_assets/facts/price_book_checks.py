"""Validating the price book: the pandera schema of its rows, the queries behind its checks, its metadata."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa

from checks.schemas import ISO_DATE, NON_NEGATIVE_DECIMAL, staged_schema
from claude_assets.facts.price_book import ALL_ORGANIZATIONS, UNITS, PriceRow, token_types
from claude_assets.facts.tables import PRICE_BOOK


def frame(rows: Sequence[PriceRow]) -> pd.DataFrame:
    """The rows as the table's columns, values as exact strings (``effective_to`` is computed on write)."""
    return pd.DataFrame(
        [
            {
                "org_id": ALL_ORGANIZATIONS,
                "model": r.model,
                "token_type": r.token_type,
                "condition": r.condition,
                "usd_per_unit": r.usd_per_unit,
                "unit": r.unit,
                "units_per_price": r.units_per_price,
                "multiplier": r.multiplier,
                "effective_from": r.effective_from.isoformat(),
                "effective_to": None,
                "derived": r.derived,
                "source": r.source,
                "note": r.note,
                "origin": r.origin,
            }
            for r in rows
        ],
        columns=PRICE_BOOK.column_names,
    )


#: pandera schema of the rows written: every column, NOT NULL where declared, decimals non-negative
SCHEMA = staged_schema(
    PRICE_BOOK,
    {
        "usd_per_unit": [NON_NEGATIVE_DECIMAL],
        "multiplier": [NON_NEGATIVE_DECIMAL],
        "effective_from": [ISO_DATE],
        "token_type": [pa.Check(lambda s: s.map(lambda t: bool(token_types(t))), error="unknown token type")],
        "unit": [pa.Check.isin(list(UNITS), error="unknown unit")],
    },
)


def duplicate_keys(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Rows sharing model, token type, condition and effective_from (the grain)."""
    return con.execute(f"""
        SELECT model, token_type, condition, effective_from, count(*) AS n
        FROM {PRICE_BOOK.qualified} GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL
    """).fetchall()


def stray_rules(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Multiplier or alternative-price rows naming a model stem no base price has: they would never
    apply (a typo in an override), and the cost would look right without them."""
    return con.execute(f"""
        SELECT model, token_type, condition, effective_from, origin
        FROM {PRICE_BOOK.qualified}
        WHERE condition <> '' AND model <> '*'
          AND model NOT IN (SELECT model FROM {PRICE_BOOK.qualified} WHERE condition = '')
        ORDER BY ALL
    """).fetchall()


def incomplete_models(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Model stems with a current base price for some token types but not all five: usage of the
    others would be unpriced."""
    tokens = ", ".join(f"'{t}'" for t in UNITS["MTok"][1])
    return con.execute(f"""
        SELECT model, string_agg(t.token_type, ', ' ORDER BY t.token_type) AS missing
        FROM (SELECT DISTINCT model FROM {PRICE_BOOK.qualified} WHERE condition = '' AND model <> '*') AS m
        CROSS JOIN (SELECT unnest([{tokens}]) AS token_type) AS t
        WHERE NOT EXISTS (
            SELECT 1 FROM {PRICE_BOOK.qualified} AS b
            WHERE b.model = m.model AND b.token_type = t.token_type AND b.condition = ''
              AND b.effective_to IS NULL
        )
        GROUP BY model ORDER BY model
    """).fetchall()


def metadata(rows: Sequence[PriceRow]) -> dict:
    """What a materialization reports: rows, models, rows per origin, the column schema and a preview."""
    origins: dict[str, int] = {}
    per_model: dict[str, int] = {}
    for row in rows:
        origins[row.origin] = origins.get(row.origin, 0) + 1
        per_model[row.model] = per_model.get(row.model, 0) + 1
    table = "\n".join(f"| {m} | {n} |" for m, n in sorted(per_model.items()))
    return {
        "dagster/row_count": len(rows),
        "dagster/column_schema": PRICE_BOOK.dagster_schema(),
        "rows": len(rows),
        "models": len([m for m in per_model if m != "*"]),
        **{f"origin/{name}": n for name, n in sorted(origins.items())},
        "preview": dg.MetadataValue.md(f"| model | rows |\n|---|---|\n{table}"),
    }

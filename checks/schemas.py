"""Pandera schemas of the frames the ingest assets stage before writing.

Staged frames carry money and instants as exact strings (DuckDB casts them on insert), so the
schemas check what matters there: presence, nullability, non-negative counts and amounts, USD.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pandas as pd
import pandera.pandas as pa

from claude_assets.warehouse.contract import Table


def _is_decimal(value: object) -> bool:
    try:
        Decimal(str(value))
    except (InvalidOperation, ValueError):
        return False
    return True


def non_negative_decimal(series: pd.Series) -> pd.Series:
    return series.map(
        lambda v: (
            v is None or (isinstance(v, float) and pd.isna(v)) or (_is_decimal(v) and Decimal(str(v)) >= 0)
        )
    )


def valid_decimal(series: pd.Series) -> pd.Series:
    return series.map(lambda v: v is None or (isinstance(v, float) and pd.isna(v)) or _is_decimal(v))


NON_NEGATIVE = pa.Check.ge(0, error="must not be negative")
NON_NEGATIVE_DECIMAL = pa.Check(
    non_negative_decimal, error="must be a non-negative decimal", element_wise=False
)
DECIMAL = pa.Check(valid_decimal, error="must be a decimal number", element_wise=False)
USD = pa.Check.isin(["USD"], error="currency must be USD")
ISO_DATE = pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$", error="must be YYYY-MM-DD")


def staged_schema(table: Table, checks: dict[str, list[pa.Check]] | None = None) -> pa.DataFrameSchema:
    """Every declared column present (no more, no less), NOT NULL columns filled, plus value checks."""
    checks = checks or {}
    columns = {
        c.name: pa.Column(nullable=c.nullable, checks=checks.get(c.name, []), coerce=False)
        for c in table.columns
    }
    return pa.DataFrameSchema(columns, strict=True, name=table.qualified)

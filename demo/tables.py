"""What the demo's summaries share: exact money to the cent, titled tables, and what the warehouse holds."""

from __future__ import annotations

from decimal import Decimal

import duckdb
from rich.table import Table


def usd(value: Decimal | None) -> str:
    """Exact Decimal to dollars and cents (half-even at the last cent, as Decimal formats)."""
    return f"${(value or Decimal(0)):,.2f}"


def table(title: str, *columns: str) -> Table:
    """A table titled on the left; a column named ``name>`` is right-aligned."""
    shown = Table(title=title, title_justify="left")
    for column in columns:
        shown.add_column(column.rstrip(">"), justify="right" if column.endswith(">") else "left")
    return shown


def has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
        ).fetchone()[0]
    )


def has_columns(con: duckdb.DuckDBPyConnection, qualified: str, columns: set[str]) -> bool:
    schema, name = qualified.split(".")
    found = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
    }
    return columns <= found

"""The table contract: a table is declared once, and its DDL, its Dagster column schema and (in
``checks.schemas``) its pandera schema all come from that declaration.

Asset keys are table names: ``Table("raw", "console_cost", ...)`` is asset ``["raw", "console_cost"]``
and DuckDB table ``raw.console_cost``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import dagster as dg

MONEY = "DECIMAL(38, 12)"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type
    description: str = ""
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    """A warehouse table: ``schema.name`` is also the asset key ``[schema, name]``."""

    schema: str
    name: str
    columns: tuple[Column, ...]
    grain: tuple[str, ...]  # the columns that identify a row (NULLs compare equal)
    description: str = ""
    money: tuple[str, ...] = field(default=())  # USD columns whose exact totals a materialization reports
    counts: tuple[str, ...] = field(default=())  # integer columns whose totals a materialization reports
    #: the rows whose sum is the table's total, for a table holding several groupings of the same facts
    totals_where: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey([self.schema, self.name])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self) -> str:
        cols = ",\n  ".join(f'"{c.name}" {c.type}{"" if c.nullable else " NOT NULL"}' for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.qualified} (\n  {cols}\n)"

    def dagster_schema(self) -> dg.TableSchema:
        return dg.TableSchema(
            columns=[
                dg.TableColumn(
                    c.name,
                    c.type,
                    description=c.description or None,
                    constraints=dg.TableColumnConstraints(nullable=c.nullable),
                )
                for c in self.columns
            ]
        )


def col(name: str, type_: str, description: str = "", nullable: bool = True) -> Column:
    return Column(name, type_, description, nullable)


ORG_ID = col("org_id", "VARCHAR", "organization slug (from the configuration)", False)
#: Every raw row says where it came from and keeps what it has no column for.
LINEAGE = (
    col("extra", "JSON", "fields the API returned that have no column (kept, never dropped)"),
    col("fetched_at", "TIMESTAMPTZ", "when the API answered", False),
    col("source_request", "VARCHAR", "the request that produced the row", False),
)


def cents_to_usd(cents: object) -> str | None:
    """The API's cents (decimal string or number) as an exact USD decimal string; None stays None."""
    return None if cents is None else str(Decimal(str(cents)).scaleb(-2))

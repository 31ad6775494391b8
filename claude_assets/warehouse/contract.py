"""The table contract: a table is declared once, and its DDL, its Dagster column schema and (in
``checks.schemas``) its pandera schema all come from that declaration.

Asset keys are table names: ``Table("raw", "console_cost", ...)`` is asset ``["raw", "console_cost"]``
and DuckDB table ``raw.console_cost``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import dagster as dg

MONEY = "DECIMAL(38, 12)"

#: the kinds of personal data a column can hold (``Column.personal``); docs/privacy.md is generated from the marks
EMAIL, PERSON_NAME, USER_ID = "email", "name", "user id"
PERSONAL_KINDS = (EMAIL, PERSON_NAME, USER_ID)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type
    description: str = ""
    nullable: bool = True
    #: the personal data the column can hold (one of ``PERSONAL_KINDS``), or None
    personal: str | None = None

    def __post_init__(self) -> None:
        if self.personal is not None and self.personal not in PERSONAL_KINDS:
            raise ValueError(f"column {self.name}: personal={self.personal!r} is not one of {PERSONAL_KINDS}")


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

    @property
    def personal_columns(self) -> tuple[Column, ...]:
        """The columns that can hold personal data (marked ``personal``)."""
        return tuple(c for c in self.columns if c.personal)

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


def col(
    name: str, type_: str, description: str = "", nullable: bool = True, *, personal: str | None = None
) -> Column:
    return Column(name, type_, description, nullable, personal)


ORG_ID = col("org_id", "VARCHAR", "organization slug (from the configuration)", False)
#: Every raw row says where it came from and keeps what it has no column for.
LINEAGE = (
    col("extra", "JSON", "fields the API returned that have no column (kept, never dropped)"),
    col("fetched_at", "TIMESTAMPTZ", "when the API answered", False),
    col("source_request", "VARCHAR", "the request that produced the row", False),
)


class BadValue(ValueError):
    """A value the API sent that its column cannot hold as it is (a money field that is not a decimal number,
    an integer with a fraction...). ``where`` names the answer it came in, once known (see
    ``claude_assets.ingest.staging.values_of``)."""

    def __init__(self, field: str, value: object, expected: str, where: str = "") -> None:
        self.field, self.value, self.expected, self.where = field, value, expected, where
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        super().__init__(
            f"{where + ': ' if where else ''}field {field} = {shown} is not {expected}. Nothing of this "
            "window was written. The API sent a value the warehouse cannot store exactly: re-run the window; "
            "if it persists, report the request to Anthropic."
        )

    def at(self, where: str) -> BadValue:
        return BadValue(self.field, self.value, self.expected, where)


#: the most a MONEY column holds: 38 digits, 12 of them after the point
_MONEY_LIMIT = Decimal(10) ** 26
_MONEY_SCALE = 12


def cents_to_usd(cents: object, field: str = "amount") -> str | None:
    """The API's cents (decimal string or number) as an exact USD decimal string; None stays None.

    Anything else (``"12.3.4"``, ``""``, ``"NaN"``, ``"1e400"``, a boolean, more digits than the MONEY type
    holds) raises ``BadValue`` naming ``field`` and the value."""
    if cents is None:
        return None
    expected = f"a decimal number of cents that fits {MONEY} once in USD"
    if isinstance(cents, bool) or not isinstance(cents, str | int | float | Decimal):
        raise BadValue(field, cents, expected)
    try:
        usd = Decimal(str(cents)).scaleb(-2)
    except InvalidOperation:
        raise BadValue(field, cents, expected) from None
    if not usd.is_finite() or abs(usd) >= _MONEY_LIMIT or usd.normalize().as_tuple().exponent < -_MONEY_SCALE:
        raise BadValue(field, cents, expected)
    return str(usd)

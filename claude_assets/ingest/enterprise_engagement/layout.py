"""Wire layout -> columns: a record's fields (dotted paths), their columns, and a record staged as a row."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from claude_assets.warehouse.contract import BadValue, Column, cents_to_usd
from claude_assets.warehouse.contract import col as _c

_SKIP_PARTS = {"core_metrics", "tool_actions"}


def column_name(path: str) -> str:
    """``claude_code_metrics.core_metrics.lines_of_code.added_count`` -> ``claude_code_lines_of_code_added_count``."""
    return "_".join(p.removesuffix("_metrics") for p in path.split(".") if p not in _SKIP_PARTS)


@dataclass(frozen=True)
class Field:
    """One wire leaf (dotted path) and its column; ``kind`` says how the value is staged."""

    path: str
    column: Column
    kind: str = "int"  # int | text | float | money | bool | date | instant


def int_field(path: str, description: str = "", nullable: bool = True, column: str | None = None) -> Field:
    """An integer leaf; its column is named after the path (``column_name``) unless ``column`` is given."""
    return Field(path, _c(column or column_name(path), "BIGINT", description, nullable), "int")


def text_field(
    path: str,
    description: str = "",
    nullable: bool = True,
    column: str | None = None,
    *,
    personal: str | None = None,
) -> Field:
    """A text leaf; its column is named after the path (``column_name``) unless ``column`` is given; ``personal``
    marks the personal data it can hold (``claude_assets.warehouse.contract.PERSONAL_KINDS``)."""
    return Field(
        path, _c(column or column_name(path), "VARCHAR", description, nullable, personal=personal), "text"
    )


@dataclass(frozen=True)
class Layout:
    """A record's fields; what the API sends beyond them goes to ``extra``."""

    fields: tuple[Field, ...]
    null_ok: tuple[str, ...] = ()  # known fields that are null for our request shape: dropped when null

    @property
    def by_path(self) -> dict[str, Field]:
        return {f.path: f for f in self.fields}

    @property
    def blocks(self) -> frozenset[str]:
        """Every object path above a field: a null block means all its columns are null (not extra)."""
        out = set()
        for f in self.fields:
            parts = f.path.split(".")
            out.update(".".join(parts[:i]) for i in range(1, len(parts)))
        return frozenset(out)

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(f.column for f in self.fields)


def flatten(record: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    """(dotted path, value) of every leaf; a null or empty object is a leaf of its own."""
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from flatten(value, f"{path}.")
        else:
            yield path, value


def _json_default(value: object) -> object:
    # the client parses JSON floats as Decimal; write them back as JSON numbers
    return float(value) if isinstance(value, Decimal) else str(value)


def _stage(field: Field, value: object) -> object:
    if value is None:
        return None
    kind = field.kind
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | Decimal | float | str):
            raise BadValue(field.path, value, "an integer")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise BadValue(field.path, value, "an integer") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise BadValue(field.path, value, "an integer")
        return int(number)
    if kind == "money":
        return cents_to_usd(value, field.path)
    if kind == "bool":
        if not isinstance(value, bool):
            raise BadValue(field.path, value, "true or false")
        return value
    return str(value)  # text, float (exact decimal literal, cast by DuckDB), date, instant


def parse_record(record: dict, layout: Layout) -> tuple[dict[str, object], str | None]:
    """(column -> staged value, extra JSON) of one API record."""
    by_path, blocks = layout.by_path, layout.blocks
    out: dict[str, object] = {f.column.name: None for f in layout.fields}
    extra: dict[str, object] = {}
    for path, value in flatten(record):
        field = by_path.get(path)
        if field is not None:
            out[field.column.name] = _stage(field, value)
        elif (value is None and (path in blocks or path in layout.null_ok)) or (
            value == {} and path in blocks
        ):
            continue  # a null (or empty) block: its columns stay null
        else:
            extra[path] = value
    text = json.dumps(extra, sort_keys=True, default=_json_default) if extra else None
    return out, text

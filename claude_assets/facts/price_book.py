"""The price book: the project's list-price data file plus a user's override file, validated row by row
and written to ``facts.price_book``.

The data file (``price_book.csv`` beside this module) holds one row per published fact, with columns

    model, token_type, condition, usd_per_unit, unit, multiplier, effective_from, derived, source, note

* ``model``: an API model id stem (``claude-sonnet-4-5``; a model id matches the longest stem it starts
  with) or ``*`` (any model: web search, code execution, the batch discount).
* ``token_type``: a ``facts.usage`` token type (``TOKEN_TYPES``); multiplier rows may use a glob over
  them (``*_tokens``: every token type; ``*_input_tokens``: the input side).
* ``condition``: empty for a base price; else ``key=value``. The keys ``service_tier``,
  ``context_window``, ``inference_geo`` and ``speed`` are usage dimensions: such a row carries a
  ``multiplier`` applied when the usage row has that value. ``prompt_tokens=over-100k`` (Claude Haiku
  5.5's long-prompt tier) carries an alternative ``usd_per_unit`` that is recorded but never applied:
  the usage and cost reports do not give a request's prompt size, so the at-most-100k price (the base
  row) is the one used, and the long-prompt rows document what such requests really cost.
* ``usd_per_unit`` with ``unit``: ``MTok`` (per million tokens), ``1K searches`` (per 1,000 web
  searches), ``container-hour`` (code execution; the quantity priced is in millionths of an hour).
  At most 6 decimals. ``multiplier``: at most 2 decimals, below 100.
* ``effective_from``: the first usage day the row applies to; the next ``effective_from`` of the same
  model, token type and condition ends it. Rows without a known start use 2024-01-01 (the list as
  published in 2026, before any day the APIs report).
* ``derived``: ``true`` for a figure computed from published ratios (Opus 5.5's cache columns).

An override file (``price_book_file`` in the YAML configuration) has the same columns: a row with the
model, token type, condition and effective_from of a default row replaces it; any other row is added.
Every problem is reported as ``file:line: field: message``.
"""

from __future__ import annotations

import csv
import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb

from claude_assets.facts.tables import PRICE_BOOK
from claude_assets.warehouse.contract import Table

DEFAULT_FILE = Path(__file__).with_name("price_book.csv")
DEFAULT_ORIGIN = "default"
ALL_ORGANIZATIONS = "*"  # the org_id of every row: list prices are the same for every organization
COLUMNS = (
    "model",
    "token_type",
    "condition",
    "usd_per_unit",
    "unit",
    "multiplier",
    "effective_from",
    "derived",
    "source",
    "note",
)
#: the token types the price book prices: the cost report's token types (the facts layer's vocabulary), web
#: searches and code execution hours
TOKEN_TYPES = (
    "uncached_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "web_search_requests",
    "code_execution_hours",
)
#: unit -> (quantity units in one price unit, the token types it prices)
UNITS = {
    "MTok": (1_000_000, TOKEN_TYPES[:5]),
    "1K searches": (1_000, ("web_search_requests",)),
    "container-hour": (1_000_000, ("code_execution_hours",)),
}
#: condition keys that are usage dimensions (a multiplier applies when the usage row has the value)
DIMENSION_KEYS = ("service_tier", "context_window", "inference_geo", "speed")
#: condition keys the reports cannot tell per row: their rows are recorded, never applied
UNAPPLIED_KEYS = ("prompt_tokens",)
_MODEL = re.compile(r"^(\*|[a-z0-9][a-z0-9.-]*)$")
_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PriceBookError(ValueError):
    """A price book file is invalid; the message names the file, line and field of each problem."""


@dataclass(frozen=True)
class PriceRow:
    """One row of a price book file, validated; prices and multipliers as exact decimal strings."""

    model: str
    token_type: str
    condition: str
    usd_per_unit: str | None
    unit: str | None
    multiplier: str | None
    effective_from: date
    derived: bool
    source: str
    note: str | None
    origin: str
    line: int

    @property
    def key(self) -> tuple[str, str, str, date]:
        return (self.model, self.token_type, self.condition, self.effective_from)

    @property
    def units_per_price(self) -> int | None:
        return UNITS[self.unit][0] if self.unit else None


def _decimal(text: str, places: int, below: Decimal | None = None) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{text!r} must be a non-negative number")
    if -value.as_tuple().exponent > places:
        raise ValueError(f"{text!r} has more than {places} decimals")
    if below is not None and value >= below:
        raise ValueError(f"{text!r} must be below {below}")
    return text


def token_types(pattern: str) -> list[str]:
    return [t for t in TOKEN_TYPES if fnmatch.fnmatchcase(t, pattern)]


def _check_row(raw: dict[str, str]) -> dict[str, object]:
    """The row's typed values; raises ``ValueError('field: message')`` at the first bad field."""

    def bad(field: str, message: str) -> ValueError:
        return ValueError(f"{field}: {message}")

    model, token_type, condition = raw["model"], raw["token_type"], raw["condition"]
    price, unit, multiplier = raw["usd_per_unit"], raw["unit"], raw["multiplier"]
    if not _MODEL.match(model):
        raise bad("model", f"{model!r} is not a model id stem (lower case, e.g. claude-sonnet-4-5) or *")
    if condition:
        key, _, value = condition.partition("=")
        if key not in DIMENSION_KEYS + UNAPPLIED_KEYS or not _VALUE.match(value):
            raise bad(
                "condition",
                f"{condition!r} must be key=value with key one of {', '.join(DIMENSION_KEYS + UNAPPLIED_KEYS)}",
            )
    matched = token_types(token_type)
    is_multiplier = condition.partition("=")[0] in DIMENSION_KEYS
    if not matched or ("*" in token_type and not is_multiplier):
        raise bad(
            "token_type",
            f"{token_type!r} must be one of {', '.join(TOKEN_TYPES)}"
            + (" (or a glob over them, e.g. *_tokens)" if is_multiplier else ""),
        )
    if is_multiplier:
        if price or unit:
            raise bad("usd_per_unit", "a row with a usage condition carries a multiplier, not a price")
        if not multiplier:
            raise bad("multiplier", f"required with the condition {condition!r}")
        try:
            _decimal(multiplier, 2, Decimal(100))
        except ValueError as exc:
            raise bad("multiplier", str(exc)) from None
    else:
        if multiplier:
            raise bad("multiplier", "only a row with a usage condition (e.g. service_tier=batch) has one")
        if not price:
            raise bad("usd_per_unit", "required (a price is never implied: leave the row out instead)")
        try:
            _decimal(price, 6, Decimal(1_000_000))
        except ValueError as exc:
            raise bad("usd_per_unit", str(exc)) from None
        if unit not in UNITS:
            raise bad("unit", f"{unit!r} must be one of {', '.join(UNITS)}")
        if token_type not in UNITS[unit][1]:
            raise bad("unit", f"{unit!r} does not price {token_type}")
    try:
        effective_from = date.fromisoformat(raw["effective_from"])
    except ValueError:
        raise bad("effective_from", f"{raw['effective_from']!r} is not a date (YYYY-MM-DD)") from None
    if raw["derived"] not in ("true", "false"):
        raise bad("derived", f"{raw['derived']!r} must be true or false")
    if not raw["source"].strip():
        raise bad("source", "required: the page the price comes from")
    return {
        "model": model,
        "token_type": token_type,
        "condition": condition,
        "usd_per_unit": price or None,
        "unit": unit or None,
        "multiplier": multiplier or None,
        "effective_from": effective_from,
        "derived": raw["derived"] == "true",
        "source": raw["source"].strip(),
        "note": raw["note"].strip() or None,
    }


def read_file(path: str | Path, origin: str) -> list[PriceRow]:
    """The validated rows of one price book CSV; every problem is reported as ``file:line: field: ...``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PriceBookError(f"{path}: cannot read the price book file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PriceBookError(f"{path}:1: (file): not a UTF-8 text file") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise PriceBookError(f"{path}:1: (header): the columns must be {','.join(COLUMNS)}")
    rows: list[PriceRow] = []
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(COLUMNS):
            problems.append(f"{path}:{line}: (row): {len(values)} fields, expected {len(COLUMNS)}")
            continue
        try:
            fields = _check_row({c: v.strip() for c, v in zip(COLUMNS, values, strict=True)})
        except ValueError as exc:
            problems.append(f"{path}:{line}: {exc}")
            continue
        row = PriceRow(**fields, origin=origin, line=line)
        if row.key in seen:
            problems.append(
                f"{path}:{line}: effective_from: the same model, token_type, condition and effective_from "
                f"as line {seen[row.key]}"
            )
            continue
        seen[row.key] = line
        rows.append(row)
    if problems:
        raise PriceBookError("invalid price book:\n  " + "\n  ".join(problems))
    return rows


def merged_rows(override_file: str | Path | None = None) -> list[PriceRow]:
    """The default rows, with the override file's rows replacing those of the same key and adding the rest."""
    rows = {row.key: row for row in read_file(DEFAULT_FILE, DEFAULT_ORIGIN)}
    if override_file is not None:
        for row in read_file(override_file, Path(override_file).name):
            rows[row.key] = row
    return sorted(rows.values(), key=lambda r: (r.model, r.token_type, r.condition, r.effective_from))


def write(con: duckdb.DuckDBPyConnection, rows: Sequence[PriceRow], table: Table = PRICE_BOOK) -> int:
    """Replace ``facts.price_book`` with ``rows`` in one transaction; ``effective_to`` is computed here."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.schema}")
        con.execute(f"DROP TABLE IF EXISTS {table.qualified}")
        con.execute(table.ddl())
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE price_book_staged AS SELECT * FROM {table.qualified} LIMIT 0"
        )
        con.executemany(
            "INSERT INTO price_book_staged (org_id, model, token_type, condition, usd_per_unit, unit, units_per_price, "
            "multiplier, effective_from, derived, source, note, origin) "
            f"VALUES ('{ALL_ORGANIZATIONS}', ?, ?, ?, CAST(? AS DECIMAL(18, 6)), ?, ?, CAST(? AS DECIMAL(4, 2)), ?, ?, ?, ?, ?)",
            [
                (
                    r.model,
                    r.token_type,
                    r.condition,
                    r.usd_per_unit,
                    r.unit,
                    r.units_per_price,
                    r.multiplier,
                    r.effective_from,
                    r.derived,
                    r.source,
                    r.note,
                    r.origin,
                )
                for r in rows
            ],
        )
        con.execute(_insert_with_effective_to(table))
        con.execute("DROP TABLE price_book_staged")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(rows)


def _insert_with_effective_to(table: Table) -> str:
    """Each row ends the day before the next effective_from of the same model, token type and condition."""
    names = ", ".join(f'"{c}"' for c in table.column_names)
    return f"""
        INSERT INTO {table.qualified} ({names})
        SELECT * REPLACE (
            CAST(lead(effective_from) OVER (
                PARTITION BY model, token_type, condition ORDER BY effective_from
            ) - INTERVAL 1 DAY AS DATE) AS effective_to
        )
        FROM price_book_staged
        ORDER BY model, token_type, condition, effective_from
    """

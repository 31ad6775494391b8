"""SQL helpers: statements in ``sql/*.sql`` files beside the module that runs them, day-range conditions, and
whether a table exists yet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path


def sql_file(module_file: str, name: str) -> str:
    """The text of ``sql/<name>.sql`` beside the module whose ``__file__`` is ``module_file``."""
    return (Path(module_file).parent / "sql" / f"{name}.sql").read_text(encoding="utf-8")


def in_day_ranges(ranges: Sequence[tuple[date, date]], column: str = "usage_date") -> tuple[str, list]:
    """A parenthesised condition true for the days of ``ranges`` (each ``[start, end)``), and its parameters;
    with no range, a condition that is never true."""
    if not ranges:
        return "(FALSE)", []
    where = " OR ".join(f"({column} >= ? AND {column} < ?)" for _ in ranges)
    return f"({where})", [d for day_range in ranges for d in day_range]


def table_exists(con, qualified: str) -> bool:
    """Whether the table ``schema.name`` exists in the connection's database (a layer not written yet)."""
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )

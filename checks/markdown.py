"""Rows shown in a check's metadata as a markdown table, values as exact text (decimals never become floats).

A failed check shows the rows it failed on (``failing_rows``, at most ``FAILING_ROWS``), so a person sees
what is wrong from the check's page, without a query."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import pandas as pd

#: the most failing rows a check shows in its metadata
FAILING_ROWS = 20


def rows_table(rows: Sequence[Sequence], names: Sequence[str]) -> str:
    """A markdown table of ``rows`` under the headers ``names``; ``(none)`` when there is no row."""
    if not rows:
        return "(none)"
    head = "| " + " | ".join(names) + " |\n|" + "---|" * len(names) + "\n"
    return head + "\n".join("| " + " | ".join("" if v is None else str(v) for v in r) + " |" for r in rows)


def failing_rows(con, sql: str, params: Sequence = ()) -> dg.MetadataValue:
    """The first ``FAILING_ROWS`` rows of ``sql`` (the rows a check failed on), as a markdown table."""
    cursor = con.execute(f"SELECT * FROM ({sql}) LIMIT {FAILING_ROWS}", list(params))
    names = [d[0] for d in cursor.description]
    return dg.MetadataValue.md(rows_table(cursor.fetchall(), names))


def schema_failures(failures: pd.DataFrame) -> dg.MetadataValue:
    """Pandera's failure cases (column, check, value, row index), the first ``FAILING_ROWS``."""
    shown = [c for c in ("index", "column", "check", "failure_case") if c in failures.columns]
    rows = failures.head(FAILING_ROWS)[shown].astype(object).itertuples(index=False)
    return dg.MetadataValue.md(rows_table(list(rows), shown))

"""Compact staging of a window's rows between the API's pages and the pandas frame that is validated and written.

A page's JSON is turned into rows as soon as it arrives and then dropped, so a window never holds
its JSON; rows are tuples in column order with repeated strings stored once (org, product, model,
request, timestamps...), which keeps a large per-user window small.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pandas as pd

from claude_assets.warehouse.contract import BadValue, Table


class RowBuffer:
    """Rows of one table, staged in column order. ``mark``/``truncate`` drop the rows of a query that restarts."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.names = table.column_names
        self.rows: list[tuple] = []
        self._strings: dict[str, str] = {}

    def add(self, row: dict) -> None:
        """Stage one row (a dict by column name; missing columns are null)."""
        shared = self._strings
        self.rows.append(
            tuple(
                shared.setdefault(v, v) if isinstance(v, str) else v for v in (row.get(n) for n in self.names)
            )
        )

    def mark(self) -> int:
        return len(self.rows)

    def truncate(self, mark: int) -> None:
        """Drop the rows staged since ``mark`` (a query restarting from its first page)."""
        del self.rows[mark:]

    def frame(self) -> pd.DataFrame:
        """The staged rows as a frame (the buffer is emptied): counts as exact nullable integers, the rest as objects."""
        rows, self.rows, self._strings = self.rows, [], {}
        data = {}
        for i, c in enumerate(self.table.columns):
            # no inference: an int next to a None never becomes a float
            series = pd.Series([r[i] for r in rows], dtype=object)
            if c.type == "BIGINT":
                with suppress(
                    TypeError, ValueError
                ):  # exact nullable integers (else the schema and cast report it)
                    series = series.astype("Int64")
            data[c.name] = series
        return pd.DataFrame(data, columns=self.names)


@contextmanager
def values_of(table: Table, request: str, org_id: str, day: object) -> Iterator[None]:
    """Name the table, request, organization and day in a ``BadValue`` raised while one record's values
    are read (e.g. a money field that is not a decimal number)."""
    try:
        yield
    except BadValue as exc:
        if exc.where:
            raise
        raise exc.at(f"{table.qualified}: {request}: organization {org_id}, day {str(day)[:10]}") from None

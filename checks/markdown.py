"""Rows shown in a check's metadata as a markdown table, values as exact text (decimals never become floats)."""

from __future__ import annotations

from collections.abc import Sequence


def rows_table(rows: Sequence[Sequence], names: Sequence[str]) -> str:
    """A markdown table of ``rows`` under the headers ``names``; ``(none)`` when there is no row."""
    if not rows:
        return "(none)"
    head = "| " + " | ".join(names) + " |\n|" + "---|" * len(names) + "\n"
    return head + "\n".join("| " + " | ".join("" if v is None else str(v) for v in r) + " |" for r in rows)

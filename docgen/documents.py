"""Every generated document: its path under the repository and the function that renders it.

A new generated document is a module of ``docgen`` with a ``render() -> str`` and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docgen import configuration, data_dictionary, privacy

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Document:
    path: str  # relative to the repository root
    render: Callable[[], str]


DOCUMENTS = (
    Document("docs/data-dictionary.md", data_dictionary.render),
    Document("docs/configuration.md", configuration.render),
    Document("docs/privacy.md", privacy.render),
)


def stale(root: Path = ROOT) -> list[str]:
    """The documents whose committed file differs from what the code renders (missing ones included)."""
    out = []
    for doc in DOCUMENTS:
        path = root / doc.path
        if not path.is_file() or path.read_text() != doc.render():
            out.append(doc.path)
    return out

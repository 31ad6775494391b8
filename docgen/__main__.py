"""``python -m docgen``: write every generated document of ``docs/``; ``--check``: only say which are stale."""

from __future__ import annotations

import argparse
import sys

from docgen.documents import DOCUMENTS, ROOT, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docgen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a document is stale")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for path in out_of_date:
            print(f"{path} is out of date: run python -m docgen", file=sys.stderr)
        return 1 if out_of_date else 0
    for doc in DOCUMENTS:
        path = ROOT / doc.path
        text = doc.render()
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {doc.path}")
        else:
            print(f"{doc.path} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())

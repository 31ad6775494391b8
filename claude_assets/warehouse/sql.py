"""SQL lives in ``.sql`` files in a ``sql/`` folder beside the module that runs it."""

from pathlib import Path


def sql_file(module_file: str, name: str) -> str:
    """The text of ``sql/<name>.sql`` beside the module whose ``__file__`` is ``module_file``."""
    return (Path(module_file).parent / "sql" / f"{name}.sql").read_text(encoding="utf-8")

"""Before an asset sends its first request: can this process write the warehouse?

A run that fetches for minutes and then cannot write has spent the organization's rate limit for
nothing, and says so late. ``check_writable`` opens the warehouse for writing and commits a write
that leaves nothing behind (DuckDB writes its ``.wal`` file beside the database at that moment), so
a read-only file, a directory this process may not write or create, or a write lock another process
holds is found before any request, with what to do.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

_PROBE = "_claude_assets_write_probe"
_LOCKED = ("Could not set lock", "Conflicting lock")


class WarehouseNotWritable(dg.Failure):
    """The warehouse cannot be written by this process; nothing was requested from the API."""

    def __init__(self, description: str) -> None:
        super().__init__(description=description)


def check_writable(resource: DuckDBResource) -> None:
    """Raise ``WarehouseNotWritable`` unless this process can write the resource's database file.

    A write lock held by another process is waited for as every write of the run would, then reported."""
    database = str(resource.database)
    if database in ("", ":memory:") or re.match(r"[A-Za-z][A-Za-z0-9+.-]+:", database):
        return  # nothing on this machine's disk to check
    path = Path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _refusal(path, f"its directory {path.parent} cannot be created ({exc.strerror})") from None
    try:
        # the configuration DuckDBResource connects with: a connection of this process to the same file
        # under another configuration would be refused
        config = {"custom_user_agent": "dagster", **resource.connection_config}
        con = _connect_waiting_for_lock(database, config)
        try:
            _write_nothing(con)
        finally:
            con.close()
    except duckdb.Error as exc:
        raise _refusal(path, _reason(path, exc)) from None


#: how many times a write lock held by another process is waited for, 0.1 s then doubling (about 100 s in
#: all, as long as ``DuckDBResource.get_connection`` waits before each write of the run)
LOCK_RETRIES = 10


def _connect_waiting_for_lock(database: str, config: dict) -> duckdb.DuckDBPyConnection:
    delay = 0.1
    for attempt in range(LOCK_RETRIES + 1):
        try:
            return duckdb.connect(database, read_only=False, config=config)
        except duckdb.Error as exc:
            if attempt == LOCK_RETRIES or not any(marker in str(exc) for marker in _LOCKED):
                raise
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


def _write_nothing(con: duckdb.DuckDBPyConnection) -> None:
    """Commit a table's creation and removal: the smallest write that reaches the file and its WAL."""
    con.execute(
        f"BEGIN TRANSACTION; CREATE TABLE main.{_PROBE} (x INTEGER); DROP TABLE main.{_PROBE}; COMMIT"
    )


def _reason(path: Path, exc: duckdb.Error) -> str:
    said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if any(marker in said for marker in _LOCKED):
        return (
            f"another process holds its write lock ({said}). Stop that process (a DuckDB shell, a notebook or "
            "another run with the file open) or wait for it to finish"
        )
    denied = "Permission denied" in said or "Read-only" in said
    if denied and (".wal" in said or not path.exists()):
        created = f"{path.name}.wal" if ".wal" in said else path.name
        return (
            f"its directory {path.parent} is not writable, and DuckDB creates {created} there ({said}). "
            "Make the directory writable"
        )
    if denied:
        return f"the file is read-only for this process ({said}). Make it writable (chmod u+w)"
    return f"DuckDB cannot write it ({said}). Fix the path or the file"


def _refusal(path: Path, reason: str) -> WarehouseNotWritable:
    return WarehouseNotWritable(
        f"the warehouse {path} cannot be written: {reason}, or point CLAUDE_ASSETS_WAREHOUSE at a writable "
        "file. Nothing was requested from the API."
    )

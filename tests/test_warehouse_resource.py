"""The warehouse resource closes its connection (and releases the file's write lock) when a write fails."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from claude_assets.config import load_config
from claude_assets.definitions import build_definitions
from claude_assets.warehouse.resource import Warehouse


def _fail_inside(resource: Warehouse) -> duckdb.DuckDBPyConnection:
    with pytest.raises(RuntimeError, match="refused"), resource.get_connection() as con:
        kept = con
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
        raise RuntimeError("refused")
    return kept


def test_a_failed_write_closes_its_connection(tmp_path):
    kept = _fail_inside(Warehouse(database=str(tmp_path / "w.duckdb")))
    with pytest.raises(duckdb.ConnectionException):
        kept.execute("SELECT 1")


def test_another_process_can_write_right_after_a_failed_write(tmp_path):
    path = tmp_path / "w.duckdb"
    kept = _fail_inside(Warehouse(database=str(path)))
    # the failed block's connection is still referenced here, as a traceback would keep it
    writer = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('CREATE TABLE u AS SELECT 2 AS y')"
    done = subprocess.run(
        [sys.executable, "-c", writer, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert kept is not None


def test_the_code_location_uses_it(tmp_path):
    defs = build_definitions(load_config({}), str(tmp_path / "w.duckdb"))
    assert isinstance(defs.resources["duckdb"], Warehouse)

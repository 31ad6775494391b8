"""A warehouse the run cannot write (read-only file or directory, a directory it cannot create, a write lock
another process holds) fails the raw and inventory assets before they send a single request."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from simulator.faults import FaultPlan
from simulator.serve import serve_in_thread
from tests.conftest import make_sim
from tests.preflight_run import runs
from tests.test_e2e_console import ORGS, key_env

ROOT = Path(__file__).resolve().parent.parent
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3


class CountingRequests(FaultPlan):
    """No fault; counts the API requests that reach an endpoint (after the key and the rate limit)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    def draw(self, has_cursor: bool) -> str | None:
        with self._lock:
            self.requests += 1
        return None


def _without_permission_override() -> None:
    """In the child, before exec: root keeps its uid but loses the capabilities that ignore file
    permissions, so a read-only file is read-only for it as for any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _write_a_table(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE kept AS SELECT 1 AS x")


@pytest.fixture
def sim():
    return make_sim(faults=CountingRequests())


@pytest.mark.bad_input
def test_an_unwritable_warehouse_fails_each_ingest_asset_before_any_request(sim, tmp_path):
    read_only_file = tmp_path / "file" / "warehouse.duckdb"
    read_only_file.parent.mkdir()
    _write_a_table(read_only_file)
    read_only_file.chmod(0o444)
    read_only_dir = tmp_path / "dir" / "warehouse.duckdb"  # the file is writable; its .wal cannot be created
    read_only_dir.parent.mkdir()
    _write_a_table(read_only_dir)
    read_only_dir.parent.chmod(0o555)
    empty_read_only_dir = tmp_path / "empty" / "warehouse.duckdb"
    empty_read_only_dir.parent.mkdir()
    empty_read_only_dir.parent.chmod(0o555)
    (tmp_path / "a-file").write_text("not a directory")
    no_directory = tmp_path / "a-file" / "data" / "warehouse.duckdb"
    locked = tmp_path / "locked" / "warehouse.duckdb"
    locked.parent.mkdir()
    expected = {
        read_only_file: "the file is read-only for this process",
        read_only_dir: f"its directory {read_only_dir.parent} is not writable, and DuckDB creates warehouse.duckdb.wal there",
        empty_read_only_dir: f"its directory {empty_read_only_dir.parent} is not writable, and DuckDB creates "
        "warehouse.duckdb there",
        no_directory: f"its directory {no_directory.parent} cannot be created (Not a directory)",
        locked: "another process holds its write lock",
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.update({key_env(s): sim.world.by_slug(s).api_key for s in ORGS})
    with serve_in_thread(sim) as server, duckdb.connect(str(locked)):  # this process holds the lock
        child = subprocess.run(
            [sys.executable, "-m", "tests.preflight_run", server.base_url, *map(str, expected)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            preexec_fn=_without_permission_override if os.geteuid() == 0 else None,
        )
    assert child.returncode == 0, child.stderr[-3000:]
    results = [json.loads(line) for line in child.stdout.splitlines()]
    assert len(results) == 2 * len(expected)
    for r in results:
        reason = expected[Path(r["warehouse"])]
        assert not r["success"], r
        assert f"the warehouse {r['warehouse']} cannot be written: {reason}" in r["failure"], r
        assert "Nothing was requested from the API" in r["failure"], r
    assert sim.faults.requests == 0
    assert read_only_file.stat().st_mode & 0o777 == 0o444  # nothing was changed to make it work


def test_a_writable_warehouse_is_read_into_and_counted(sim, tmp_path, monkeypatch):
    for slug in ORGS:
        monkeypatch.setenv(key_env(slug), sim.world.by_slug(slug).api_key)
    with serve_in_thread(sim) as server:
        results = runs(server.base_url, str(tmp_path / "new" / "warehouse.duckdb"))
    assert [r["success"] for r in results] == [True, True], results
    assert sim.faults.requests > 0
    with duckdb.connect(str(tmp_path / "new" / "warehouse.duckdb"), read_only=True) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "console_cost" in tables and "_claude_assets_write_probe" not in tables

"""One writer, many runs: in the Dagster instance of the demo (``demo.settings``), two runs that write the same
DuckDB file at the same time both succeed, the second waiting for the warehouse pool rather than failing on
the file's lock; and every asset of the code location is in that pool."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb

from claude_assets.asset_defaults import WAREHOUSE_POOL
from claude_assets.definitions import build_definitions
from demo import settings as demo_config

ROOT = Path(__file__).resolve().parent.parent
#: a run writing the warehouse through the project's resource, holding the file's write lock until the
#: release file exists
WRITER_RUN = """
import sys, time
from pathlib import Path
import dagster as dg
from claude_assets.asset_defaults import WAREHOUSE_POOL
from claude_assets.warehouse.resource import Warehouse

warehouse, name = sys.argv[1], sys.argv[2]

@dg.asset(pool=WAREHOUSE_POOL)
def held_write(duckdb: Warehouse):
    with duckdb.get_connection() as con:
        started = time.time()
        print("holding", flush=True)
        release = Path(sys.argv[3])
        while not release.exists() and time.time() - started < 300:
            time.sleep(0.05)
        con.execute("CREATE TABLE IF NOT EXISTS writes (name TEXT, started DOUBLE, ended DOUBLE)")
        con.execute("INSERT INTO writes VALUES (?, ?, ?)", [name, started, time.time()])

with dg.DagsterInstance.get() as instance:
    result = dg.materialize(
        [held_write], instance=instance, resources={"duckdb": Warehouse(database=warehouse)},
        tags={"writer": name}, raise_on_error=False,
    )
sys.exit(0 if result.success else 1)
"""


def test_two_runs_writing_the_warehouse_at_once_both_succeed_one_after_the_other(tmp_path):
    home = demo_config.prepare_dagster_home(tmp_path / "dagster_home")
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    release = tmp_path / "release"

    def writer(name: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", WRITER_RUN, str(warehouse), name, str(release)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    first = writer("first")
    seen = []
    for line in first.stdout:  # the second starts once the first holds the pool and the file
        seen.append(line)
        if line.strip() == "holding":
            break
    else:
        raise AssertionError("".join(seen)[-3000:])
    second = writer("second")
    try:
        waited = _wait_for_a_blocked_run(home, "second", timeout=180)
    finally:
        release.touch()
    writers = [first, second]
    outputs = ["".join(seen) + first.communicate(timeout=180)[0], second.communicate(timeout=180)[0]]
    assert waited, "the second run was never seen waiting for the warehouse pool\n" + outputs[1][-3000:]
    assert [w.returncode for w in writers] == [0, 0], "\n".join(o[-3000:] for o in outputs)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        (_, first_ended), (second_started, _) = con.execute(
            "SELECT started, ended FROM writes ORDER BY started"
        ).fetchall()
    assert (
        second_started >= first_ended
    )  # the two writes did not overlap: the second began once the first had finished

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags["writer"] for r in runs) == ["first", "second"]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        blocked = _blocked_writers(instance)
    assert blocked == ["second"]  # the second run waited for the pool, the first never had to


def _blocked_writers(instance: dg.DagsterInstance) -> list[str]:
    return [
        r.tags["writer"]
        for r in instance.get_runs()
        if any(
            f"blocked by limit for pool {WAREHOUSE_POOL}" in (e.message or "")
            for e in instance.all_logs(r.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
        )
    ]


def _wait_for_a_blocked_run(home: Path, writer: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with dg.DagsterInstance.from_config(str(home)) as instance:
        while time.monotonic() < deadline:
            if writer in _blocked_writers(instance):
                return True
            time.sleep(0.2)
    return False


def test_every_asset_writing_the_warehouse_is_in_its_pool():
    defs = build_definitions(demo_config.project_config())
    graph = defs.resolve_asset_graph()
    # executable assets only: a dependency declared on an asset defined elsewhere writes nothing here
    nodes = {defs.resolve_assets_def(k).node_def for k in graph.executable_asset_keys}
    assert nodes
    assert {n.name: n.pool for n in nodes} == {n.name: WAREHOUSE_POOL for n in nodes}


def test_a_run_killed_while_holding_the_pool_gives_its_slot_back_when_the_demo_starts_again(tmp_path):
    home = demo_config.prepare_dagster_home(tmp_path / "dagster_home")
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT)}

    release = tmp_path / "release"  # created once the first writer is killed: the next one does not wait

    def writer(name: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", WRITER_RUN, str(warehouse), name, str(release)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    killed = writer("killed")
    assert killed.stdout.readline().strip() == "holding"  # in its step, holding the pool's only slot
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    release.touch()
    demo_config.prepare_dagster_home(home)  # what `make demo` and `make ui` do first

    after = writer("after")
    try:
        after.communicate(timeout=90)  # without the slot freed, this run would wait for it forever
    finally:
        after.kill()
    assert after.returncode == 0


def test_a_demo_home_written_before_gets_the_pool_limit_and_keeps_what_it_had(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # as an older demo wrote it
    demo_config.prepare_dagster_home(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        pools = instance.get_concurrency_config().pool_config
        assert (pools.default_pool_limit, pools.pool_granularity.value) == (1, "op")
        assert instance.run_monitoring_enabled
    assert "enabled: false" in (home / "dagster.yaml").read_text()

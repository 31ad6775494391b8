"""One writer, many runs: in the Dagster instance of the demo (``demo.settings``), two runs that write the same
DuckDB file at the same time both succeed, the second waiting for the warehouse pool rather than failing on
the file's lock; and every asset of the code location is in that pool."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb

from claude_assets.asset_defaults import WAREHOUSE_POOL
from claude_assets.definitions import build_definitions
from demo import settings as demo_config

ROOT = Path(__file__).resolve().parent.parent
HOLD_SECONDS = 4
#: a run writing the warehouse through the project's resource, holding the file's write lock for a while
WRITER_RUN = """
import sys, time
import dagster as dg
from claude_assets.asset_defaults import WAREHOUSE_POOL
from claude_assets.warehouse.resource import Warehouse

warehouse, name = sys.argv[1], sys.argv[2]

@dg.asset(pool=WAREHOUSE_POOL)
def held_write(duckdb: Warehouse):
    with duckdb.get_connection() as con:
        started = time.time()
        print("holding", flush=True)
        time.sleep(float(sys.argv[3]))
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
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_RUN, str(warehouse), name, str(HOLD_SECONDS)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in ("first", "second")
    ]
    outputs = [w.communicate(timeout=180)[0] for w in writers]
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
        blocked = [
            r.tags["writer"]
            for r in runs
            if any(
                f"blocked by limit for pool {WAREHOUSE_POOL}" in (e.message or "")
                for e in instance.all_logs(r.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
            )
        ]
    assert len(blocked) == 1  # one run waited for the pool, the other never had to


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

    def writer(name: str, hold: float) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", WRITER_RUN, str(warehouse), name, str(hold)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    killed = writer("killed", 300)
    assert killed.stdout.readline().strip() == "holding"  # in its step, holding the pool's only slot
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    demo_config.prepare_dagster_home(home)  # what `make demo` and `make ui` do first

    after = writer("after", 0)
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

"""A run whose process is killed mid-way is marked failed the next time the demo starts (``make demo`` or
``make ui``), in a real Dagster instance; a run whose process still runs is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from demo import settings as demo_config

ROOT = Path(__file__).resolve().parent.parent
#: a run that waits in its only step, in the instance of $DAGSTER_HOME, until it is killed
SLOW_RUN = """
import time
import dagster as dg

@dg.asset
def slow():
    print("running", flush=True)
    time.sleep(300)

with dg.DagsterInstance.get() as instance:
    dg.materialize([slow], instance=instance)
"""


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "dagster_home"


def _start_run(home: Path) -> subprocess.Popen:
    run = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # Dagster's log of the run, which names it
        text=True,
    )
    assert run.stdout.readline().strip() == "running"  # the run is in its step
    return run


def _status(home: Path) -> dict[str, dg.DagsterRunStatus]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {r.run_id: r.status for r in instance.get_runs()}


def test_the_demo_home_has_run_monitoring_on_even_when_written_before(home):
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # as an older demo wrote it
    demo_config.prepare_dagster_home(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.run_monitoring_enabled
        assert "MONITORING" in instance.get_required_daemon_types()
        assert instance.run_monitoring_max_resume_run_attempts == 0
    assert "enabled: false" in (home / "dagster.yaml").read_text()  # what was there is kept


def test_a_killed_run_is_marked_failed_at_the_next_start_and_a_running_one_is_not(home, capfd):
    demo_config.prepare_dagster_home(home)
    killed = _start_run(home)
    (killed_id,) = _status(home)
    running = _start_run(home)
    try:
        (running_id,) = set(_status(home)) - {killed_id}
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert _status(home) == {
            killed_id: dg.DagsterRunStatus.STARTED,
            running_id: dg.DagsterRunStatus.STARTED,
        }

        demo_config.prepare_dagster_home(home)  # what make demo and make ui do when they start

        assert _status(home) == {
            killed_id: dg.DagsterRunStatus.FAILURE,
            running_id: dg.DagsterRunStatus.STARTED,
        }
        told = capfd.readouterr().err
        assert (
            f"Run {killed_id} was left in progress by a process that no longer exists (pid {killed.pid})"
            in told
        )
        assert running_id not in told
        with dg.DagsterInstance.from_config(str(home)) as instance:
            failure = instance.all_logs(killed_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert len(failure) == 1 and f"(pid {killed.pid}) no longer exists" in failure[0].message
    finally:
        running.kill()
        running.wait()
    demo_config.prepare_dagster_home(home)
    assert set(_status(home).values()) == {dg.DagsterRunStatus.FAILURE}


def test_a_pid_now_held_by_a_younger_process_is_not_the_run_s():
    from demo.dead_runs import _alive

    assert _alive(os.getpid(), time.time())
    assert not _alive(os.getpid(), time.time() - 3600)  # this process did not exist an hour ago

"""Ctrl-C stops a multi-step backfill: no later run starts, the runs done and not done are reported, and
the exit code says it was interrupted (``make demo`` in a process of its own, sent SIGINT mid-backfill)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg

from demo.run import INTERRUPTED

ROOT = Path(__file__).resolve().parent.parent
#: ``make demo`` over three days with every file it writes in the directory given
DEMO_IN = """
import sys
from pathlib import Path
from demo import settings
scratch = Path(sys.argv[1])
settings.WAREHOUSE = scratch / "data" / "warehouse.duckdb"
settings.CONFIG_FILE = scratch / "data" / "demo.yaml"
settings.DAGSTER_HOME = scratch / "dagster_home"
from demo.run import main
raise SystemExit(main(["--days", "3", "--now", "2026-11-22T12:00:00Z"]))
"""


def _interrupt_during_a_run(demo: subprocess.Popen, home: Path) -> None:
    while demo.poll() is None:
        if (home / "history" / "runs.db").exists():
            with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME is the demo's
                if instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
                    time.sleep(0.5)
                    demo.send_signal(signal.SIGINT)
                    return
        time.sleep(0.2)


def test_ctrl_c_stops_the_demo_backfill_reports_it_and_exits_non_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    demo = subprocess.Popen(
        [sys.executable, "-c", DEMO_IN, str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(300, demo.kill)
    watchdog.start()
    lines = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if line.startswith("Backfilling"):  # Ctrl-C once the first run is under way
                threading.Thread(
                    target=_interrupt_during_a_run, args=(demo, tmp_path / "dagster_home")
                ).start()
        code = demo.wait()
    finally:
        watchdog.cancel()
    out = "".join(lines)
    assert code == INTERRUPTED, out[-3000:]
    assert "Interrupted: the backfill stopped; no further run was started." in out, out[-3000:]
    not_run = [line for line in lines if line.strip().startswith("not run:")]
    done = [line for line in lines if line.strip().startswith(("interrupted:", "succeeded:", "failed:"))]
    assert not_run, out[-3000:]  # the facts are built last: at least their run never started
    assert any("facts/" in line for line in not_run), out[-3000:]
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
    assert len(runs) == len(done)  # every run started is reported; none started after the interrupt
    assert [line.split(":")[0].strip() for line in done][-1] == "interrupted", out[-3000:]
    assert all(r.is_finished for r in runs), [(r.run_id, r.status) for r in runs]
    assert "Billed cost by organization" not in out  # no summary of a backfill that did not finish
    assert "Warning" not in out  # the terminal shows the demo's own lines only


#: A query stopped by Ctrl-C, in a process of its own: signals reach only a main thread, which a pytest
#: worker's test may not run in. One DuckDB thread, because with more the main thread can be deep in one
#: long task and look at the signal only when the query is over.
CTRL_C_DURING_A_QUERY = """
import json, os, signal, sys, threading
signal.signal(signal.SIGINT, signal.default_int_handler)  # a parent may have left SIGINT ignored
import duckdb
from dagster._utils.error import serializable_error_info_from_exc_info
from demo.backfill import _caused_by_interrupt

def error_of(raised):
    try:
        raise RuntimeError("the asset's step failed") from raised
    except RuntimeError:
        return serializable_error_info_from_exc_info(sys.exc_info())

stop = threading.Event()
def ctrl_c():
    while not stop.wait(0.2):
        os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=ctrl_c, daemon=True).start()
con = duckdb.connect(config={"threads": 1})
try:
    con.execute("SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3").fetchall()
    stopped = None
except BaseException as exc:  # DuckDB turns SIGINT into its own error (a RuntimeError today)
    stopped = exc
finally:
    stop.set()
print(json.dumps({
    "stopped": None if stopped is None else f"{type(stopped).__name__}: {stopped}",
    "keyboard_interrupt": isinstance(stopped, KeyboardInterrupt),
    "interrupt": stopped is not None and _caused_by_interrupt(error_of(stopped)),
    "other_error": _caused_by_interrupt(error_of(RuntimeError("Binder Error: column not found"))),
}))
"""


def test_a_duckdb_query_stopped_by_ctrl_c_counts_as_an_interrupt_and_other_errors_do_not():
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_DURING_A_QUERY],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["stopped"] is not None, "the query ran to its end before the interrupt"
    assert not seen["keyboard_interrupt"], seen
    assert seen["interrupt"], seen
    assert not seen["other_error"], seen

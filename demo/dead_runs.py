"""Runs left in progress by a process that no longer exists are marked failed when the demo starts.

Dagster's run monitoring (``run_monitoring`` in ``dagster.yaml``, on in the demo's Dagster home) fails
runs stuck starting or canceling, and the code server of ``dg dev`` fails a run whose worker
process dies while it lives. Neither sees a run whose whole process was killed: ``make demo`` runs
in its own process (``demo.job_backfills``), and a killed ``dg dev`` takes its code server with it;
with the default run launcher the monitoring daemon cannot check a run worker's health. Such a run
would show as in progress forever. Each run records the process that executes it (the ``pid`` of
Dagster's "Executing steps in process" engine event); at start, a run in progress whose process no
longer exists (or whose pid now belongs to a process started after it) is reported failed through
the instance, as the monitoring daemon reports a dead worker.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
#: /proc/stat's boot time has a one-second resolution
_CLOCK_SLACK_SECONDS = 2.0


def fail_dead_runs(instance: dg.DagsterInstance) -> list[tuple[dg.DagsterRun, int]]:
    """Mark failed (canceled, if it was canceling) every run in progress whose process is gone; return
    each such run with the pid it ran in. A run with no recorded process is left to run monitoring."""
    ended = []
    for run in instance.get_runs(dg.RunsFilter(statuses=IN_PROGRESS)):
        recorded = _recorded_process(instance, run.run_id)
        if recorded is None or _alive(*recorded):
            continue
        pid = recorded[0]
        message = (
            f"The process that ran this run (pid {pid}) no longer exists: it was killed or crashed before the "
            "run finished, and this was found when Dagster was started again. Every window the run wrote "
            "is complete (each is one transaction); materialize the run's partitions again to finish it."
        )
        if run.status == dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceled(run, message)
        else:
            instance.report_run_failed(run, message)
        ended.append((run, pid))
    return ended


def _recorded_process(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The last process a run's engine events name (pid, when it was recorded), if any."""
    found = None
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data if entry.dagster_event else None
        pid = data.metadata.get("pid") if data is not None else None
        if pid is not None:
            found = (int(pid.value), entry.timestamp)
    return found


def _alive(pid: int, seen_at: float) -> bool:
    """Whether ``pid`` is still the process that was running at ``seen_at`` (UNIX seconds)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    started = _start_time(pid)
    return started is None or started <= seen_at + _CLOCK_SLACK_SECONDS


def _start_time(pid: int) -> float | None:
    """When a process started (UNIX seconds), where ``/proc`` tells; None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (command)"; field 22 is the start time
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")

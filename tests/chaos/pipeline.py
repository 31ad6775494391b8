"""One pipeline under test: a folder holding its configuration, warehouse, exports, Dagster home and logs,
and the attempts of its run process (``tests.chaos.run_process``), each killed with SIGKILL at a chosen
moment or left to finish.

The simulator runs in the calling process, so the harness sees every request it serves (through
``CountedFaults``) and times a kill from the attempt's first request.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from tests.chaos.faults import CountedFaults

ROOT = Path(__file__).resolve().parents[2]
#: the asset groups of each phase, in the order a backfill runs them (raw first, then what is built from it)
RAW_GROUPS, ENTERPRISE_GROUPS, DERIVED_GROUPS = (
    ("console", "inventory"),
    ("enterprise",),
    ("facts", "exports"),
)
DAGSTER_YAML = "telemetry:\n  enabled: false\n"


@dataclass(frozen=True)
class Org:
    slug: str
    kind: str
    key_env: str  # the variable the configuration names; its value is set in the run process only
    analytics_beta: bool = False


@dataclass(frozen=True)
class Phase:
    name: str
    groups: tuple[str, ...]
    start: date
    end: date


def backfill_phases(start: date, end: date, engagement_end: date) -> list[Phase]:
    """The phases of a whole backfill of ``[start, end)``, as ``make demo`` runs them: the Console groups,
    the Enterprise group up to the latest day the API publishes, then the facts and exports over the
    days every organization covers."""
    return [
        Phase("raw", RAW_GROUPS, start, end),
        Phase("enterprise", ENTERPRISE_GROUPS, start, engagement_end),
        Phase("derived", DERIVED_GROUPS, start, min(end, engagement_end)),
    ]


@dataclass(frozen=True)
class KillPoint:
    """SIGKILL the run process ``seconds`` after its first API request, or after it reports the phase
    ``after_phase`` done (a kill while the next phase runs, e.g. while the facts are built)."""

    seconds: float
    after_phase: str | None = None

    def describe(self) -> str:
        anchor = f"the end of phase {self.after_phase}" if self.after_phase else "its first request"
        return f"{self.seconds:.2f} s after {anchor}"

    def earlier(self) -> KillPoint:
        return KillPoint(round(self.seconds / 2, 3), self.after_phase)


def kill_points(seed: int, kills: int, clean: Attempt) -> list[KillPoint]:
    """``kills`` moments of the run, seeded from ``seed`` and timed on a ``clean`` attempt of it.

    With two kills or more, the last falls in the last phase (10 % to 90 % into it); the others, or the
    only one, are drawn one in each of equal slices of 5 % to 95 % of the clean run's time from its
    first request, so the kills spread over fetching, writing and building the facts and exports.
    """
    rng = random.Random(seed)
    points: list[KillPoint] = []
    last = clean.planned[-1] if clean.planned else None
    anchored = kills >= 2 and last is not None and len(clean.planned) >= 2
    spread = kills - 1 if anchored else kills
    width = 0.9 / max(spread, 1)
    for i in range(spread):
        points.append(KillPoint(round((0.05 + width * (i + rng.random())) * clean.busy_seconds, 3)))
    if anchored:
        before = clean.planned[-2]
        length = clean.phase_seconds[last] - clean.phase_seconds[before]
        points.append(KillPoint(round(rng.uniform(0.1, 0.9) * length, 3), after_phase=before))
    return points


@dataclass
class Attempt:
    number: int
    returncode: int
    seconds: float  # wall time of the process
    requests: int  # requests the simulator served it
    killed: KillPoint | None  # where it was killed, if it was
    phases: list[dict] = field(default_factory=list)  # the run process's report, one entry per phase done
    busy_seconds: float = 0.0  # from its first request to its exit
    planned: tuple[str, ...] = ()  # the names of the phases it was to run
    phase_seconds: dict[str, float] = field(default_factory=dict)  # phase -> when it was reported done

    @property
    def stopped_in(self) -> str:
        """The phase it was in when it ended (the first it did not report)."""
        done = {p["phase"] for p in self.phases}
        return next((name for name in self.planned if name not in done), "after its last phase")

    @property
    def retries(self) -> int:
        return sum(p.get("retries", 0) for p in self.phases)

    @property
    def restarts(self) -> int:
        return sum(p.get("restarts", 0) for p in self.phases)

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0 and bool(self.phases) and all(p["success"] for p in self.phases)

    def describe(self) -> str:
        if self.killed is not None:
            how = f"SIGKILL {self.killed.describe()}, in phase {self.stopped_in}"
        else:
            how = "succeeded" if self.succeeded else f"FAILED (exit {self.returncode})"
        return f"attempt {self.number}: {how}; {self.requests} requests, {self.seconds:.1f} s"


class Pipeline:
    """A configuration, warehouse, Dagster home and log folder under ``folder``; ``attempt`` runs it.

    Several pipelines of different ``name`` may share a folder (one warehouse and Dagster home, e.g. a
    good configuration and a wrong one); each has its own configuration file and logs.
    """

    def __init__(
        self,
        folder: Path,
        *,
        name: str = "run",
        base_url: str,
        orgs: list[Org],
        keys: dict[str, str],
        phases: list[Phase],
        client: dict | None = None,
    ) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.warehouse = self.data / "warehouse.duckdb"
        self.exports = self.data / "exports"
        self.dagster_home = folder / "dagster_home"
        self.logs = folder / "logs"
        for d in (self.data, self.dagster_home, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        (self.dagster_home / "dagster.yaml").write_text(DAGSTER_YAML)
        self.keys = dict(keys)  # key_env -> key: the run process's environment only
        self.name = name
        self.config_file = folder / f"{name}.yaml"
        history_start = min(p.start for p in phases)
        self.config_file.write_text(
            yaml.safe_dump(
                {
                    "organizations": [
                        {
                            "slug": o.slug,
                            "kind": o.kind,
                            "key_env": o.key_env,
                            "base_url": base_url,
                            "rate_limit_per_minute": 100_000,
                            "history_start": history_start.isoformat(),
                            **({"analytics_beta": True} if o.analytics_beta else {}),
                        }
                        for o in orgs
                    ]
                },
                sort_keys=False,
            )
        )
        self.spec = folder / f"{name}-spec.json"
        self.spec.write_text(
            json.dumps(
                {
                    "config": str(self.config_file),
                    "warehouse": str(self.warehouse),
                    "client": client or {},
                    "phases": [
                        {"name": p.name, "groups": list(p.groups), "start": str(p.start), "end": str(p.end)}
                        for p in phases
                    ],
                }
            )
        )
        self.phase_names = [p.name for p in phases]
        self.attempts: list[Attempt] = []

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "CLAUDE_ASSETS_"))}
        return {
            **env,
            "PYTHONPATH": str(ROOT),
            "DAGSTER_HOME": str(self.dagster_home),
            **self.keys,
        }

    def attempt(
        self, counter: CountedFaults, kill: KillPoint | None = None, timeout_seconds: float = 1800
    ) -> Attempt:
        """Run the process once; SIGKILL it at ``kill`` (if it gets there). Its stdout and stderr go to
        ``logs/NAME-attempt-N.out`` and ``.err``."""
        number = len(self.attempts) + 1
        before = counter.requests
        out_path = self.logs / f"{self.name}-attempt-{number}.out"
        err_path = out_path.with_suffix(".err")
        started = time.monotonic()
        first_request: float | None = None
        done: dict[str, float] = {}  # phase -> when its report line appeared
        reported = 0
        killed = None
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.chaos.run_process", str(self.spec)],
                cwd=ROOT,
                env=self.environment(),
                stdout=out,
                stderr=err,
            )
            try:
                while proc.poll() is None:
                    now = time.monotonic()
                    if first_request is None and counter.requests > before:
                        first_request = now
                    if out_path.stat().st_size > reported:
                        reported = out_path.stat().st_size
                        for name in _phases_done(out_path):
                            done.setdefault(name, now)
                    anchor = done.get(kill.after_phase) if kill and kill.after_phase else first_request
                    if kill is not None and anchor is not None and now >= anchor + kill.seconds:
                        os.kill(proc.pid, signal.SIGKILL)
                        proc.wait()
                        killed = kill
                        break
                    if now - started > timeout_seconds:
                        raise TimeoutError(f"attempt {number} ran over {timeout_seconds} s (see {err_path})")
                    time.sleep(0.01)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        ended = time.monotonic()
        phases = _reports(out_path)
        for name in _phases_done(out_path):
            done.setdefault(name, ended)
        attempt = Attempt(
            number=number,
            returncode=proc.returncode,
            seconds=ended - started,
            requests=counter.requests - before,
            killed=killed,
            phases=phases,
            busy_seconds=ended - (first_request or ended),
            planned=tuple(self.phase_names),
            phase_seconds={name: at - (first_request or started) for name, at in done.items()},
        )
        self.attempts.append(attempt)
        return attempt


def _reports(out: Path) -> list[dict]:
    """The run process's phase reports so far (one JSON line each on its stdout)."""
    lines = out.read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith('{"phase"') and line.endswith("}")]


def _phases_done(out: Path) -> list[str]:
    return [r["phase"] for r in _reports(out)]

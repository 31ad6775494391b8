"""A chaos campaign: a clean backfill, then the same backfill under faults and SIGKILLs, compared.

``run_campaign`` serves one simulator world (rate limits lifted, clock frozen at ``scale.NOW``) in this
process. The clean run backfills the range once without faults; the chaos run backfills it into another
folder with every fault kind at the scale's rates, killing the run process at seeded points, checking
after each kill that no half-written window is visible, and running it again until it completes. Both
warehouses are then compared table by table and everything the chaos run wrote is scanned for keys.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import dagster as dg

from simulator.app import Simulator
from simulator.clock import SimClock
from simulator.faults import KINDS, FaultPlan
from simulator.freshness import latest_engagement_day
from simulator.serve import serve_in_thread
from simulator.world import World
from tests.chaos.faults import CountedFaults
from tests.chaos.pipeline import Attempt, Org, Pipeline, backfill_phases, kill_points
from tests.chaos.scale import NOW, Scale
from tests.chaos.secrets import ScanReport, SecretScanner
from tests.chaos.tables import LINEAGE_COLUMNS, Comparison, compare, half_written

UNLIMITED = {"console": 1_000_000, "enterprise": 1_000_000}
WORLD_SEED = 7
#: attempts that may complete before their kill point (each then retried with the point halved)
MISSES_PER_KILL = 2


def key_env(slug: str) -> str:
    return f"CHAOS_{slug.upper().replace('-', '_')}_KEY"


def steps_writing_together(pipeline: Pipeline) -> list[list[str]]:
    """The raw tables each multi-asset writes in one transaction per window (from the code location)."""
    from claude_assets.config import load_file
    from claude_assets.definitions import build_definitions

    defs = build_definitions(load_file(pipeline.config_file), str(pipeline.warehouse))
    return [
        [".".join(k.path) for k in a.keys]
        for a in defs.assets or []
        if isinstance(a, dg.AssetsDefinition) and len(a.keys) > 1 and all(k.path[0] == "raw" for k in a.keys)
    ]


@dataclass
class Kill:
    attempt: Attempt
    visible_problems: list[str]  # what a reader saw between the kill and the next attempt


@dataclass
class Figures:
    scale: Scale
    range_text: str
    clean_pipeline: Pipeline
    chaos_pipeline: Pipeline
    clean: Attempt
    attempts: list[Attempt]
    kills: list[Kill]
    faults: Counter
    comparison: Comparison
    scan: ScanReport
    clean_seconds: float
    chaos_seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.comparison.identical

    def areas_read(self) -> dict[str, bool]:
        """Whether the scan read real content (an organization's slug) in each place the run writes."""
        chaos = self.chaos_pipeline
        holding = {s for sources in self.scan.markers.values() for s in sources}

        def read(prefix: Path, suffix: str = "") -> bool:
            return any(s.startswith(str(prefix)) and s.endswith(suffix) for s in holding)

        return {
            "run process logs (stdout, stderr, Python logging)": read(chaos.logs),
            "Dagster event and run storage (SQLite rows)": read(chaos.dagster_home, "(rows)"),
            "Dagster compute logs": read(chaos.dagster_home / "storage"),
            "warehouse rows": read(chaos.warehouse, "(rows)"),
            "export files": read(chaos.exports),
        }

    def problems(self) -> list[str]:
        """Every guarantee the campaign broke (empty when all held)."""
        out = [f"never injected: a {kind} fault" for kind in self.scale_kinds() if not self.faults[kind]]
        landed = len(self.kills)
        if landed < self.scale.kills:
            out.append(f"only {landed} of {self.scale.kills} kills landed before their run ended")
        out += [
            f"after the SIGKILL of attempt {k.attempt.number}: {p}"
            for k in self.kills
            for p in k.visible_problems
        ]
        final = self.attempts[-1]
        if not final.succeeded:
            out.append(f"the run after the last kill did not complete: {final.describe()}")
        out += [f"not identical to the clean run: {d}" for d in self.comparison.differences()]
        schemas = {t.table.split(".")[0] for t in self.comparison.tables if "/" not in t.table}
        out += [
            f"no {s}.* table was compared"
            for s in ("raw", "inventory", "facts", "exports")
            if s not in schemas
        ]
        out += [f"a key in {f}" for f in self.scan.findings]
        out += [f"the secrets scan read nothing of the {a}" for a, ok in self.areas_read().items() if not ok]
        return out

    def scale_kinds(self) -> list[str]:
        """The fault kinds the scale injects (rate above zero)."""
        rates = FaultPlan.parse(self.scale.faults).rates
        return [k for k in KINDS if rates.get(k)]

    @property
    def kills_survived(self) -> int:
        """Kills after which nothing half-written was visible, when the run after the last one completed
        with tables identical to the clean run's."""
        if not (self.attempts[-1].succeeded and self.identical):
            return 0
        return sum(1 for k in self.kills if not k.visible_problems)

    def _after(self, attempt: Attempt) -> str:
        kill = next((k for k in self.kills if k.attempt is attempt), None)
        if kill is None:
            return "" if attempt is self.attempts[-1] else " (it ended before its kill point)"
        return "; then visible: " + (
            "nothing half-written" if not kill.visible_problems else "; ".join(kill.visible_problems)
        )

    def lines(self) -> list[str]:
        tables = [t for t in self.comparison.tables if not t.table.startswith("exports/")]
        files = [t for t in self.comparison.tables if t.table.startswith("exports/")]
        completed = [a for a in self.attempts if a.killed is None]
        return [
            f"chaos ({self.scale.describe()})",
            f"range: {self.range_text}",
            f"clean run: {self.clean.requests} requests, {self.clean_seconds:.1f} s",
            "faults injected: "
            + ", ".join(f"{k} {self.faults[k]}" for k in self.scale_kinds())
            + f" (total {sum(self.faults.values())} of {sum(a.requests for a in self.attempts)} requests)",
            f"retries: {sum(a.retries for a in completed)} and cursor restarts: "
            f"{sum(a.restarts for a in completed)} (in the {len(completed)} attempt(s) that ran to the end; "
            "a killed attempt's are lost with it)",
            f"kills survived: {self.kills_survived} of {len(self.kills)} "
            f"(nothing half-written visible after the kill, and the next run completed)",
            *(f"  - {a.describe()}{self._after(a)}" for a in self.attempts),
            f"tables compared: {len(tables)} ({sum(t.rows_clean for t in tables):,} rows), export files "
            f"compared: {len(files)} ({sum(t.rows_clean for t in files):,} rows)",
            f"identical: {'yes' if self.identical else 'NO'} (every column but {', '.join(LINEAGE_COLUMNS)})"
            + "".join(f"\n  - {d}" for d in self.comparison.differences()),
            f"secrets scan: {self.scan.summary()}" + "".join(f"\n  - {f}" for f in self.scan.findings),
            f"wall time: clean {self.clean_seconds:.1f} s, chaos {self.chaos_seconds:.1f} s",
            *self.notes,
        ]


def run_campaign(scale: Scale, folder: Path) -> Figures:
    counter = CountedFaults(
        scale.faults,
        seed=scale.seed,
        retry_after_seconds=scale.retry_after,
        timeout_seconds=scale.fault_timeout,
    )
    sim = Simulator(World.build(scale.world, WORLD_SEED, UNLIMITED), clock=SimClock(NOW), faults=counter)
    end = NOW.date()
    start = end - timedelta(days=scale.days)
    engagement_end = latest_engagement_day(NOW, sim.engagement_lag_days) + timedelta(days=1)
    phases = backfill_phases(start, end, engagement_end)
    orgs = [
        Org(o.slug, o.kind, key_env(o.slug), analytics_beta=o.kind == "enterprise")
        for o in sim.world.organizations
    ]
    keys = {key_env(o.slug): o.api_key for o in sim.world.organizations}
    client = {"timeout_seconds": scale.client_timeout, "backoff_seconds": 0.2}
    with serve_in_thread(sim) as running:

        def pipeline(name: str) -> Pipeline:
            return Pipeline(
                folder / name, base_url=running.base_url, orgs=orgs, keys=keys, phases=phases, client=client
            )

        clean = pipeline("clean")
        t0 = time.monotonic()
        clean_attempt = clean.attempt(counter)
        clean_seconds = time.monotonic() - t0
        if not clean_attempt.succeeded:
            raise AssertionError(f"the clean run failed: {clean_attempt.describe()} (see {clean.logs})")

        chaos = pipeline("chaos")
        steps = steps_writing_together(chaos)
        counter.active = True
        kills: list[Kill] = []
        t0 = time.monotonic()
        for point in kill_points(scale.seed, scale.kills, clean_attempt):
            for _ in range(MISSES_PER_KILL + 1):
                attempt = chaos.attempt(counter, kill=point)
                if attempt.killed is not None:
                    kills.append(Kill(attempt, half_written(clean.warehouse, chaos.warehouse, steps)))
                    break
                # it completed before the kill point (a faster machine than the clean run's): that run
                # counts as one more re-run of the range, and the kill is tried again earlier
                point = point.earlier()
        final = chaos.attempt(counter)
        chaos_seconds = time.monotonic() - t0
        counter.active = False

    scanner = SecretScanner(
        {f"the key of {o.slug}": o.api_key for o in sim.world.organizations},
        markers=[o.slug for o in sim.world.organizations],
    )
    scan = scanner.scan_paths([chaos.logs, chaos.dagster_home, chaos.data])
    figures = Figures(
        scale=scale,
        clean_pipeline=clean,
        chaos_pipeline=chaos,
        range_text=f"{start} -> {end - timedelta(days=1)} ({scale.days} days; Enterprise to "
        f"{min(end, engagement_end) - timedelta(days=1)}), world {scale.world}",
        clean=clean_attempt,
        attempts=chaos.attempts,
        kills=kills,
        faults=Counter(counter.injected),
        comparison=compare(clean.warehouse, chaos.warehouse),
        scan=scan,
        clean_seconds=clean_seconds,
        chaos_seconds=chaos_seconds,
    )
    if not final.succeeded:
        figures.notes.append(f"the final attempt did not succeed: see {chaos.logs}")
    return figures

"""How big a chaos run is: ``CHAOS_SCALE=bounded`` (the default, in ``make test``) or ``full`` (``make chaos``).

Each field can be overridden on its own: ``CHAOS_WORLD``, ``CHAOS_DAYS``, ``CHAOS_KILLS``, ``CHAOS_SEED``,
``CHAOS_FAULTS`` (a simulator fault spec, e.g. ``429=0.05,500=0.02``). The same tests run at every scale.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

#: the simulator's frozen clock: every run of a chaos test sees the same API, to the byte
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
#: the rates of ``docs/simulator.md``'s example: about one request in ten meets a fault
REALISTIC_FAULTS = "429=0.05,500=0.02,529=0.01,timeout=0.01,410=0.01,garbage=0.005"


@dataclass(frozen=True)
class Scale:
    name: str
    world: str  # the simulator world (small, medium, large)
    days: int  # days backfilled, ending the day before NOW
    kills: int  # SIGKILLs of the run process before the run that must complete
    faults: str  # the simulator's fault rates
    seed: int  # faults, kill points and the world's seed derive from it
    client_timeout: float  # the client's per-request timeout (s); an injected timeout holds a request longer
    fault_timeout: float  # how long the simulator holds an injected timeout (s)
    retry_after: int  # the retry-after (s) of an injected 429

    def describe(self) -> str:
        return (
            f"{self.name}: world {self.world}, {self.days} days, {self.kills} kill(s), seed {self.seed}, "
            f"faults {self.faults}"
        )


SCALES = {
    "bounded": Scale(
        "bounded",
        world="medium",
        days=2,
        kills=1,
        faults=REALISTIC_FAULTS,
        seed=11,
        client_timeout=1.5,
        fault_timeout=2.0,
        retry_after=1,
    ),
    "full": Scale(
        "full",
        world="medium",
        days=30,
        kills=4,
        faults=REALISTIC_FAULTS,
        seed=11,
        client_timeout=5.0,
        fault_timeout=6.0,
        retry_after=1,
    ),
}


def from_env(environ: dict[str, str] | None = None) -> Scale:
    env = os.environ if environ is None else environ
    name = env.get("CHAOS_SCALE", "bounded")
    if name not in SCALES:
        raise ValueError(f"CHAOS_SCALE={name!r}: choose one of {', '.join(SCALES)}")
    scale = SCALES[name]
    overrides = {}
    for f in fields(Scale):
        value = env.get(f"CHAOS_{f.name.upper()}")
        if value is not None and f.name != "name":
            overrides[f.name] = type(getattr(scale, f.name))(value)
    return replace(scale, **overrides)

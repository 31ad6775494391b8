"""The simulator's seeded faults, counted: every kind is injected at least once, then the rates apply."""

from __future__ import annotations

import threading
import time
from collections import Counter

from simulator.faults import KINDS, FaultPlan


class CountedFaults(FaultPlan):
    """A ``FaultPlan`` that counts the requests it sees and the faults it injects, by kind.

    While ``active`` is false it injects nothing (a clean run against the same, warmed, simulator). Once
    active, the first eligible requests get each kind of the plan in turn (a ``410`` waits for a request
    that carries a cursor), so a short run meets every kind whatever its seed; then the seeded rates apply.
    """

    def __init__(self, spec: str, *, seed: int, retry_after_seconds: int, timeout_seconds: float) -> None:
        plan = FaultPlan.parse(spec, seed=seed)
        super().__init__(
            plan.rates, seed, retry_after_seconds=retry_after_seconds, timeout_seconds=timeout_seconds
        )
        self.active = False
        self.requests = 0
        self.injected: Counter[str] = Counter()
        self.last_request_at: float | None = None  # time.monotonic() of the latest request
        self._pending = [k for k in KINDS if self.rates.get(k)]
        self._counting = threading.Lock()

    def draw(self, has_cursor: bool) -> str | None:
        with self._counting:
            self.requests += 1
            self.last_request_at = time.monotonic()
            if not self.active:
                return None
            forced = next((k for k in self._pending if k != "410" or has_cursor), None)
            if forced is not None:
                self._pending.remove(forced)
        fault = forced or super().draw(has_cursor)
        if fault is not None:
            with self._counting:
                self.injected[fault] += 1
        return fault

    @property
    def kinds_not_yet_injected(self) -> list[str]:
        return [k for k in self.rates if self.rates[k] and not self.injected[k]]

"""Fault injection on demand: ``429=0.05,500=0.02,529=0.01,timeout=0.01,410=0.01,garbage=0.005``.

``spend_limit`` answers 429 with ``error.details.error_code: enforced_spend_limit_reached`` (the SDK's
spend-limit error): a 429 that waiting does not lift."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = ("429", "500", "529", "timeout", "410", "garbage", "spend_limit")


@dataclass
class FaultPlan:
    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    retry_after_seconds: int = 1
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str | None, seed: int = 0, **kw) -> FaultPlan:
        rates: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            kind, _, value = part.partition("=")
            if kind not in KINDS:
                raise ValueError(f"unknown fault {kind!r}; known faults: {', '.join(KINDS)}")
            try:
                rate = float(value)
            except ValueError:
                raise ValueError(
                    f"fault {kind}: rate must be a number between 0 and 1, got {value!r}"
                ) from None
            if not 0 <= rate <= 1:
                raise ValueError(f"fault {kind}: rate must be between 0 and 1, got {rate}")
            rates[kind] = rate
        if sum(rates.values()) > 1:
            raise ValueError("fault rates add up to more than 1")
        return cls(rates, seed, **kw)

    def draw(self, has_cursor: bool) -> str | None:
        """The fault to inject on this request, if any (410 only where a cursor was sent)."""
        if not self.rates:
            return None
        with self._lock:
            x = self._rng.random()
        for kind in KINDS:
            rate = self.rates.get(kind, 0.0)
            if x < rate:
                return None if kind == "410" and not has_cursor else kind
            x -= rate
        return None

    def describe(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.rates.items()) or "none"

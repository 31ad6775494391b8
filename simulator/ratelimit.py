"""Per-organization request limits over a sliding minute, measured in real (wall) time."""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class SlidingWindowLimiter:
    def __init__(self, per_minute: int, window: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window = window
        self._hits: deque[float] = deque()
        self._lock = threading.Lock()

    def try_acquire(self) -> tuple[bool, int, int]:
        """(allowed, remaining, seconds until a slot frees)."""
        now = time.monotonic()
        with self._lock:
            while self._hits and self._hits[0] <= now - self.window:
                self._hits.popleft()
            if len(self._hits) >= self.per_minute:
                wait = self._hits[0] + self.window - now
                return False, 0, max(1, math.ceil(wait))
            self._hits.append(now)
            reset = math.ceil(self._hits[0] + self.window - now)
            return True, self.per_minute - len(self._hits), reset

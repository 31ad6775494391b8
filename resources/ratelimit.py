"""A client-side limiter per organization, shared by every asset in the process that calls it."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

#: Extra seconds on the one-minute window, so latency jitter can never push the server's own
#: sliding window over the limit.
SAFETY_SECONDS = 1.5


class RateLimiter:
    """At most ``per_minute`` requests in any ``window`` seconds (``60 + SAFETY_SECONDS``); ``acquire`` blocks.

    ``window`` exists for tests and benchmarks that need a short window; production code keeps the
    default, a little longer than the server's minute.

    The server counts a request when it arrives, which can be later than the moment the client sent
    it (a slow connection, a busy machine). So a request in flight always holds its slot, and once its
    response is back it stays in the window from that moment, the latest the server can have counted
    it: a late arrival can never push the server's window over the limit (``sending``).
    """

    def __init__(self, per_minute: int, window: float = 60.0 + SAFETY_SECONDS) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be >= 1")
        if window <= 0:
            raise ValueError("window must be > 0")
        self.per_minute = per_minute
        self.window = window
        self._sent: deque[float] = deque()  # when each finished request last counted, oldest first
        self._in_flight = 0
        self._blocked_until = 0.0
        self._cond = threading.Condition()

    def __repr__(self) -> str:
        return f"RateLimiter({self.per_minute}/{self.window:g}s)"

    def acquire(self) -> float:
        """Wait for a slot and count the request as sent now; returns the seconds spent waiting."""
        with self._cond:
            waited = self._wait_for_slot()
            self._sent.append(time.monotonic())
            return waited

    @contextmanager
    def sending(self) -> Iterator[float]:
        """Hold a slot while one request is in flight; yields the seconds spent waiting for it.

        On exit the request counts from the moment its response came back (or it failed), so the
        window the client keeps always covers the server's, however late the request arrived.
        """
        with self._cond:
            waited = self._wait_for_slot()
            self._in_flight += 1
        try:
            yield waited
        finally:
            with self._cond:
                self._in_flight -= 1
                self._sent.append(time.monotonic())
                self._cond.notify_all()

    def _wait_for_slot(self) -> float:
        started = time.monotonic()
        while True:
            now = time.monotonic()
            if now < self._blocked_until:
                self._cond.wait(self._blocked_until - now)
                continue
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if self._in_flight + len(self._sent) < self.per_minute:
                return now - started
            # a finished request leaves the window in time; one in flight notifies when it finishes
            self._cond.wait(self._sent[0] + self.window - now if self._sent else None)

    def penalize(self, seconds: float) -> None:
        """The server said to back off (429 ``retry-after``): hold every caller for that long."""
        with self._cond:
            self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)
            self._cond.notify_all()

    def set_rate(self, per_minute: int) -> None:
        """Change the limit in place (callers already holding this limiter keep sharing it)."""
        if per_minute < 1:
            raise ValueError("per_minute must be >= 1")
        with self._cond:
            self.per_minute = per_minute
            self._cond.notify_all()


_registry: dict[tuple[str, str], RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(base_url: str, organization: str, per_minute: int) -> RateLimiter:
    """The process-wide limiter of one organization (created on first use).

    Every client of the organization shares it, whatever asset or thread built the client; a
    changed ``per_minute`` updates the shared limiter rather than creating a second one, which
    would let the two together exceed the organization's limit.
    """
    key = (base_url.rstrip("/"), organization)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = RateLimiter(per_minute)
        elif limiter.per_minute != per_minute:
            limiter.set_rate(per_minute)
        return limiter

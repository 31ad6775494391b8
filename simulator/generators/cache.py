"""A small thread-safe LRU, shared by the data generators for days and query results."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable


class ResultCache:
    """Values by key, least recently used first out once their total ``size`` passes ``limit``.

    ``size`` defaults to 1 a value (``limit`` is then a number of values); the newest value always stays.
    """

    def __init__(self, limit: int, size: Callable[[object], int] = lambda value: 1) -> None:
        self.limit = limit
        self._size = size
        self._total = 0
        self._lock = threading.Lock()
        self._values: OrderedDict = OrderedDict()

    def get(self, key, compute: Callable[[], object]):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            if key not in self._values:
                self._values[key] = value
                self._total += self._size(value)
            self._values.move_to_end(key)
            while self._total > self.limit and len(self._values) > 1:
                self._total -= self._size(self._values.popitem(last=False)[1])
        return value

"""A small thread-safe LRU of query results, shared by the data generators."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable


class ResultCache:
    """The last ``maxsize`` results, keyed by the canonical query that computed them."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._results: OrderedDict = OrderedDict()

    def get(self, key: tuple, compute: Callable[[], object]):
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        value = compute()
        with self._lock:
            self._results[key] = value
            self._results.move_to_end(key)
            while len(self._results) > self.maxsize:
                self._results.popitem(last=False)
        return value

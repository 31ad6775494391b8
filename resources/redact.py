"""One masking function for everything the project writes: any 12-character run of a key in use.

A key is registered when a client is built from it (``resources.secrets.Secret``). From then on
``redact`` replaces every run of 12 or more characters of that key's secret part (everything after
its public ``sk-ant-<kind>NN-`` prefix) with ``[key masked]``, so a server that echoes part of a key
in an error message, a header or a cursor cannot get it into an exception, a log line or Dagster's
event store. Log records are masked where they are created (``logging.setLogRecordFactory``), so
every logger of the process is covered, Dagster's included; exceptions of the API clients mask
their message when they are built.
"""

from __future__ import annotations

import logging
import re
import threading

RUN = 12
MASK = "[key masked]"
#: the public part of a key, e.g. ``sk-ant-admin01-``: shown in messages and docs, never masked alone
_PUBLIC_PREFIX = re.compile(r"^sk-ant-[a-z]+\d*-")

_lock = threading.Lock()
_runs: set[str] = set()
_keys: set[str] = set()
_installed = False


def register(key: str) -> None:
    """Mask every 12-character run of ``key`` that holds at least one character of its secret part."""
    global _installed
    if not key or key in _keys:
        return
    public = _PUBLIC_PREFIX.match(key)
    first_secret = public.end() if public else 0
    # a key shorter than a run is masked whole
    runs = {key[i : i + RUN] for i in range(len(key) - RUN + 1) if i + RUN > first_secret} or {key}
    with _lock:
        _keys.add(key)
        _runs.update(runs)
        if not _installed:
            _install_record_factory()
            _installed = True


def redact(text: str) -> str:
    """``text`` with every run of a registered key masked (unchanged when there is none)."""
    runs = _runs
    if not runs or not text:
        return text
    lengths = sorted({len(r) for r in runs})
    covered = bytearray(len(text))
    for i in range(len(text) - lengths[0] + 1):
        for n in lengths:
            if text[i : i + n] in runs:
                covered[i : i + n] = b"\x01" * n
    if not any(covered):
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if covered[i]:
            while i < len(text) and covered[i]:
                i += 1
            out.append(MASK)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to logging's own error report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(masked_record)

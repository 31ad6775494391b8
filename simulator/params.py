"""Query-string reading with the API's rules and error messages.

Array parameters use bracket notation (``group_by[]=a&group_by[]=b``); the un-bracketed spelling is
accepted too, since the reference leaves it unconfirmed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from simulator.errors import bad_request

IGNORED = {"beta"}  # SDK 1.x-2.2 append ?beta=true to beta paths


class Query:
    def __init__(self, items: Iterable[tuple[str, str]]):
        self._items: list[tuple[str, str]] = [(k, v) for k, v in items if k not in IGNORED]

    def canonical(self, exclude: Sequence[str] = ("page", "limit")) -> str:
        """The query minus pagination, order-independent: what a cursor is bound to."""
        norm = sorted(
            (k.removesuffix("[]"), v) for k, v in self._items if k.removesuffix("[]") not in exclude
        )
        return "&".join(f"{k}={v}" for k, v in norm)

    def has(self, name: str) -> bool:
        return any(k in (name, f"{name}[]") for k, _ in self._items)

    def one(self, name: str, default: str | None = None) -> str | None:
        values = [v for k, v in self._items if k == name]
        if len(values) > 1:
            raise bad_request(f"{name}: expected a single value")
        return values[0] if values else default

    def many(self, name: str) -> list[str]:
        return [v for k, v in self._items if k in (f"{name}[]", name)]

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.one(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"{name}: expected an integer, got {raw!r}") from None
        if not lo <= value <= hi:
            raise bad_request(f"{name}: must be between {lo} and {hi}, got {value}")
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        raw = self.one(name)
        if raw is None:
            return default
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise bad_request(f"{name}: expected true or false, got {raw!r}")

    def choice(self, name: str, allowed: Sequence[str], default: str | None = None) -> str | None:
        raw = self.one(name, default)
        if raw is not None and raw not in allowed:
            raise bad_request(f"{name}: {raw!r} is not one of {', '.join(allowed)}")
        return raw

    def choices(self, name: str, allowed: Sequence[str]) -> list[str]:
        values = self.many(name)
        for v in values:
            if v not in allowed:
                raise bad_request(f"{name}[]: {v!r} is not one of {', '.join(allowed)}")
        return list(dict.fromkeys(values))

    def _given(self, name: str, required: bool) -> str | None:
        raw = self.one(name)
        if raw is None and required:
            raise bad_request(f"{name}: this parameter is required")
        return raw

    def instant(self, name: str, *, required: bool = False) -> datetime | None:
        raw = self._given(name, required)
        return None if raw is None else parse_rfc3339(name, raw)

    def day(self, name: str, *, required: bool = False) -> date | None:
        raw = self._given(name, required)
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise bad_request(f"{name}: expected a date as YYYY-MM-DD, got {raw!r}") from None


def parse_rfc3339(name: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name}: expected an RFC 3339 datetime, got {raw!r}") from None
    if value.tzinfo is None:
        raise bad_request(f"{name}: the datetime must carry a time zone (e.g. 2026-03-01T00:00:00Z)")
    return value.astimezone(UTC)

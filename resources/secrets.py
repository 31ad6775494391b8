"""API keys that cannot leak: ``repr``, ``str`` and f-strings show only ``sk-ant-…XXXX``."""

from __future__ import annotations

import hmac


class Secret:
    """Wraps a key read from the environment; call ``reveal()`` only to build a request header."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        return mask(self._value)

    def __repr__(self) -> str:
        return f"Secret({self.masked})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return self.masked

    def __reduce_ex__(self, protocol):  # never pickled (or copied) into run storage
        raise TypeError("a Secret cannot be pickled or copied")

    def __reduce__(self):
        raise TypeError("a Secret cannot be pickled or copied")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(other._value.encode(), self._value.encode())

    def __hash__(self) -> int:
        return hash(("secret", self._value))


def mask(key: str) -> str:
    """``sk-ant-…AbCd``: the common ``sk-ant-`` prefix (if any) and the last four characters only.

    Keys of eight characters or fewer show nothing but ``…``.
    """
    if not key:
        return "<empty>"
    prefix = "sk-ant-" if key.startswith("sk-ant-") else ""
    return f"{prefix}…{key[-4:]}" if len(key) > 8 else "…"

"""API keys that cannot leak: ``repr``, ``str`` and f-strings show only ``sk-ant-…XXXX``."""

from __future__ import annotations


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

    def __reduce__(self):  # never pickled into run storage
        raise TypeError("a Secret cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("secret", self._value))


def mask(key: str) -> str:
    """``sk-ant-admin01-…AbCd``: the family prefix and the last four characters."""
    if not key:
        return "<empty>"
    prefix = "sk-ant-" if key.startswith("sk-ant-") else ""
    return f"{prefix}…{key[-4:]}" if len(key) > 8 else "…"

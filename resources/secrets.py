"""API keys that cannot leak: ``repr``, ``str`` and f-strings show only ``sk-ant-…XXXX``."""

from __future__ import annotations

import hmac
import unicodedata

from resources.redact import register


class Secret:
    """Wraps a key read from the environment; call ``reveal()`` only to build a request header."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register(value)  # from now on no 12-character run of it gets into a log or an error

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


def key_problem(value: str) -> str | None:
    """What makes ``value`` unusable as a key, without showing any of it: the first character that is
    not printable ASCII (a line break, a space, an invisible or non-ASCII character), by position and
    kind. Such a key could not be sent in a header; None when every character can be."""
    if not value:
        return "it is empty"
    for position, char in enumerate(value, 1):
        if "!" <= char <= "~":
            continue
        code = f"U+{ord(char):04X}"
        name = unicodedata.name(char, "").lower()
        if char in "\r\n" or unicodedata.category(char) in ("Zl", "Zp"):
            kind = f"a line break ({code})"
        elif unicodedata.category(char) in ("Cf", "Cc"):
            kind = f"an invisible character ({code}{f' {name}' if name else ''})"
        elif char.isspace():
            kind = f"a space character ({code}{f' {name}' if name else ''})"
        else:
            kind = f"a non-ASCII character ({code}{f' {name}' if name else ''})"
        return (
            f"character {position} of {len(value)} is {kind}; keys are printable ASCII only "
            "(it was probably copied with the key: set the variable again from the original)"
        )
    return None

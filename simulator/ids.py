"""Deterministic identifiers, keys and random streams derived from the world seed."""

from __future__ import annotations

import hashlib
import random

import numpy as np

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def digest(*parts: object) -> bytes:
    """A stable 32-byte digest of the parts (never Python's salted hash())."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def stable_int(*parts: object) -> int:
    return int.from_bytes(digest(*parts)[:8], "big")


def rng(*parts: object) -> random.Random:
    """A Python random stream that depends only on the parts."""
    return random.Random(stable_int(*parts))


def np_rng(*parts: object) -> np.random.Generator:
    """A numpy random stream that depends only on the parts."""
    return np.random.Generator(np.random.PCG64(stable_int(*parts)))


def base62(data: bytes, length: int) -> str:
    n = int.from_bytes(data, "big")
    out = []
    for _ in range(length):
        n, r = divmod(n, 62)
        out.append(_B62[r])
    return "".join(out)


def make_id(prefix: str, *parts: object, length: int = 24) -> str:
    """An id shaped like the API's, e.g. ``user_01AbC…``."""
    return f"{prefix}_01{base62(digest(prefix, *parts), length)}"


def make_uuid(*parts: object) -> str:
    h = digest("uuid", *parts).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def make_key(kind: str, *parts: object) -> str:
    """A key shaped like the real ones: ``sk-ant-admin01-…`` (Admin), ``sk-ant-api01-…`` (Analytics) or
    ``sk-ant-api03-…`` (a Claude API key: personal, service-account or workspace-scoped)."""
    prefix = {"admin": "sk-ant-admin01", "analytics": "sk-ant-api01"}.get(kind, "sk-ant-api03")
    body = base62(digest("key", kind, *parts) + digest("key2", kind, *parts), 86)
    return f"{prefix}-{body[:80]}-{body[80:86]}AA"

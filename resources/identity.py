"""Which organization a key reaches, as the API itself says: ``GET /v1/organizations/me`` (asked at most once
per key and base URL in a process) and the organization ids that responses carry (the
``anthropic-organization-id`` header, a report's ``organization_id``).

The API spells one organization's id in two forms with no documented mapping between them: a bare
UUID (``/me``, the header, Claude Code records) and ``org_…`` (the Enterprise analytics reports). An
id is therefore always compared with ids of its own form.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

ME = "/v1/organizations/me"
UUID_FORM, TAGGED_FORM = "uuid", "org_"


def id_form(api_id: str) -> str:
    """``org_`` for the analytics reports' tagged ids, ``uuid`` for the bare ids of every other answer."""
    return TAGGED_FORM if api_id.startswith("org_") else UUID_FORM


@dataclass(frozen=True)
class KeyOrganization:
    """What ``/v1/organizations/me`` answered for a key: an Admin key gets the organization (``body``);
    any other key is refused (403 as documented for an Analytics key, or 401; kept as ``refusal``, so an
    Analytics key's own validity is judged by the Analytics API it is meant for)."""

    body: dict | None
    refusal: Exception | None = None

    @property
    def is_admin_key(self) -> bool:
        return self.body is not None


_cache: dict[tuple[str, str], KeyOrganization] = {}
_locks: dict[tuple[str, str], threading.Lock] = {}
_cache_lock = threading.Lock()


def key_organization(base_url: str, key: str, ask: Callable[[], KeyOrganization]) -> KeyOrganization:
    """The cached answer for one key at one base URL; ``ask`` runs at most once per process (concurrent
    callers of the same key wait for the first one's answer). Only a digest of the key is kept."""
    slot = (base_url.rstrip("/"), hashlib.sha256(key.encode()).hexdigest())
    with _cache_lock:
        lock = _locks.setdefault(slot, threading.Lock())
    with lock:
        if slot not in _cache:
            _cache[slot] = ask()
        return _cache[slot]


class SeenOrganizations:
    """The organization ids one client's responses carried, one per form, with where each came from.

    ``note`` returns None, or a description of the conflict when a response names a different
    organization of a form already seen (one key answering for two organizations).
    """

    def __init__(self) -> None:
        self._ids: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def note(self, api_id: object, source: str) -> str | None:
        if not isinstance(api_id, str) or not api_id.strip():
            return None
        api_id = api_id.strip()
        form = id_form(api_id)
        with self._lock:
            seen = self._ids.setdefault(form, (api_id, source))
        if seen[0] != api_id:
            return f"{source} names organization {api_id}, but {seen[1]} named {seen[0]}"
        return None

    def ids(self) -> dict[str, tuple[str, str]]:
        """form -> (id, where it was seen)."""
        with self._lock:
            return dict(self._ids)

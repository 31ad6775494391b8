"""Where a key may be sent: the base URL (https, or http on loopback only) and paths relative to it."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(value: str) -> str:
    """``value`` without its trailing slash, or ValueError saying what is wrong with it.

    A key travels in a header of every request, so it only goes over TLS, except to this machine
    (the simulator, a local proxy)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL, e.g. https://api.anthropic.com")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("must be a plain URL without credentials, query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"http:// is refused for {parts.hostname}: the key would travel unencrypted. Use https://, "
            "or http:// only for this machine (localhost, 127.0.0.1, ::1)"
        )
    return value.rstrip("/")


def path_problem(path: str) -> str | None:
    """Why ``path`` is not a path relative to the base URL, or None: an absolute URL (which would send
    the key to another host), a scheme-relative ``//host``, a path without its leading ``/``, or ``.``
    and ``..`` segments that would climb out of the base URL's own path."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or path.startswith("//"):
        return "it is an absolute URL (the key is only ever sent to the configured base URL)"
    if not path.startswith("/"):
        return "it does not start with /"
    if "\\" in path or any(seg in (".", "..") for seg in parts.path.split("/")):
        return "it has . or .. segments or a backslash"
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in path):
        return "it has a space or a control character"
    return None

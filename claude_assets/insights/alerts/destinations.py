"""The webhooks alerts go to, with their URLs kept out of everything the project writes.

A webhook URL's path (and query) is its secret: whoever has it can post to the channel. Only the
scheme and host are ever shown (``endpoint``); the secret part is registered with ``resources.redact``
so no log record of the process (httpx's own included) can carry it, and answers are scrubbed of it
before they are recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from claude_assets.config import AlertsConfig
from resources.redact import redact, register

#: a secret part shorter than this is not registered for masking (it would mask common text like "/hook")
MIN_MASKED = 8


@dataclass(frozen=True)
class Destination:
    """One webhook: its name, its URL (never shown) and how it is shown."""

    name: str
    url: str = field(repr=False)

    @property
    def endpoint(self) -> str:
        return redacted(self.url)

    def scrub(self, text: str) -> str:
        """``text`` with the URL, and any registered run of its secret part, replaced by the endpoint."""
        text = text.replace(self.url, self.endpoint)
        secret = _secret_part(self.url)
        if len(secret) > 1:  # not a bare "/"
            text = text.replace(secret, "/…")
        return redact(text)

    def __repr__(self) -> str:
        return f"Destination({self.name!r}, {self.endpoint})"


def redacted(url: str) -> str:
    """``https://hooks.slack.com/…``: the scheme, host and port only."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…"


def destinations(config: AlertsConfig) -> list[Destination]:
    """The configured webhooks with their URLs read (``ConfigError`` naming the variable if one is unset)."""
    out = []
    for hook in config.webhooks:
        dest = Destination(hook.name, hook.resolved_url())
        secret = _secret_part(dest.url)
        if len(secret) >= MIN_MASKED:
            register(secret)
        out.append(dest)
    return out


def _secret_part(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")

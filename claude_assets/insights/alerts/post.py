"""One request to a webhook, and what its answer means: sent, worth trying again, or refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from claude_assets.insights.alerts.destinations import Destination

#: the most of an answer's body (or error) the log keeps
ANSWER_CHARS = 500
#: answers worth trying again: the receiver timed out, is rate limiting, or failed on its side
RETRYABLE_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Answer:
    http_status: int | None  # None: no answer (timeout, refused connection...)
    text: str  # the body or the error, truncated, never showing the URL
    retry_after: float | None = None  # seconds the receiver asked to wait (429/503)

    @property
    def sent(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300

    @property
    def retryable(self) -> bool:
        s = self.http_status
        return s is None or s in RETRYABLE_STATUS or s >= 500


def post(client: httpx.Client, dest: Destination, payload: dict, idempotency_key: str) -> Answer:
    """POST ``payload`` as JSON to ``dest``. ``Idempotency-Key`` carries the alert's key so a receiver
    that deduplicates can tell a retry after a lost answer from a new alert."""
    try:
        response = client.post(dest.url, json=payload, headers={"Idempotency-Key": idempotency_key})
    except httpx.TransportError as exc:  # timeouts, refused or broken connections
        return Answer(None, dest.scrub(f"no answer: {type(exc).__name__} ({exc})")[:ANSWER_CHARS])
    return Answer(
        response.status_code,
        dest.scrub(response.text[: ANSWER_CHARS * 4])[:ANSWER_CHARS],
        _retry_after(response.headers.get("Retry-After")),
    )


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None

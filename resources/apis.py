"""The two Dagster resources: ``ConsoleAdminApi`` (Admin key) and ``EnterpriseAnalyticsApi`` (Analytics key).

Both are GET-only by construction (their clients expose no other verb), read the key from the
environment variable an organization's configuration names at the moment a client is built (the
key is never part of the resource's config, so it never reaches Dagster's run storage or UI), and
share one rate limiter per organization across every asset in the process.
"""

from __future__ import annotations

import os
from typing import ClassVar, Protocol

import dagster as dg
import httpx
from pydantic import Field, PrivateAttr

from resources.client import ApiClient
from resources.errors import KEY_KINDS, ConfigurationError
from resources.ratelimit import limiter_for
from resources.secrets import Secret


class Organization(Protocol):
    """What a client needs to know of an organization (``claude_assets.config.OrgConfig`` fits)."""

    slug: str
    kind: str
    key_env: str

    @property
    def rate_limit(self) -> int: ...

    def resolved_base_url(self) -> str: ...


class _AnthropicApi(dg.ConfigurableResource):
    kind: ClassVar[str]
    key_kind: ClassVar[str]

    max_concurrency: int = Field(default=4, ge=1, le=32, description="requests in flight per organization")
    timeout_seconds: float = Field(default=60.0, gt=0, description="per-request timeout")
    max_retries: int = Field(default=8, ge=0, le=20, description="retries for 429/5xx/529/timeouts")
    backoff_seconds: float = Field(default=0.5, ge=0, description="first backoff; doubles each retry")

    _transport: httpx.BaseTransport | None = PrivateAttr(default=None)

    def client(self, org: Organization) -> ApiClient:
        """A client for one organization; use it as a context manager."""
        if org.kind != self.kind:
            raise ConfigurationError(
                f"organization {org.slug!r} is a {org.kind} organization; "
                f"{type(self).__name__} reads {self.kind} organizations"
            )
        value = os.environ.get(org.key_env, "").strip()
        if not value:
            raise ConfigurationError(
                f"organization {org.slug!r}: the environment variable {org.key_env} is not set. "
                f"Set it to {KEY_KINDS[self.key_kind]}."
            )
        base_url = org.resolved_base_url()
        return ApiClient(
            organization=org.slug,
            base_url=base_url,
            key=Secret(value),
            key_env=org.key_env,
            key_kind=self.key_kind,
            limiter=limiter_for(base_url, org.slug, org.rate_limit),
            max_concurrency=self.max_concurrency,
            timeout=self.timeout_seconds,
            max_retries=self.max_retries,
            backoff_base=self.backoff_seconds,
            transport=self._transport,
        )


class ConsoleAdminApi(_AnthropicApi):
    """Claude Console Admin API (``sk-ant-admin01-…``): usage, cost, Claude Code and inventory."""

    kind: ClassVar[str] = "console"
    key_kind: ClassVar[str] = "admin"


class EnterpriseAnalyticsApi(_AnthropicApi):
    """Claude Enterprise Analytics API (``read:analytics``): engagement, usage and cost of claude.ai."""

    kind: ClassVar[str] = "enterprise"
    key_kind: ClassVar[str] = "analytics"

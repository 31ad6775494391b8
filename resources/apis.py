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

from resources.client import MAX_RETRY_AFTER, REQUEST_DEADLINE, ApiClient
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
    max_retry_after_seconds: float = Field(
        default=MAX_RETRY_AFTER,
        ge=0,
        description="the longest retry-after the client honours; a server asking for more fails the request",
    )
    request_deadline_seconds: float = Field(
        default=REQUEST_DEADLINE,
        gt=0,
        description="overall deadline of one request: connecting, reading and every retry",
    )

    _transport: httpx.BaseTransport | None = PrivateAttr(default=None)

    def client(self, org: Organization) -> ApiClient:
        """A client for one organization; use it as a context manager.

        Its first request first checks, with ``/v1/organizations/me`` (once per key and process), that
        the key is of the kind the organization is configured for."""
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
            max_retry_after=self.max_retry_after_seconds,
            deadline=self.request_deadline_seconds,
            verify_organization=True,
            # inside a run, retries appear in the run's event log as they happen
            log=dg.get_dagster_logger("anthropic_api"),
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


class ApiByKind:
    """The client of each organization through the resource of its kind: an endpoint both kinds of
    organization serve (the Usage and Cost Analytics API), read with each organization's own key."""

    def __init__(self, console: ConsoleAdminApi, enterprise: EnterpriseAnalyticsApi) -> None:
        self._apis: dict[str, _AnthropicApi] = {"console": console, "enterprise": enterprise}

    def client(self, org: Organization) -> ApiClient:
        return self._apis[org.kind].client(org)

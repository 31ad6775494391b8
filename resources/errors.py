"""Typed API errors whose messages say what to do. No message ever contains a key (or a run of one)."""

from __future__ import annotations

from resources.redact import redact

KEY_KINDS = {
    "admin": "an Admin API key (sk-ant-admin01-…, created in Claude Console > Settings > Admin keys)",
    "analytics": "a Claude Enterprise Analytics API key with the read:analytics scope (sk-ant-api01-…, "
    "created by the primary owner in claude.ai > Organization settings > API)",
}


class AnthropicApiError(Exception):
    """An API call failed; ``status``/``error_type``/``request_id`` come from the response when there was one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        path: str | None = None,
        error_code: str | None = None,
        server_message: str | None = None,
    ) -> None:
        super().__init__(redact(message))
        #: the body's ``error.message`` (redacted, bounded), for callers that report the API's own words
        self.server_message = None if server_message is None else redact(server_message)
        self.status = status
        self.error_type = error_type
        self.request_id = request_id
        self.path = path
        self.error_code = error_code  # the body's error.details.error_code, when the server gave one


class ConfigurationError(AnthropicApiError):
    """A key variable is missing or the organization is not configured."""


class AuthenticationFailed(AnthropicApiError):
    """401: the key is missing, unknown or revoked."""


class PermissionDenied(AnthropicApiError):
    """403: the key is of the wrong type or lacks a scope."""


class InvalidRequest(AnthropicApiError):
    """400/404/422: the request itself is wrong; retrying will not help."""


class OrganizationNotEligible(InvalidRequest):
    """400 with ``error.details.error_code`` saying the endpoint is not offered to this organization
    (``organization_not_eligible``: e.g. HIPAA readiness on the Usage and Cost Analytics API;
    ``organization_type_not_supported``). Retrying will not help; a caller may skip the endpoint for it."""


#: ``error.details.error_code`` values of a 400 that refuse the organization, not the request
NOT_ELIGIBLE = {
    "organization_not_eligible": "the endpoint is not offered to this organization (e.g. HIPAA readiness enabled)",
    "organization_type_not_supported": "the endpoint does not support this type of organization",
}


class CursorExpired(AnthropicApiError):
    """410: the data was refreshed under the cursor; pagination must restart from the first page."""


class RetriesExhausted(AnthropicApiError):
    """429/5xx/529/timeouts/malformed bodies persisted through every retry."""


class RetryAfterTooLong(RetriesExhausted):
    """The server asked to wait longer than the client's cap (``max_retry_after_seconds``)."""


class DeadlineExceeded(RetriesExhausted):
    """A request (connect, read and retries) did not finish within its overall deadline."""


class LimitReached(AnthropicApiError):
    """The server says a limit was reached that retrying will not lift (``error.details.error_code``:
    a spend limit, an organization on hold); the run stops instead of retrying."""


class RefusedRequest(AnthropicApiError):
    """The client refused to send a request: a path that is not relative to the base URL."""


class OrganizationMismatch(AnthropicApiError):
    """The key reaches another organization (or kind of organization) than the one it is configured for."""


def auth_message(status: int, key_env: str, key_kind: str, server_message: str, path: str) -> str:
    needed = KEY_KINDS[key_kind]
    if status == 401:
        return (
            f"The API rejected the key in ${key_env} (401 on GET {path}: {server_message}). "
            f"Set {key_env} to {needed}."
        )
    return (
        f"The key in ${key_env} is not allowed to call GET {path} (403: {server_message}). "
        f"This endpoint needs {needed}; check that {key_env} holds that kind of key."
    )

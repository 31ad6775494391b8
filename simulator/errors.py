"""API errors in the documented envelope: ``{"type":"error","error":{...},"request_id":...}``."""

from __future__ import annotations

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    410: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


class ApiError(Exception):
    """Raised by handlers; the app turns it into the documented error body."""

    def __init__(
        self, status: int, message: str, *, details: dict | None = None, headers: dict | None = None
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers or {}

    @property
    def error_type(self) -> str:
        return ERROR_TYPES.get(self.status, "api_error")

    def body(self, request_id: str) -> dict:
        error: dict = {"type": self.error_type, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"type": "error", "error": error, "request_id": request_id}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")

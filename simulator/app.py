"""The app: the Simulator state, authentication, rate limits, faults, errors and routing for every endpoint.

The top of the simulator: it wires the data generators in (``DATA_FACTORIES``) and mounts the routes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from functools import cached_property

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.activity import ActivityPlan
from simulator.clock import SimClock
from simulator.errors import ApiError
from simulator.faults import FaultPlan
from simulator.generators.console.generator import ConsoleData
from simulator.generators.engagement.generator import EngagementData
from simulator.generators.reports.console import ConsoleReports
from simulator.generators.reports.records import ReportData
from simulator.params import IGNORED, Query
from simulator.ratelimit import SlidingWindowLimiter
from simulator.routes.context import Ctx, Endpoint
from simulator.routes.control import control_routes
from simulator.routes.endpoints import all_endpoints
from simulator.shapes import DEFAULT_SHAPES, check_shapes, serves_sdk
from simulator.stalls import Stalls
from simulator.world import World
from simulator.world.organization import Organization

KEY_NAMES = {
    "admin": "an Admin API key (sk-ant-admin01-...)",
    "analytics": "a Claude Enterprise Analytics API key with the read:analytics scope (sk-ant-api01-...)",
    "personal": "a personal API key not scoped to a workspace (sk-ant-api03-...)",
    "service_account": "a service-account API key not scoped to a workspace (sk-ant-api03-...)",
    "workspace": "an API key scoped to a workspace (sk-ant-api03-...)",
}
#: what a key of each type may read, as the 403 names it (reference 0.1: "the scopes the key has")
KEY_SCOPES = {
    "admin": "with scopes [admin] (every Admin API endpoint)",
    "analytics": "with scopes [read:analytics]",
    "personal": "with no Admin API scope: it reads only the usage and cost reports "
    "(/v1/organizations/analytics/usage and /cost)",
    "service_account": "with no Admin API scope: it reads only the usage and cost reports "
    "(/v1/organizations/analytics/usage and /cost)",
    "workspace": "with no organization scope: it reads no Admin API endpoint",
}
#: The data generator of each kind; ``Simulator.data`` builds one per organization on first use.
DATA_FACTORIES: dict[str, Callable] = {
    "console": ConsoleData,
    "activity": ActivityPlan,
    "engagement": EngagementData,
    "reports": ReportData,
    "console_reports": ConsoleReports,
}


@dataclass
class Simulator:
    """Everything a running simulator holds: the world, its clock, faults and per-org state."""

    world: World = field(repr=False)
    clock: SimClock = field(default_factory=SimClock)
    faults: FaultPlan = field(default_factory=FaultPlan)
    engagement_lag_days: int = 1  # engagement day D is published at 10:00 UTC on D + lag
    refresh_hours: int = 4  # Enterprise usage/cost reports are re-exported every N hours
    revision_days: int = 30  # ...and values of the last N days may still change at each export
    shapes: str = DEFAULT_SHAPES  # both | docs | sdk: which documented variant to serve (simulator.shapes)
    strict_params: bool = False  # refuse query parameters the reference does not document for the endpoint
    stalls: Stalls = field(default_factory=Stalls)  # sources that stopped advancing (simulator.stalls)
    #: a server at odds with itself (tests of the parity check): the Usage and Cost Analytics cost endpoint adds
    #: this many cents to every row that names a model; 0 (the default) keeps it equal to the legacy reports
    analytics_cost_skew_cents: int = 0
    _data: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        check_shapes(self.shapes)

    @cached_property
    def limiters(self) -> dict[str, SlidingWindowLimiter]:
        return {o.slug: SlidingWindowLimiter(o.rate_limit) for o in self.world.organizations}

    def data(self, org: Organization, kind: str):
        """The lazily built data generator of one kind (console, activity, engagement, reports) for an org."""
        key = (org.slug, kind)
        if key not in self._data:
            self._data[key] = DATA_FACTORIES[kind](org)
        return self._data[key]

    def now(self) -> datetime:
        return self.clock.now()


def _request_id(request: Request) -> str:
    h = hashlib.sha256(f"{request.method} {request.url.path}?{request.url.query}".encode()).digest()
    return "req_011" + base64.b32encode(h).decode().rstrip("=")[:24]


def _json(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _authenticate(sim: Simulator, request: Request, endpoint: Endpoint) -> tuple[Organization, str]:
    """The organization the request's key opens and the key's type; 401 or 403 otherwise."""
    key = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    # the docs send x-api-key; the SDK from 2.0 on sends the key as a bearer token
    if not key and auth.lower().startswith("bearer ") and serves_sdk(sim.shapes):
        key = auth[7:].strip()
    if not key:
        accepted = (
            "x-api-key header (or Authorization: Bearer)" if serves_sdk(sim.shapes) else "x-api-key header"
        )
        raise ApiError(401, f"the {accepted} is required")
    found = sim.world.credential(key)
    if found is None:
        raise ApiError(401, "invalid x-api-key")
    org, key_type = found
    if key_type not in endpoint.keys:
        needed = " or ".join(KEY_NAMES[k] for k in endpoint.keys)
        details = None
        if key_type == "admin" and endpoint.keys == ("analytics",):
            details = {"error_code": "organization_type_not_supported"}
        raise ApiError(
            403,
            f"This endpoint requires {needed}. The key used is {KEY_NAMES[key_type]} {KEY_SCOPES[key_type]}.",
            details=details,
        )
    return org, key_type


def _check_params(request: Request, endpoint: Endpoint) -> None:
    """Strict mode: every query parameter must be one the reference documents for the endpoint."""
    for name in dict.fromkeys(request.query_params.keys()):
        if name in IGNORED or name in endpoint.params:
            continue
        if f"{name}[]" in endpoint.params:
            hint = f"; it is an array parameter: send it as {name}[]"
        elif name.endswith("[]") and name[:-2] in endpoint.params:
            hint = f"; it takes a single value: send it as {name[:-2]}"
        else:
            hint = f"; documented parameters: {', '.join(endpoint.params) or 'none'}"
        raise ApiError(400, f"{name}: unknown query parameter for GET {endpoint.path}{hint}")


def _make_view(sim: Simulator, endpoint: Endpoint):
    async def view(request: Request) -> Response:
        request_id = _request_id(request)
        # the Date header follows the simulated clock, as a real server's follows its own
        headers = {"request-id": request_id, "date": format_datetime(sim.now(), usegmt=True)}
        try:
            org, key_type = _authenticate(sim, request, endpoint)
            headers["anthropic-organization-id"] = org.uuid
            allowed, remaining, reset = sim.limiters[org.slug].try_acquire()
            rl = {
                "anthropic-ratelimit-requests-limit": str(org.rate_limit),
                "anthropic-ratelimit-requests-remaining": str(remaining),
                "anthropic-ratelimit-requests-reset": str(reset),
            }
            if not allowed:
                raise ApiError(
                    429,
                    f"Rate limit of {org.rate_limit} requests per minute exceeded for this "
                    "organization; retry after the number of seconds in the retry-after header.",
                    headers={**rl, "retry-after": str(reset)},
                )
            headers.update(rl)
            if sim.strict_params:
                _check_params(request, endpoint)
            fault = sim.faults.draw(has_cursor=bool(request.query_params.get(endpoint.cursor_param)))
            if fault == "429":
                raise ApiError(
                    429,
                    "Rate limited (injected).",
                    headers={"retry-after": str(sim.faults.retry_after_seconds)},
                )
            if fault == "spend_limit":
                raise ApiError(
                    429,
                    "Your organization has crossed the monthly usage threshold of its API tier (injected).",
                    details={"error_code": "enforced_spend_limit_reached"},
                )
            if fault == "500":
                raise ApiError(500, "Internal server error (injected).")
            if fault == "529":
                raise ApiError(529, "Overloaded (injected).")
            if fault == "410":
                raise ApiError(
                    410,
                    "page: the cursor expired because the report data was refreshed; "
                    "restart pagination from the first page (injected)",
                )
            if fault == "timeout":
                await asyncio.sleep(sim.faults.timeout_seconds)
                raise ApiError(504, "Request timed out (injected).")
            now = sim.now()
            ctx = Ctx(
                sim,
                org,
                key_type,
                Query(request.query_params.multi_items()),
                {k.lower(): v for k, v in request.headers.items()},
                dict(request.path_params),
                now,
                endpoint.path,
                sim.stalls.data_now(now, org.slug, endpoint.path),
            )
            body = await run_in_threadpool(endpoint.handler, ctx)
            if fault == "garbage":
                raw = orjson.dumps(body)
                return Response(raw[: max(1, len(raw) // 2)], media_type="application/json", headers=headers)
            return _json(body, headers=headers)
        except ApiError as err:
            return _json(err.body(request_id), err.status, {**headers, **err.headers})

    return view


def create_app(sim: Simulator) -> Starlette:
    routes = [Route(e.path, _make_view(sim, e), methods=["GET"]) for e in all_endpoints()]
    routes += control_routes(sim)

    async def not_found(request: Request, exc) -> Response:
        err = ApiError(404, f"Not found: {request.method} {request.url.path}")
        return _json(err.body(_request_id(request)), 404)

    async def method_not_allowed(request: Request, exc) -> Response:
        err = ApiError(
            405, f"{request.method} is not supported here: the simulator serves the read-only (GET) API"
        )
        return _json(err.body(_request_id(request)), 405)

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: method_not_allowed})
    app.state.sim = sim
    return app

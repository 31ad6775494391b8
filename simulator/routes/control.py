"""Simulator-only routes under ``/_simulator``: health, world, clock and config control, ground truth."""

from __future__ import annotations

import json
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.clock import iso, parse_instant
from simulator.shapes import check_shapes
from simulator.stalls import check_source
from simulator.truth import truth as compute


def _json(body, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), default=str),
        status_code=status,
        media_type="application/json",
    )


def control_routes(sim) -> list[Route]:
    async def health(request: Request) -> Response:
        return _json({"status": "ok", "world": sim.world.name, "now": iso(sim.now())})

    async def world(request: Request) -> Response:
        return _json(
            {
                "world": sim.world.name,
                "seed": sim.world.seed,
                "organizations": [
                    {
                        "slug": o.slug,
                        "kind": o.kind,
                        "name": o.name,
                        "id": o.uuid,
                        "analytics_id": o.analytics_id,
                        "key_type": o.key_type,
                        "api_key": o.api_key,
                        "keys": o.keys,
                        "rate_limit_per_minute": o.rate_limit,
                    }
                    for o in sim.world.organizations
                ],
            }
        )

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await request.json() if await request.body() else {}
                if "advance_seconds" in body:
                    sim.clock.advance(float(body["advance_seconds"]))
                if "now" in body or "speed" in body:
                    sim.clock.set(
                        parse_instant(body["now"]) if "now" in body else None,
                        float(body["speed"]) if "speed" in body else None,
                    )
            except (ValueError, TypeError) as exc:
                return _json({"error": str(exc)}, 400)
        return _json({"now": iso(sim.now()), "speed": sim.clock.speed})

    async def config(request: Request) -> Response:
        """The response shapes served and whether unknown query parameters are refused."""
        if request.method == "POST":
            try:
                body = await request.json() if await request.body() else {}
                if not isinstance(body, dict):
                    raise ValueError('expected a JSON object such as {"shapes": "docs"}')
                unknown = set(body) - {"shapes", "strict_params"}
                if unknown:
                    raise ValueError(f"unknown settings {sorted(unknown)}; known: shapes, strict_params")
                shapes = check_shapes(body.get("shapes", sim.shapes))
                strict = body.get("strict_params", sim.strict_params)
                if not isinstance(strict, bool):
                    raise ValueError(f"strict_params: expected true or false, got {strict!r}")
            except (ValueError, TypeError) as exc:
                return _json({"error": str(exc)}, 400)
            sim.shapes, sim.strict_params = shapes, strict
        return _json({"shapes": sim.shapes, "strict_params": sim.strict_params})

    async def stalls(request: Request) -> Response:
        """Stall a source of one organization from a day (it stops advancing, no error), or resume it."""
        if request.method == "POST":
            try:
                body = await request.json() if await request.body() else {}
                if not isinstance(body, dict) or not {"source", "org"} <= set(body):
                    raise ValueError(
                        'expected {"source": S, "org": SLUG, "from": "YYYY-MM-DD"} to stall, or '
                        '{"source": S, "org": SLUG, "from": null} to resume'
                    )
                source, org = check_source(body["source"]), body["org"]
                if org not in {o.slug for o in sim.world.organizations}:
                    raise ValueError(
                        f"unknown organization {org!r}; known: {', '.join(o.slug for o in sim.world.organizations)}"
                    )
                if body.get("from") is None:
                    sim.stalls.resume(source, org)
                else:
                    sim.stalls.stall(source, org, date.fromisoformat(str(body["from"])))
            except (ValueError, TypeError) as exc:
                return _json({"error": str(exc)}, 400)
        return _json({"stalls": sim.stalls.listing()})

    async def truth(request: Request) -> Response:
        q = dict(request.query_params)
        try:
            org, kind = q.pop("org"), q.pop("kind")
            start, end = date.fromisoformat(q.pop("start")), date.fromisoformat(q.pop("end"))
            return _json(compute(sim, org, kind, start, end, **q))
        except (KeyError, ValueError) as exc:
            return _json(
                {
                    "error": f"{type(exc).__name__}: {exc}",
                    "usage": "/_simulator/truth?org=SLUG&kind=KIND&start=YYYY-MM-DD&end=YYYY-MM-DD",
                },
                400,
            )

    return [
        Route("/_simulator/health", health),
        Route("/_simulator/world", world),
        Route("/_simulator/clock", clock, methods=["GET", "POST"]),
        Route("/_simulator/config", config, methods=["GET", "POST"]),
        Route("/_simulator/stalls", stalls, methods=["GET", "POST"]),
        Route("/_simulator/truth", truth),
    ]

"""``python -m simulator``: serve a simulated Anthropic Admin + Enterprise Analytics API on loopback."""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console
from rich.table import Table

from simulator.app import Simulator
from simulator.clock import SimClock, parse_instant
from simulator.faults import KINDS, FaultPlan
from simulator.serve import LOOPBACK, serve_forever
from simulator.shapes import DEFAULT_SHAPES, SHAPES
from simulator.stalls import SOURCES, parse_stall
from simulator.world import World
from simulator.world.profiles import PROFILES


def parse_rate_limits(text: str | None) -> dict[str, int]:
    limits: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        kind, _, value = part.partition("=")
        if kind not in ("console", "enterprise") or not value.isdigit() or int(value) < 1:
            raise ValueError(f"--rate-limit: expected console=N,enterprise=N with N >= 1, got {part!r}")
        limits[kind] = int(value)
    return limits


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    p.add_argument("--world", choices=list(PROFILES), default="demo", help="size profile (default: demo)")
    p.add_argument("--seed", type=int, default=7, help="world seed (default: 7)")
    p.add_argument("--port", type=int, default=8787, help="loopback port (default: 8787; 0 picks a free one)")
    p.add_argument(
        "--now", help="simulated instant (ISO 8601, UTC); freezes the clock unless --speed is given"
    )
    p.add_argument(
        "--speed", type=float, help="clock speed factor (1 = real time, 3600 = an hour per second)"
    )
    p.add_argument("--faults", help=f"fault rates, e.g. 429=0.05,500=0.02 (kinds: {', '.join(KINDS)})")
    p.add_argument(
        "--fault-timeout", type=float, default=30.0, help="seconds an injected timeout holds a request"
    )
    p.add_argument(
        "--rate-limit", help="requests per minute per organization, e.g. console=120,enterprise=60"
    )
    p.add_argument(
        "--engagement-lag-days", type=int, default=1, help="engagement data lag in days (default: 1)"
    )
    p.add_argument(
        "--shapes",
        choices=SHAPES,
        default=DEFAULT_SHAPES,
        help="where the reference documents several response shapes: serve both (the union), or the docs' "
        f"or the SDK's alone (default: {DEFAULT_SHAPES})",
    )
    p.add_argument(
        "--strict-params",
        action="store_true",
        help="refuse (400) query parameters the reference does not document for the endpoint "
        "(default: ignore them, as the API ignores beta=true)",
    )
    p.add_argument(
        "--hipaa-ready",
        action="append",
        default=[],
        metavar="ORG",
        help="an organization with HIPAA readiness enabled: the Usage and Cost Analytics API (/analytics/usage, "
        "/analytics/cost) answers it 400 organization_not_eligible; repeatable",
    )
    p.add_argument(
        "--stall",
        action="append",
        default=[],
        metavar="SOURCE:ORG:DAY",
        help="stall a source of one organization from 00:00 UTC on DAY: it stops advancing, with no error "
        f"(sources: {', '.join(SOURCES)}); repeatable; resume with POST /_simulator/stalls",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        clock = SimClock(parse_instant(args.now) if args.now else None, args.speed)
        faults = FaultPlan.parse(args.faults, seed=args.seed, timeout_seconds=args.fault_timeout)
        world = World.build(
            args.world, args.seed, parse_rate_limits(args.rate_limit), hipaa_ready=args.hipaa_ready
        )
        stalls = [parse_stall(text) for text in args.stall]
        unknown = sorted({org for _, org, _ in stalls} - {o.slug for o in world.organizations})
        if unknown:
            raise ValueError(f"--stall: unknown organization {unknown[0]!r} in world {world.name}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sim = Simulator(
        world,
        clock,
        faults,
        engagement_lag_days=args.engagement_lag_days,
        shapes=args.shapes,
        strict_params=args.strict_params,
    )
    for source, org, day in stalls:
        sim.stalls.stall(source, org, day)
    out = Console()
    table = Table(title=f"Simulated organizations (world {world.name}, seed {world.seed})")
    for col in ("slug", "kind", "name", "key type", "limit/min", "HIPAA ready"):
        table.add_column(col)
    for org in world.organizations:
        table.add_row(
            org.slug, org.kind, org.name, org.key_type, str(org.rate_limit), "yes" if org.hipaa_ready else ""
        )
    out.print(table)
    out.print("Keys (simulated; they only open this simulator):")
    for org in world.organizations:
        print(f"  {org.slug}: {org.api_key}")
        for kind, key in org.keys.items():
            if key != org.api_key:
                print(f"  {org.slug} ({kind.replace('_', '-')} key): {key}")
    out.print(
        f"Base URL: http://{LOOPBACK}:{args.port}   clock: {clock.now().isoformat()} (speed {clock.speed})   "
        f"faults: {faults.describe()}   shapes: {sim.shapes}   "
        f"unknown query parameters: {'refused' if sim.strict_params else 'ignored'}   ready in {time.monotonic() - started:.2f}s"
    )
    out.print(
        "Control: GET /_simulator/world, GET|POST /_simulator/clock, GET|POST /_simulator/config, "
        "GET|POST /_simulator/stalls, GET /_simulator/truth"
    )
    for stall in sim.stalls.listing():
        out.print(
            f"Stalled: {stall['source']} of {stall['org']} from {stall['from']} (no newer data, no error)"
        )
    serve_forever(sim, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

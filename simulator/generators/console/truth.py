"""Ground truth of the Console endpoints: billed cost, token usage, Claude Code and request minimums."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, timedelta
from decimal import Decimal

from simulator.catalog import microcents_to_usd
from simulator.clock import day_start
from simulator.generators.console.generator import ConsoleData
from simulator.generators.console.records import COST_FIELDS, METRICS


def _days(start: date, end: date):
    d = start
    while d < end:
        yield d
        d += timedelta(days=1)


def _console(sim, org) -> ConsoleData:
    if org.kind != "console":
        raise ValueError(f"{org.slug} is not a Console organization")
    return sim.data(org, "console")


def truth_console_cost(sim, org, start: date, end: date, params: dict) -> dict:
    """Billed cost in USD per day, with breakdowns by workspace, model, cost type and description."""
    data = _console(sim, org)
    last = sim.now().astimezone(UTC).date()  # only completed days are billed
    days = {}
    total = Decimal(0)
    for d in _days(start, min(end, last)):
        by: dict[str, dict] = {
            "workspace_id": defaultdict(int),
            "model": defaultdict(int),
            "cost_type": defaultdict(int),
            "description": defaultdict(int),
        }
        day_total = 0
        for line in data.cost_lines(d):
            f = dict(zip(COST_FIELDS, line.fields, strict=True))
            for dim, acc in by.items():
                acc[str(f[dim])] += line.microcents
            day_total += line.microcents
        total += microcents_to_usd(day_total)
        days[d.isoformat()] = {
            "amount_usd": str(microcents_to_usd(day_total)),
            **{
                f"by_{dim}": {k: str(microcents_to_usd(v)) for k, v in sorted(acc.items())}
                for dim, acc in by.items()
            },
        }
    return {"org": org.slug, "currency": "USD", "total_usd": str(total), "days": days}


def truth_console_usage(sim, org, start: date, end: date, params: dict) -> dict:
    """Token totals per day (whole completed days; today as visible now), total and by model."""
    data = _console(sim, org)
    now = sim.now()
    days = {}
    for d in _days(start, end):
        recs = data.visible(day_start(d), day_start(d) + timedelta(days=1), now - timedelta(minutes=5))
        totals = [0] * len(METRICS)
        by_model: dict[str, list[int]] = defaultdict(lambda: [0] * len(METRICS))
        for rec in recs:
            for i, v in enumerate(rec.metrics):
                totals[i] += v
                by_model[rec.dims[4]][i] += v
        days[d.isoformat()] = {
            "totals": dict(zip(METRICS, totals, strict=True)),
            "records": len(recs),
            "by_model": {m: dict(zip(METRICS, v, strict=True)) for m, v in sorted(by_model.items())},
        }
    return {"org": org.slug, "days": days}


def truth_claude_code(sim, org, start: date, end: date, params: dict) -> dict:
    """Claude Code rows, sessions and estimated cost (USD) per day."""
    data = _console(sim, org)
    days = {}
    for d in _days(start, end):
        rows = data.claude_code(d)
        cents = sum((m[5] for row in rows for m in row.models), Decimal(0))
        days[d.isoformat()] = {
            "rows": len(rows),
            "sessions": sum(r.core["num_sessions"] for r in rows),
            "estimated_cost_usd": str(cents / 100),
        }
    return {"org": org.slug, "days": days}


def truth_min_requests(sim, org, start: date, end: date, params: dict) -> dict:
    """Fewest requests a complete pull of [start, end) needs, per Console endpoint, at the largest limits."""
    data = _console(sim, org)
    n_days = max(0, (end - start).days)
    windows = -(-n_days // 31)
    today = sim.now().astimezone(UTC).date()
    cc = sum(
        max(1, -(-len(data.claude_code(d)) // 1000))
        for d in _days(start, min(end, today + timedelta(days=1)))
    )
    inventory_now = today
    users = len(org.users_on(inventory_now))
    per_ws = sum(
        max(1, -(-len([m for m in ms if m[0].member_on(inventory_now)]) // 1000))
        for ms in org.workspace_members.values()
    )
    return {
        "usage_report_messages": windows,
        "cost_report": -(-max(0, (min(end, today) - start).days) // 31),
        "usage_report_claude_code": cc,
        "users": max(1, -(-users // 1000)),
        "workspaces": 1,
        "workspace_members": per_ws,
        "api_keys": max(1, -(-len(org.api_keys) // 1000)),
        "invites": max(1, -(-len(org.invites) // 1000)),
        "organization": 1,
    }

"""Ground truth of the Console endpoints: billed cost, token usage, Claude Code and request minimums."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
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


LIST_PAGE = 1000  # the largest page of the ID-cursor lists


def _pages(items: int) -> int:
    return max(1, -(-items // LIST_PAGE))


def inventory_items(org, now: datetime) -> dict[str, int]:
    """What a complete read of the inventory at ``now`` lists, per list request: exactly the entities the
    routes return (users who are members, invites already sent, keys and workspaces already created,
    archived workspaces included) and the member lists of the workspaces not archived, the default one
    included."""
    today = now.astimezone(UTC).date()
    named = [w for w in org.workspaces if w.created <= today]
    listed = [w for w in (org.default_workspace, *named) if w.created <= today]
    return {
        "users": len(org.users_on(today)),
        # with include_default=true, and without it: the one missing from the second list is the default
        # workspace, which no field of the workspace object names
        "workspaces": len(listed),
        "named_workspaces": len(named),
        "invites": sum(1 for i in org.invites if i.invited <= now),
        "api_keys": sum(1 for k in org.api_keys if k.created <= today),
        **{
            f"members:{w.id}": sum(1 for u, _ in org.workspace_members.get(w.id, ()) if u.member_on(today))
            for w in listed
            if w.active_on(today)
        },
    }


def truth_min_requests(sim, org, start: date, end: date, params: dict) -> dict:
    """Fewest requests a complete pull of [start, end) needs, per Console endpoint, at the largest limits.

    The inventory counts are those of a complete read at the simulator's clock (``inventory_items``):
    ``workspaces`` is two lists (with and without the default workspace), ``workspace_members`` one list
    per workspace not archived.
    """
    data = _console(sim, org)
    n_days = max(0, (end - start).days)
    windows = -(-n_days // 31)
    now = sim.now()
    today = now.astimezone(UTC).date()
    cc = sum(
        max(1, -(-len(data.claude_code(d)) // 1000))
        for d in _days(start, min(end, today + timedelta(days=1)))
    )
    items = inventory_items(org, now)
    return {
        "usage_report_messages": windows,
        "cost_report": -(-max(0, (min(end, today) - start).days) // 31),
        "usage_report_claude_code": cc,
        "users": _pages(items["users"]),
        "workspaces": _pages(items["workspaces"]) + _pages(items["named_workspaces"]),
        "workspace_members": sum(_pages(n) for k, n in items.items() if k.startswith("members:")),
        "api_keys": _pages(items["api_keys"]),
        "invites": _pages(items["invites"]),
        "organization": 1,
        "inventory_items": items,
    }


def truth_anomalies(sim, org, start: date, end: date, params: dict) -> dict:
    """Every cost spike injected in [start, end): one of the busiest API keys spending 4-8x on one day. A spike drawn for a key
    with no usage that day changes nothing and is not listed."""
    data = _console(sim, org)
    out = []
    for d in _days(start, end):
        spike = data.spike(d)
        if spike and any(rec.dims[1] == spike[0] for rec in data.records(d)):
            key, multiplier = spike
            out.append(
                {
                    "org": org.slug,
                    "day": d.isoformat(),
                    "slice_kind": "api_key",
                    "slice": key,
                    "multiplier": round(multiplier, 6),
                }
            )
    return {"org": org.slug, "anomalies": out}

"""Part A: the Claude Console Admin API usage report, cost report and Claude Code report."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from simulator.catalog import SERVICE_TIERS, format_cents
from simulator.clock import day_start, iso
from simulator.errors import bad_request
from simulator.generators.console.generator import ConsoleData
from simulator.generators.console.records import COST_FIELDS, DIMS, METRICS
from simulator.params import parse_rfc3339
from simulator.routes.context import Ctx, Endpoint
from simulator.routes.paging import offset_window

FAST_MODE_BETA = "fast-mode-2026-02-01"
GROUP_BY = (
    "account_id",
    "api_key_id",
    "context_window",
    "inference_geo",
    "model",
    "service_account_id",
    "service_tier",
    "speed",
    "workspace_id",
)
WIDTHS = {
    "1d": (timedelta(days=1), 7, 31),
    "1h": (timedelta(hours=1), 24, 168),
    "1m": (timedelta(minutes=1), 60, 1440),
}
USAGE_FILTERS = {
    "models": "model",
    "api_key_ids": "api_key_id",
    "workspace_ids": "workspace_id",
    "account_ids": "account_id",
    "service_account_ids": "service_account_id",
    "service_tiers": "service_tier",
    "context_window": "context_window",
    "inference_geos": "inference_geo",
    "speeds": "speed",
}
USAGE_LAG = timedelta(minutes=5)


def _data(ctx: Ctx) -> ConsoleData:
    return ctx.sim.data(ctx.org, "console")


def _floor(t: datetime, width: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((t - epoch) // width) * width


def _range_error():
    return bad_request("Invalid date range: ending date must be after starting date")


# -- usage report ----------------------------------------------------------------------------------
def usage_messages(ctx: Ctx) -> dict:
    q = ctx.query
    width_name = q.choice("bucket_width", tuple(WIDTHS), "1d")
    width, default_limit, max_limit = WIDTHS[width_name]
    limit = q.integer("limit", default_limit, 1, max_limit)
    fast_beta = ctx.beta(FAST_MODE_BETA)
    group_by = q.choices("group_by", GROUP_BY)
    if "speed" in group_by and not fast_beta:
        raise bad_request(f"group_by[]=speed requires the anthropic-beta header {FAST_MODE_BETA}")
    filters = {}
    for param, dim in USAGE_FILTERS.items():
        values = q.many(param)
        if values:
            if param == "speeds" and not fast_beta:
                raise bad_request(f"speeds[] requires the anthropic-beta header {FAST_MODE_BETA}")
            allowed = {
                "service_tiers": SERVICE_TIERS,
                "context_window": ("0-200k", "200k-1M"),
                "inference_geos": ("global", "us", "not_available"),
                "speeds": ("fast", "standard"),
            }.get(param)
            if allowed:
                q.choices(param, allowed)
            filters[DIMS.index(dim)] = set(values)
    start = _floor(q.instant("starting_at", required=True), width)
    cutoff = ctx.data_now - USAGE_LAG
    end_param = q.instant("ending_at")
    if end_param is not None and end_param <= start:
        raise _range_error()
    # buckets that start on/after starting_at and end on/before ending_at; never past the present
    last_start = _floor(cutoff, width)
    count = 0 if last_start < start else (last_start - start) // width + 1
    count = min(count, max(0, (end_param - start) // width) if end_param is not None else limit)
    begin, stop, nxt = offset_window(ctx, count, limit)
    starts = [start + i * width for i in range(begin, stop)]
    data = _data(ctx)
    idx = [DIMS.index(g) for g in group_by]
    buckets = []
    for s in starts:
        groups: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(METRICS))
        for rec in data.visible(s, s + width, cutoff):
            if any(rec.dims[i] not in allowed for i, allowed in filters.items()):
                continue
            acc = groups[tuple(rec.dims[i] for i in idx)]
            for i, v in enumerate(rec.metrics):
                acc[i] += v
        results = []
        for key in sorted(groups, key=lambda k: tuple("" if v is None else v for v in k)):
            m = groups[key]
            row = {
                "uncached_input_tokens": m[0],
                "cache_creation": {"ephemeral_1h_input_tokens": m[2], "ephemeral_5m_input_tokens": m[1]},
                "cache_read_input_tokens": m[3],
                "output_tokens": m[4],
                "server_tool_use": {"web_search_requests": m[5]},
            }
            grouped = dict(zip(group_by, key, strict=True))
            for dim in DIMS:
                if dim != "speed":  # speed is returned only with the fast-mode beta header
                    row[dim] = grouped.get(dim)
            if fast_beta:
                row["speed"] = grouped.get("speed")
            results.append(row)
        buckets.append({"starting_at": iso(s), "ending_at": iso(s + width), "results": results})
    return {"data": buckets, "has_more": nxt is not None, "next_page": nxt}


# -- cost report -----------------------------------------------------------------------------------
def cost_report(ctx: Ctx) -> dict:
    q = ctx.query
    q.choice("bucket_width", ("1d",), "1d")
    limit = q.integer("limit", 7, 1, 31)
    group_by = q.choices("group_by", ("description", "workspace_id"))
    fast_beta = ctx.beta(FAST_MODE_BETA)
    start = day_start(q.instant("starting_at", required=True).date())
    end_param = q.instant("ending_at")
    if end_param is not None and end_param <= start:
        raise _range_error()
    today = day_start(ctx.now.astimezone(UTC).date())  # only completed UTC days
    end = min(day_start(end_param.date()) if end_param else start + timedelta(days=limit), today)
    if end <= start:
        raise _range_error()
    stalled_at = day_start(ctx.data_now.astimezone(UTC).date())  # a stalled source serves no newer day
    end = max(start, min(end, stalled_at))
    days = [(start + timedelta(days=i)).date() for i in range((end - start).days)]
    begin, stop, nxt = offset_window(ctx, len(days), limit)
    data = _data(ctx)
    keep = [COST_FIELDS.index("workspace_id")] if "workspace_id" in group_by else []
    if "description" in group_by:
        keep += [i for i, f in enumerate(COST_FIELDS) if f != "workspace_id"]
    keep.sort()
    buckets = []
    for d in days[begin:stop]:
        groups: dict[tuple, int] = defaultdict(int)
        for line in data.cost_lines(d):
            groups[tuple(line.fields[i] for i in keep)] += line.microcents
        results = []
        for key in sorted(groups, key=lambda k: tuple("" if v is None else v for v in k)):
            f = dict(zip((COST_FIELDS[i] for i in keep), key, strict=True))
            row = {"currency": "USD", "amount": format_cents(groups[key])}
            for name in (
                "workspace_id",
                "description",
                "cost_type",
                "context_window",
                "model",
                "service_tier",
                "token_type",
                "inference_geo",
            ):
                row[name] = f.get(name)
            if fast_beta:
                row["speed"] = f.get("speed")
            results.append(row)
        buckets.append(
            {
                "starting_at": iso(day_start(d)),
                "ending_at": iso(day_start(d) + timedelta(days=1)),
                "results": results,
            }
        )
    return {"data": buckets, "has_more": nxt is not None, "next_page": nxt}


# -- Claude Code -----------------------------------------------------------------------------------
def claude_code(ctx: Ctx) -> dict:
    q = ctx.query
    raw = q.one("starting_at")
    if raw is None:
        raise bad_request("starting_at: this parameter is required (a UTC date, YYYY-MM-DD)")
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else parse_rfc3339("starting_at", raw).date()
    except ValueError:
        raise bad_request(f"starting_at: expected a date as YYYY-MM-DD, got {raw!r}") from None
    limit = q.integer("limit", 20, 1, 1000)
    # only data older than one hour is included: a day is complete an hour after it ends
    visible_until = ctx.data_now - timedelta(hours=1)
    rows = _data(ctx).claude_code(day) if day_start(day) < visible_until else ()
    fraction = min(1.0, (visible_until - day_start(day)).total_seconds() / 86400) if rows else 0.0
    begin, stop, nxt = offset_window(ctx, len(rows), limit)
    out = []
    for row in rows[begin:stop]:
        out.append(_claude_code_row(ctx, day, row, fraction))
    return {"data": out, "has_more": nxt is not None, "next_page": nxt}


def _claude_code_row(ctx: Ctx, day: date, row, fraction: float) -> dict:
    def part(n: int) -> int:
        return n if fraction >= 1 else int(n * fraction)

    core = row.core
    return {
        "date": iso(day_start(day)),
        "actor": row.actor,
        "organization_id": ctx.org.uuid,
        "customer_type": "api",
        "subscription_type": None,
        "terminal_type": row.terminal_type,
        "is_remote": row.is_remote,
        "core_metrics": {
            "num_sessions": part(core["num_sessions"]),
            "lines_of_code": {k: part(v) for k, v in core["lines_of_code"].items()},
            "commits_by_claude_code": part(core["commits_by_claude_code"]),
            "pull_requests_by_claude_code": part(core["pull_requests_by_claude_code"]),
        },
        "tool_actions": {
            k: {"accepted": part(v["accepted"]), "rejected": part(v["rejected"])}
            for k, v in row.tool_actions.items()
        },
        "model_breakdown": [
            {
                "model": m,
                "tokens": {
                    "input": part(i),
                    "output": part(o),
                    "cache_read": part(cr),
                    "cache_creation": part(cc),
                },
                "estimated_cost": {
                    "currency": "USD",
                    "amount": float(cost) if fraction >= 1 else round(float(cost) * fraction, 2),
                },
            }
            for m, i, o, cr, cc, cost in row.models
        ],
    }


ADMIN = ("admin",)
REPORT_PAGE = ("starting_at", "ending_at", "bucket_width", "limit", "page")
ENDPOINTS = [
    Endpoint(
        "/v1/organizations/usage_report/messages",
        usage_messages,
        ADMIN,
        (*REPORT_PAGE, "group_by[]", *(f"{p}[]" for p in USAGE_FILTERS)),
    ),
    Endpoint("/v1/organizations/cost_report", cost_report, ADMIN, (*REPORT_PAGE, "group_by[]")),
    Endpoint(
        "/v1/organizations/usage_report/claude_code", claude_code, ADMIN, ("starting_at", "limit", "page")
    ),
]

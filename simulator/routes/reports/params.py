"""Parameters of the Enterprise report routes: time ranges, bucket grids, group_by[] and the record filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from simulator.catalog import SERVICE_TIERS
from simulator.clock import iso
from simulator.errors import bad_request
from simulator.freshness import lookback_floor, report_refreshed_at
from simulator.generators.reports.codes import (
    CONTEXT_WINDOWS,
    GEOS,
    MODEL_IDS,
    PRODUCTS,
    SERVICE_TIER,
    SPEEDS,
    TAG_CATEGORIES,
)
from simulator.generators.reports.console import ConsoleReports
from simulator.generators.reports.console_slots import ACTOR_TYPES as CONSOLE_ACTOR_TYPES
from simulator.generators.reports.console_slots import CONSOLE_PRODUCTS
from simulator.generators.reports.console_slots import SERVICE_TIERS as CONSOLE_SERVICE_TIERS
from simulator.generators.reports.frames import Selection
from simulator.generators.reports.records import ReportData
from simulator.routes.context import Ctx
from simulator.routes.paging import offset_window

BASE = "/v1/organizations/analytics"
BETA_FLAG = "analytics-usage-cost-2026-08-24"
WIDTH_SECONDS = {"1d": 86_400, "1h": 3_600, "1m": 60}
BUCKET_LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 256)}  # (default, max) buckets per page
MAX_SPAN = timedelta(days=31)
MINUTE_SPAN = timedelta(hours=24)


MAX_V2_GROUPS = 5


#: products[] filter values -> record code (None: a product this organization never has).
_SEAT_PRODUCTS = {p: i for i, p in enumerate(PRODUCTS[:6])}  # chat .. claude_design
LEGACY_PRODUCT_FILTER = {
    **_SEAT_PRODUCTS,
    "claude-tag": 6,
    "claude-in-slack": 6,
    "claude_in_slack": None,
    "chat_cowork_unified": None,
    "other": 7,
}
V2_PRODUCT_FILTER = {
    **_SEAT_PRODUCTS,
    "claude_tag": 6,
    "chat_cowork_unified": None,
    "claude_console": None,
    "managed_agents_api": None,
    "message_batches_api": None,
    "messages_api": None,
}
ACTOR_TYPES = ("api_actor", "federated_actor", "service_account_actor", "user_actor")
USAGE_ORDER = ("total_tokens", "output_tokens", "requests", "uncached_input_tokens")
COST_ORDER = ("amount", "list_amount")


def refresh_of(ctx: Ctx) -> datetime:
    return report_refreshed_at(ctx.data_now, ctx.sim.refresh_hours)


def time_range(
    ctx: Ctx,
    *,
    end_required_by: str | None = None,
    minute_buckets: bool = False,
    minute_param: str = "bucket_width",
) -> tuple[datetime, datetime]:
    q = ctx.query
    start = q.instant("starting_at", required=True)
    floor = lookback_floor(ctx.now)
    if start < floor:
        raise bad_request(
            f"starting_at: must be no earlier than {iso(floor)} (data starts on 2026-01-01 and "
            "the lookback is 365 days)"
        )
    if start > ctx.now:
        raise bad_request("starting_at: must not be in the future")
    end = q.instant("ending_at")
    if end is None:
        if end_required_by:
            raise bad_request(f"ending_at: required when {end_required_by} is set")
        end = min(ctx.now, start + MAX_SPAN)
    if end <= start:
        raise bad_request("Invalid date range: ending date must be after starting date")
    if end - start > MAX_SPAN:
        raise bad_request("Invalid date range: the range may span at most 31 days")
    if minute_buckets and end - start > MINUTE_SPAN:
        raise bad_request(f"Invalid date range: with {minute_param}=1m the range may span at most 24 hours")
    return start, end


def floor_to(t: datetime, seconds: int) -> datetime:
    s = int(t.timestamp())
    return datetime.fromtimestamp(s - s % seconds, UTC)


def ceil_to(t: datetime, seconds: int) -> datetime:
    s = int(t.timestamp()) + (1 if t.microsecond else 0)
    return datetime.fromtimestamp(-(-s // seconds) * seconds, UTC)


def group_by_param(ctx: Ctx, allowed: tuple[str, ...]) -> list[str]:
    return ctx.query.choices("group_by", allowed)


def check_cursor(ctx: Ctx, refreshed: str) -> None:
    """Validate ``page`` before any work: 400 for another query's cursor, 410 after a refresh."""
    if ctx.query.one("page"):
        offset_window(ctx, 2**62, 1, refresh=refreshed)


def _codes(values: list[str], index: dict[str, int]) -> frozenset[int]:
    return frozenset(index[v] for v in values if v in index)


def selection(
    ctx: Ctx, rd: ReportData | None, group_by: list[str], *, v2: bool, seat_only: bool
) -> Selection:
    """The record filters of the query (validated even for an organization without Enterprise data)."""
    q = ctx.query
    users, slack, channels = (rd.user_index, rd.slack_index, rd.channel_index) if rd else ({}, {}, {})
    sel = Selection(seat_only=seat_only)
    table = V2_PRODUCT_FILTER if v2 else LEGACY_PRODUCT_FILTER
    if q.has("products"):
        values = q.choices("products", tuple(table))
        sel.products = frozenset(table[v] for v in values if table[v] is not None)
    if q.has("models"):
        sel.models = frozenset(MODEL_IDS.index(m) for m in q.many("models") if m in MODEL_IDS)
    users_param = "actor_ids" if v2 else "user_ids"
    if q.has(users_param):
        sel.users = _codes(q.many(users_param), users)
    if q.has("rbac_group_ids"):
        found = (rd.rbac_index(v) if rd else None for v in q.many("rbac_group_ids"))
        sel.rbac_groups = tuple(sorted({i for i in found if i is not None}))
    if q.has("slack_channel_ids"):
        sel.channels = _codes(q.many("slack_channel_ids"), channels)
    if q.has("context_windows"):
        values = q.many("context_windows")
        if len(values) > 100:
            raise bad_request("context_windows[]: at most 100 entries")
        sel.cws = frozenset(CONTEXT_WINDOWS.index(v) for v in q.choices("context_windows", CONTEXT_WINDOWS))
    if q.has("inference_geos"):
        geos = q.choices("inference_geos", ("global", "not_available", "us"))
        sel.geos = frozenset(-1 if v == "not_available" else GEOS.index(v) for v in geos)
    if q.has("speeds"):
        sel.speeds = frozenset(SPEEDS.index(v) for v in q.choices("speeds", ("fast", "standard")))
    if q.has("claude_tag_categories"):
        cats = q.choices("claude_tag_categories", tuple(sorted(TAG_CATEGORIES)))
        sel.tag_cats = frozenset(TAG_CATEGORIES.index(v) for v in cats)
    if q.has("claude_tag_user_ids"):
        sel.tag_users = _codes(q.many("claude_tag_user_ids"), slack)
    tag_user = "claude_tag_user_id" in group_by or q.has("claude_tag_user_ids")
    if tag_user and ("rbac_group_id" in group_by or q.has("rbac_group_ids")):
        raise bad_request(
            "claude_tag_user_id (group_by[] or claude_tag_user_ids[]) cannot be combined with "
            "group_by[]=rbac_group_id or the rbac_group_ids[] filter"
        )
    if v2:
        if q.has("actor_types"):
            types = q.choices("actor_types", ACTOR_TYPES)
            if "user_actor" in types:
                sel.seat_only = True
            else:
                sel.nothing = True
        if q.has("service_tiers") and SERVICE_TIER not in q.choices("service_tiers", SERVICE_TIERS):
            sel.nothing = True  # every Enterprise record is on the standard tier
        for name in (
            "agent_ids",
            "deployment_ids",
            "environment_ids",
            "session_ids",
            "user_profile_ids",
            "workspace_ids",
        ):
            if q.has(name):
                sel.nothing = (
                    True  # no Enterprise usage carries one (its one workspace, the default, is null)
                )
        if q.has("api_key_ids") and "" not in q.many("api_key_ids"):
            sel.nothing = True  # Enterprise usage is never authenticated by an API key
        if q.has("organization_ids") and not {ctx.org.uuid, ctx.org.analytics_id} & set(
            q.many("organization_ids")
        ):
            sel.nothing = True
    return sel


def console_filters(ctx: Ctx, src: ConsoleReports) -> dict:
    """Filters of a beta query on a Console organization: record column -> allowed codes."""
    q = ctx.query
    f: dict = {}

    def codes(values, index: dict) -> frozenset[int]:
        return frozenset(index[v] for v in values if v in index)

    if q.has("products"):
        f["product"] = codes(q.many("products"), {p: i for i, p in enumerate(CONSOLE_PRODUCTS)})
    if q.has("models"):
        f["model"] = codes(q.many("models"), {m: i for i, m in enumerate(MODEL_IDS)})
    if q.has("context_windows"):
        f["cw"] = codes(q.many("context_windows"), {c: i for i, c in enumerate(CONTEXT_WINDOWS)})
    if q.has("inference_geos"):
        f["geo"] = codes(q.many("inference_geos"), {"global": 0, "us": 1, "not_available": -1})
    if q.has("speeds"):
        f["speed"] = codes(q.many("speeds"), {s: i for i, s in enumerate(SPEEDS)})
    if q.has("actor_ids"):
        f["actor"] = codes(q.many("actor_ids"), src.actor_index)
    if q.has("actor_types"):
        f["actor_type"] = codes(q.many("actor_types"), {a: i for i, a in enumerate(CONSOLE_ACTOR_TYPES)})
    if q.has("api_key_ids"):
        f["api_key_id"] = codes(q.many("api_key_ids"), {"": -1, **src.key_index})
    if q.has("workspace_ids"):
        f["workspace_id"] = codes(q.many("workspace_ids"), src.workspace_index)
    if q.has("service_tiers"):
        f["service_tier"] = codes(
            q.choices("service_tiers", SERVICE_TIERS), {t: i for i, t in enumerate(CONSOLE_SERVICE_TIERS)}
        )
    if q.has("organization_ids") and not {ctx.org.uuid, ctx.org.analytics_id} & set(
        q.many("organization_ids")
    ):
        f["nothing"] = True
    for name in (
        "rbac_group_ids",
        "slack_channel_ids",
        "claude_tag_categories",
        "claude_tag_user_ids",
        "agent_ids",
        "deployment_ids",
        "environment_ids",
        "session_ids",
        "user_profile_ids",
    ):
        if q.has(name):
            f["nothing"] = True  # no Console usage carries these attributions
    return f

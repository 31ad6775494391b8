"""Rendering of report rows: actors, dimension values, usage fields and the report envelope."""

from __future__ import annotations

from datetime import datetime

from simulator.clock import iso
from simulator.generators.reports.codes import (
    CONTEXT_WINDOWS,
    GEOS,
    MODEL_IDS,
    PRODUCTS,
    PRODUCTS_V2,
    SERVICE_TIER,
    SPEEDS,
    TAG_CATEGORIES,
)
from simulator.generators.reports.dims import CONSTANT_DIMS
from simulator.generators.reports.records import ReportData
from simulator.generators.reports.units import U_WEB, Rows
from simulator.routes.context import Ctx


def email_keys(shapes: str) -> tuple[str, ...]:
    """The actor's email key(s) on the per-user reports: ``email`` (docs 2026-08), ``email_address`` (SDK)."""
    return {"docs": ("email",), "sdk": ("email_address",)}.get(shapes, ("email", "email_address"))


def actor_object(
    rd: ReportData, u: int, today_ordinal: int, emails: tuple[str, ...] = ("email_address",)
) -> dict:
    """A user actor; the beta reports (B12) document only ``email_address``."""
    user = rd.org.users[u]
    deleted = bool(rd.removed_ordinal[u] <= today_ordinal)
    email = None if deleted else user.email
    return {
        "type": "user_actor",
        "user_id": user.id,
        **dict.fromkeys(emails, email),
        "name": "Deleted User" if deleted else user.name,
        "deleted": deleted,
    }


def legacy_spelling(dims: dict, shapes: str) -> dict:
    """Claude Tag's ``product`` on the legacy reports: ``claude-tag`` (SDK 2.12, and the default) or
    ``claude-in-slack`` (docs 2026-08, served alone with ``shapes=docs``); reference B8."""
    if shapes == "docs" and dims.get("product") == "claude-tag":
        return {**dims, "product": "claude-in-slack"}
    return dims


def dim_value(rd: ReportData, name: str, code: int, *, v2: bool, today: int):
    if name in CONSTANT_DIMS:
        return {"organization_id": rd.org.uuid, "service_tier": SERVICE_TIER}.get(name)
    if code < 0:
        return None
    if name == "product":
        return (PRODUCTS_V2 if v2 else PRODUCTS)[code]
    if name == "model":
        return MODEL_IDS[code]
    if name == "context_window":
        return CONTEXT_WINDOWS[code]
    if name == "inference_geo":
        return GEOS[code]
    if name == "speed":
        return SPEEDS[code]
    if name == "rbac_group_id":
        return rd.rbac_ids[code]
    if name == "slack_channel_id":
        return rd.channels[code]
    if name == "claude_tag_category":
        return TAG_CATEGORIES[code]
    if name == "claude_tag_user_id":
        return rd.slack_users[code]
    if name == "actor":
        return actor_object(rd, code, today)
    if name == "actor_type":
        return "user_actor"
    raise KeyError(name)


def dim_fields(
    rd: ReportData | None,
    t: Rows,
    i: int,
    names: tuple[str, ...],
    grouped: list[str],
    *,
    v2: bool,
    today: int,
    label=None,
) -> dict:
    out = {}
    for name in names:
        if name in grouped:
            code = t.codes[name][i] if name in t.codes else -1
            out[name] = label(name, code, today) if label else dim_value(rd, name, code, v2=v2, today=today)
        else:
            out[name] = None
    return out


def usage_fields(s: list[int]) -> dict:
    return {
        "uncached_input_tokens": s[0],
        "output_tokens": s[4],
        "cache_read_input_tokens": s[3],
        "cache_creation": {"ephemeral_1h_input_tokens": s[2], "ephemeral_5m_input_tokens": s[1]},
        "server_tool_use": {"web_search_requests": s[U_WEB]},
    }


def envelope(ctx: Ctx, data: list, nxt: str | None, refreshed: datetime) -> dict:
    return {
        "data": data,
        "data_refreshed_at": iso(refreshed),
        "has_more": nxt is not None,
        "next_page": nxt,
        "organization_id": ctx.org.analytics_id,
    }


def today_of(refreshed: datetime) -> int:
    return refreshed.date().toordinal()


def cache_key(ctx: Ctx, kind: str, refreshed: datetime, *resolved) -> tuple:
    return (kind, ctx.query.canonical(), iso(refreshed), ctx.sim.revision_days, *resolved)

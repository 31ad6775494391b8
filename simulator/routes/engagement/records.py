"""Rendering engagement records: row values, record templates and the record of each entity endpoint."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from simulator.generators.engagement.arrays import Table
from simulator.generators.engagement.generator import EngagementData, money
from simulator.generators.engagement.vocab import OFFICE_APPS, PRODUCTS
from simulator.routes.context import Ctx


# -- rendering helpers --------------------------------------------------------------------------------
def row_values(t: Table, sel: np.ndarray, columns: Sequence[str]) -> dict[str, list]:
    """Python lists of the selected rows, None where the column is null."""
    out = {}
    for p in columns:
        if p not in t.cols:
            out[p] = [None] * len(sel)
            continue
        col = t.cols[p][sel].tolist()
        if p in t.nulls:
            mask = t.nulls[p][sel].tolist()
            col = [None if m else v for v, m in zip(col, mask, strict=True)]
        out[p] = col
    return out


def template(paths: Sequence[tuple[str, bool]], prefix: str = "") -> dict:
    """Nested dict from dotted paths; a leaf is the path (a column) or None (always null)."""
    root: dict = {}
    for path, enabled in paths:
        node = root
        parts = path[len(prefix) :].split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = path if enabled else None
    return root


def compile_record(tmpl: dict) -> tuple[tuple[str, ...], Callable[[tuple], dict]]:
    """(columns, row -> record): the template as one dict literal reading a row tuple of those columns."""
    columns: list[str] = []

    def expr(node: dict) -> str:
        items = []
        for k, v in node.items():
            if isinstance(v, str):
                columns.append(v)
                items.append(f"{k!r}: r[{len(columns) - 1}]")
            else:
                items.append(f"{k!r}: {'None' if v is None else expr(v)}")
        return "{" + ", ".join(items) + "}"

    code = compile(f"lambda r: {expr(tmpl)}", "<engagement-record>", "eval")
    return tuple(columns), eval(code, {})  # the template holds only our own constant names


def group_fields(
    eng: EngagementData, rec: dict, prod: int, user: int, grp: int, *, product: bool = True
) -> None:
    """The flat group keys (null unless grouped); /apps/chat/projects has no product dimension."""
    if product:
        rec["product"] = PRODUCTS[prod] if prod >= 0 else None
    rec["user_id"] = eng.user_ids[user] if user >= 0 else None
    rec["rbac_group_id"] = eng.group_ids[grp] if grp >= 0 else None
    rec["rbac_group_name"] = eng.group_names[grp] if grp >= 0 else None


def masked_rank(rank: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.where(idx >= 0, rank[np.maximum(idx, 0)], -1)


def office_paths(field: str) -> tuple[str, ...]:
    return tuple(f"office_metrics.{app}.{field}" for app in OFFICE_APPS)


def surface_metrics(vals: dict[str, list], entity: str, i: int, *, chat_and_office: bool = True) -> dict:
    """The per-surface blocks of a skill, connector or plugin record: conversations and sessions that used it."""
    chat = f"distinct_conversation_{entity}_used_count"
    session = f"distinct_session_{entity}_used_count"
    out = {"chat_metrics": {chat: vals[f"chat_metrics.{chat}"][i]}} if chat_and_office else {}
    out["claude_code_metrics"] = {session: vals[f"claude_code_metrics.{session}"][i]}
    out["cowork_metrics"] = {session: vals[f"cowork_metrics.{session}"][i]}
    if chat_and_office:
        out["office_metrics"] = office_block(vals, session, i)
    return out


def office_block(vals: dict[str, list], field: str, i: int) -> dict:
    return {app: {field: vals[f"office_metrics.{app}.{field}"][i]} for app in OFFICE_APPS}


def render_project(eng: EngagementData, ctx: Ctx, vals: dict[str, list], e: int, i: int) -> dict:
    pj = eng.projects
    attributed = bool(pj.extra["attributed"][e])
    creator = eng.org.users[int(pj.extra["creator"][e])]
    today = ctx.now.date()
    exists = creator.removed is None or creator.removed > today
    return {
        "project_id": pj.names[e],
        "project_name": pj.extra["name"][e],
        "created_at": pj.extra["created_at"][e] if attributed else None,
        "created_by": {"id": creator.id, "email_address": creator.email, "type": "user"}
        if attributed and exists
        else None,
        "distinct_user_count": vals["distinct_user_count"][i],
        "message_count": vals["message_count"][i],
        "distinct_conversation_count": vals["distinct_conversation_count"][i],
    }


def render_skill(eng: EngagementData, ctx: Ctx, vals: dict[str, list], e: int, i: int) -> dict:
    sk = eng.skills
    over, listed = vals["estimated_overage_spend"][i], vals["attributed_list_price"][i]
    return {
        "skill_name": sk.names[e],
        "skill_display_name": sk.extra["display"][e],
        "share_status": sk.extra["share"][e],
        "distinct_user_count": vals["distinct_user_count"][i],
        "invocation_count": vals["invocation_count"][i],
        "enable_count": vals["enable_count"][i],
        **surface_metrics(vals, "skill", i),
        "estimated_overage_spend": None if over is None else money(over),
        "attributed_list_price": None if listed is None else money(listed),
        "currency": "USD" if over is not None or listed is not None else None,
    }


def render_connector(eng: EngagementData, ctx: Ctx, vals: dict[str, list], e: int, i: int) -> dict:
    cn = eng.connectors
    return {
        "connector_name": cn.names[e],
        "connector_display_name": cn.extra["display"][e],
        "distinct_user_count": vals["distinct_user_count"][i],
        **surface_metrics(vals, "connector", i),
        **{
            k: vals[k][i]
            for k in (
                "read_call_count",
                "write_call_count",
                "unclassified_call_count",
                "managed_auth_distinct_user_count",
                "individual_auth_distinct_user_count",
            )
        },
    }


def render_plugin(eng: EngagementData, ctx: Ctx, vals: dict[str, list], e: int, i: int) -> dict:
    pl = eng.plugins
    return {
        "plugin_name": pl.names[e],
        "plugin_id": pl.extra["plugin_id"][e],
        "distinct_user_count": vals["distinct_user_count"][i],
        "invocation_count": vals["invocation_count"][i],
        "install_count": vals["install_count"][i],
        **surface_metrics(vals, "plugin", i, chat_and_office=False),
    }


def render_artifact(eng: EngagementData, ctx: Ctx, vals: dict[str, list], e: int, i: int) -> dict:
    t, shared = eng.artifact_cells[e]
    return {
        "artifact_type": t,
        "is_shared": shared,
        "artifacts_created_count": vals["artifacts_created_count"][i],
        "published_artifacts_created_count": vals["published_artifacts_created_count"][i],
        "distinct_user_count": vals["distinct_user_count"][i],
    }

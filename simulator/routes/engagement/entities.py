"""B3-B7: the entity endpoints (projects, skills, connectors, artifacts, plugins), one handler per spec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator.errors import bad_request
from simulator.generators.engagement.arrays import Scope, Table
from simulator.generators.engagement.catalogues import normalize_connector
from simulator.generators.engagement.generator import EngagementData, engagement
from simulator.routes.context import Ctx
from simulator.routes.engagement.params import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    page_window,
    parse_filters,
    parse_group_by,
    parse_order,
    parse_window,
    product_filter,
    sort_rows,
    user_scope,
)
from simulator.routes.engagement.records import (
    group_fields,
    masked_rank,
    office_paths,
    render_artifact,
    render_connector,
    render_plugin,
    render_project,
    render_skill,
    row_values,
)


# -- B3-B7 entity endpoints -------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntitySpec:
    kind: str
    sort_columns: tuple[str, ...]
    filters: tuple[str, ...]
    group_by: tuple[str, ...]
    products: tuple[str, ...]
    metrics: tuple[str, ...]
    entity_filter: Callable[[EngagementData, dict[str, list[str]]], np.ndarray | None]
    render: Callable[[EngagementData, Ctx, dict[str, list], int, int], dict]
    ranged: bool = True


def project_filter(eng: EngagementData, f: dict[str, list[str]]) -> np.ndarray | None:
    if "project_id" not in f:
        return None
    mask = np.zeros(len(eng.projects), dtype=bool)
    for v in f["project_id"]:
        if not v.startswith("claude_proj_"):
            raise bad_request(f"filter[]: project_id takes a tagged project id (claude_proj_...), got {v!r}")
        j = eng.projects.index.get(v)
        if j is not None:
            mask[j] = True
    return mask


def name_filter(kind: str, dim: str) -> Callable[[EngagementData, dict[str, list[str]]], np.ndarray | None]:
    def build(eng: EngagementData, f: dict[str, list[str]]) -> np.ndarray | None:
        if dim not in f:
            return None
        wanted = {v.lower() for v in f[dim]}
        return np.array([n.lower() in wanted for n in eng.catalogue(kind).names], dtype=bool)

    return build


def skill_filter(eng: EngagementData, f: dict[str, list[str]]) -> np.ndarray | None:
    mask = name_filter("skills", "skill_name")(eng, f)
    if "share_status" in f:
        for v in f["share_status"]:
            if v not in ("organization", "private", "public"):
                raise bad_request(f"filter[]: share_status {v!r} is not one of organization, private, public")
        share = np.array([s in f["share_status"] for s in eng.skills.extra["share"]], dtype=bool)
        mask = share if mask is None else mask & share
    return mask


def connector_filter(eng: EngagementData, f: dict[str, list[str]]) -> np.ndarray | None:
    if "connector_name" not in f:
        return None
    cn = eng.connectors
    wanted = {v.strip().lower() for v in f["connector_name"]}
    normalized = {normalize_connector(v) for v in f["connector_name"]}
    mask = []
    for name, display, aliases in zip(cn.names, cn.extra["display"], cn.extra["aliases"], strict=True):
        names = {name.lower(), *(a.lower() for a in aliases), *([display.lower()] if display else [])}
        mask.append(bool(names & wanted) or name in normalized)
    return np.array(mask, dtype=bool)


def artifact_filter(eng: EngagementData, f: dict[str, list[str]]) -> np.ndarray | None:
    mask = None
    if "artifact_type" in f:
        wanted = {v.lower() for v in f["artifact_type"]}
        mask = np.array([t in wanted for t, _ in eng.artifact_cells], dtype=bool)
    if "is_shared" in f:
        flags = set()
        for v in f["is_shared"]:
            if v.lower() not in ("true", "false"):
                raise bad_request(f"filter[]: is_shared takes true or false, got {v!r}")
            flags.add(v.lower() == "true")
        shared = np.array([s in flags for _, s in eng.artifact_cells], dtype=bool)
        mask = shared if mask is None else mask & shared
    return mask


_SKILL_PRODUCTS = ("chat", "claude_code", "cowork", "office_agent")
SPECS = {
    "projects": EntitySpec(
        "projects",
        ("project_id",),
        ("project_id", "rbac_group_id", "user_id"),
        ("rbac_group_id", "user_id"),
        (),
        ("distinct_user_count", "message_count", "distinct_conversation_count"),
        project_filter,
        render_project,
    ),
    "skills": EntitySpec(
        "skills",
        ("skill_name",),
        ("product", "rbac_group_id", "share_status", "skill_name", "user_id"),
        ("product", "rbac_group_id", "user_id"),
        _SKILL_PRODUCTS,
        (
            "distinct_user_count",
            "invocation_count",
            "enable_count",
            "chat_metrics.distinct_conversation_skill_used_count",
            "claude_code_metrics.distinct_session_skill_used_count",
            "cowork_metrics.distinct_session_skill_used_count",
            *office_paths("distinct_session_skill_used_count"),
            "estimated_overage_spend",
            "attributed_list_price",
        ),
        skill_filter,
        render_skill,
    ),
    "connectors": EntitySpec(
        "connectors",
        ("connector_name",),
        ("connector_name", "product", "rbac_group_id", "user_id"),
        ("product", "rbac_group_id", "user_id"),
        _SKILL_PRODUCTS,
        (
            "distinct_user_count",
            "chat_metrics.distinct_conversation_connector_used_count",
            "claude_code_metrics.distinct_session_connector_used_count",
            "cowork_metrics.distinct_session_connector_used_count",
            *office_paths("distinct_session_connector_used_count"),
            "read_call_count",
            "write_call_count",
            "unclassified_call_count",
            "managed_auth_distinct_user_count",
            "individual_auth_distinct_user_count",
        ),
        connector_filter,
        render_connector,
    ),
    "artifacts": EntitySpec(
        "artifacts",
        ("artifact_type",),
        ("artifact_type", "is_shared", "product", "rbac_group_id", "user_id"),
        ("product", "rbac_group_id", "user_id"),
        ("chat", "claude_code", "cowork"),
        ("artifacts_created_count", "published_artifacts_created_count", "distinct_user_count"),
        artifact_filter,
        render_artifact,
        ranged=False,
    ),
    "plugins": EntitySpec(
        "plugins",
        ("plugin_name",),
        ("plugin_name", "product", "rbac_group_id", "user_id"),
        ("product", "rbac_group_id", "user_id"),
        ("claude_code", "cowork"),
        (
            "distinct_user_count",
            "invocation_count",
            "install_count",
            "claude_code_metrics.distinct_session_plugin_used_count",
            "cowork_metrics.distinct_session_plugin_used_count",
        ),
        name_filter("plugins", "plugin_name"),
        render_plugin,
    ),
}


def entity_handler(spec: EntitySpec) -> Callable[[Ctx], dict]:
    def handler(ctx: Ctx) -> dict:
        q = ctx.query
        eng = engagement(ctx.sim, ctx.org)
        if not spec.ranged:
            for name in ("order", "order_by"):
                if q.one(name) is not None:
                    raise bad_request(
                        f"{name}: not supported on this endpoint (the artifact cube has a fixed order)"
                    )
        win = parse_window(ctx, ranged=spec.ranged)
        limit = q.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        f = parse_filters(ctx, spec.filters)
        group_by = parse_group_by(ctx, spec.group_by)
        by, desc = parse_order(ctx, spec.sort_columns, spec.metrics) if spec.ranged else (None, False)
        members, groups = user_scope(eng, f)
        products = product_filter(f.get("product"), spec.products) if spec.products else None
        scope = Scope(
            users=members,
            groups=groups,
            entities=spec.entity_filter(eng, f),
            products=products,
            group_by=group_by,
            has_user_scope="user_id" in f or "rbac_group_id" in f,
        )

        def build() -> Table:
            t = eng.entity_query(spec.kind, win.days, scope, start=win.start)
            ties = (
                t.cols["prod"],
                masked_rank(eng.user_id_rank, t.cols["user"]),
                masked_rank(eng.group_rank, t.cols["grp"]),
            )
            return sort_rows(t, by, desc, t.cols["ent"], ties)

        table = eng.cached((spec.kind, q.canonical(), win.start, win.end), build)
        if spec.kind == "artifacts" and not group_by:
            if q.one("page"):
                raise bad_request(
                    "page: only valid with group_by[]; the ungrouped artifact cube is never paginated"
                )
            start, end, nxt = 0, table.n, None
        else:
            start, end, nxt = page_window(ctx, spec.kind, table.n, limit, win)
        sel = np.arange(start, end)
        vals = row_values(table, sel, ("distinct_user_count", *spec.metrics))
        ent, prod, user, grp = (table.cols[k][sel].tolist() for k in ("ent", "prod", "user", "grp"))
        data = []
        for i in range(len(sel)):
            rec = spec.render(eng, ctx, vals, ent[i], i)
            group_fields(eng, rec, prod[i], user[i], grp[i], product=spec.kind != "projects")
            data.append(rec)
        return {"data": data, "next_page": nxt}

    handler.__name__ = spec.kind
    return handler

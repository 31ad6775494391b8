"""Part A inventory: the organization, users, invites, workspaces, their members and API keys."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from simulator.clock import day_start, iso
from simulator.errors import bad_request, not_found
from simulator.ids import make_uuid
from simulator.routes.context import Ctx, Endpoint
from simulator.routes.paging import id_page
from simulator.shapes import serves_docs, serves_sdk

CONSOLE_ROLES = ("user", "developer", "billing", "admin", "claude_code_user")


# -- inventory ---------------------------------------------------------------------------------------
def me(ctx: Ctx) -> dict:
    return {"id": ctx.org.uuid, "type": "organization", "name": ctx.org.name}


def _today(ctx: Ctx) -> date:
    return ctx.now.astimezone(UTC).date()


def _user(u) -> dict:
    return {
        "id": u.id,
        "type": "user",
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "added_at": u.added_at(),
    }


def users(ctx: Ctx) -> dict:
    q = ctx.query
    roles = q.choices("roles", CONSOLE_ROLES)
    email = q.one("email")
    items = [
        u
        for u in ctx.org.users
        if u.member_on(_today(ctx))
        and (not roles or u.role in roles)
        and (email is None or u.email.lower() == email.lower())
    ]
    items.sort(key=lambda u: (u.added, u.person))
    return id_page(ctx, items, lambda u: u.id, _user)


def user(ctx: Ctx) -> dict:
    for u in ctx.org.users:
        if u.id == ctx.path["user_id"] and u.member_on(_today(ctx)):
            return _user(u)
    raise not_found(f"user {ctx.path['user_id']!r}")


def _invite(ctx: Ctx, i) -> dict:
    status = i.status_at(ctx.now)
    return {
        "id": i.id,
        "type": "invite",
        "email": i.email,
        "role": i.role,
        "status": status,
        "invited_at": iso(i.invited),
        "expires_at": iso(i.expires),
        "accepted_at": iso(i.accepted) if status == "accepted" else None,
        "rbac_group_ids": [],
    }


def invites(ctx: Ctx) -> dict:
    q = ctx.query
    statuses = q.choices("statuses", ("accepted", "expired", "pending")) or ["accepted", "expired", "pending"]
    roles = q.choices("roles", (*CONSOLE_ROLES, "managed"))
    email = q.one("email")
    items = [
        i
        for i in ctx.org.invites
        if i.invited <= ctx.now
        and i.status_at(ctx.now) in statuses
        and (not roles or i.role in roles)
        and (email is None or i.email.lower() == email.lower())
    ]
    return id_page(ctx, items, lambda i: i.id, lambda i: _invite(ctx, i))


def invite(ctx: Ctx) -> dict:
    for i in ctx.org.invites:
        if i.id == ctx.path["invite_id"] and i.invited <= ctx.now:
            return _invite(ctx, i)
    raise not_found(f"invite {ctx.path['invite_id']!r}")


def _workspace(ctx: Ctx, w) -> dict:
    archived = w.archived is not None and w.archived <= _today(ctx)
    return {
        "id": w.id,
        "type": "workspace",
        "name": w.name,
        "display_color": w.color,
        "created_at": iso(day_start(w.created) + timedelta(hours=10)),
        "archived_at": iso(day_start(w.archived) + timedelta(hours=16)) if archived else None,
        "data_residency": {
            "workspace_geo": "us",
            "default_inference_geo": w.default_inference_geo,
            "allowed_inference_geos": "unrestricted",
        },
        "compartment_id": make_uuid("compartment", w.id),
        "external_key_id": None,
        "tags": w.tags,
        "user_profile_id": None,
    }


def workspaces(ctx: Ctx) -> dict:
    q = ctx.query
    include_archived = q.boolean("include_archived")
    include_default = q.boolean("include_default")
    ids = q.many("ids")
    if len(ids) > 100:
        raise bad_request("ids[]: at most 100 ids")
    today = _today(ctx)
    pool = ((ctx.org.default_workspace,) if include_default else ()) + ctx.org.workspaces
    items = [
        w
        for w in pool
        if w.created <= today and (include_archived or w.active_on(today)) and (not ids or w.id in ids)
    ]
    return id_page(ctx, items, lambda w: w.id, lambda w: _workspace(ctx, w))


def _find_workspace(ctx: Ctx):
    w = ctx.org.workspace_by_id(ctx.path["workspace_id"])
    if w is None or w.created > _today(ctx):
        raise not_found(f"workspace {ctx.path['workspace_id']!r}")
    return w


def workspace(ctx: Ctx) -> dict:
    return _workspace(ctx, _find_workspace(ctx))


def _members(ctx: Ctx):
    w = _find_workspace(ctx)
    today = _today(ctx)
    return w, [(u, role) for u, role in ctx.org.workspace_members.get(w.id, ()) if u.member_on(today)]


def _member(w, u, role) -> dict:
    return {"type": "workspace_member", "user_id": u.id, "workspace_id": w.id, "workspace_role": role}


def members(ctx: Ctx) -> dict:
    w, items = _members(ctx)
    return id_page(ctx, items, lambda m: m[0].id, lambda m: _member(w, *m))


def member(ctx: Ctx) -> dict:
    w, items = _members(ctx)
    for u, role in items:
        if u.id == ctx.path["user_id"]:
            return _member(w, u, role)
    raise not_found(f"workspace member {ctx.path['user_id']!r}")


def _api_key(ctx: Ctx, k) -> dict:
    """An API key object: the docs' shape (``workspace_id``, ``principal{id, type}``), the SDK's
    (``scope``, ``principal{type: user_actor, user_id}``) or, by default, both (reference A9)."""
    today = _today(ctx)
    owner = k.created_by
    out = {
        "id": k.id,
        "type": "api_key",
        "name": k.name,
        "status": k.status_at(today),
        "created_at": iso(day_start(k.created) + timedelta(hours=11)),
        "expires_at": iso(day_start(k.expires)) if k.expires else None,
        "created_by": {"id": owner, "type": "user"} if owner else None,
        "partial_key_hint": k.hint,
    }
    if ctx.shapes == "docs":
        out["principal"] = {"id": owner, "type": "user"} if owner else None
    elif ctx.shapes == "sdk":
        out["principal"] = {"type": "user_actor", "user_id": owner} if owner else None
    else:
        out["principal"] = {"type": "user_actor", "user_id": owner, "id": owner} if owner else None
    if serves_docs(ctx.shapes):  # null for the default workspace
        out["workspace_id"] = None if k.workspace.is_default else k.workspace.id
    if serves_sdk(ctx.shapes):  # the real id, the default workspace's included
        out["scope"] = {"type": "workspace", "workspace_id": k.workspace.id}
    return out


def api_keys(ctx: Ctx) -> dict:
    q = ctx.query
    status = q.choice("status", ("active", "archived", "expired", "inactive"))
    workspace_id = q.one("workspace_id")
    creator = q.one("created_by_user_id")
    today = _today(ctx)
    items = [
        k
        for k in sorted(ctx.org.api_keys, key=lambda k: (k.created, k.id))
        if k.created <= today
        and (status is None or k.status_at(today) == status)
        and (workspace_id is None or k.workspace.id == workspace_id)
        and (creator is None or k.created_by == creator)
    ]
    return id_page(ctx, items, lambda k: k.id, lambda k: _api_key(ctx, k))


def api_key(ctx: Ctx) -> dict:
    for k in ctx.org.api_keys:
        if k.id == ctx.path["api_key_id"] and k.created <= _today(ctx):
            return _api_key(ctx, k)
    raise not_found(f"api key {ctx.path['api_key_id']!r}")


ADMIN = ("admin",)
ID_PAGE = ("limit", "after_id", "before_id")  # the ID-cursor pagination (reference 0.5)
ENDPOINTS = [
    Endpoint("/v1/organizations/me", me, ADMIN),
    Endpoint("/v1/organizations/users", users, ADMIN, (*ID_PAGE, "email", "roles[]")),
    Endpoint("/v1/organizations/users/{user_id}", user, ADMIN),
    Endpoint("/v1/organizations/invites", invites, ADMIN, (*ID_PAGE, "email", "roles[]", "statuses[]")),
    Endpoint("/v1/organizations/invites/{invite_id}", invite, ADMIN),
    Endpoint(
        "/v1/organizations/workspaces",
        workspaces,
        ADMIN,
        (*ID_PAGE, "include_archived", "include_default", "ids[]"),
    ),
    Endpoint("/v1/organizations/workspaces/{workspace_id}", workspace, ADMIN),
    Endpoint("/v1/organizations/workspaces/{workspace_id}/members", members, ADMIN, ID_PAGE),
    Endpoint("/v1/organizations/workspaces/{workspace_id}/members/{user_id}", member, ADMIN),
    Endpoint(
        "/v1/organizations/api_keys",
        api_keys,
        ADMIN,
        (*ID_PAGE, "status", "workspace_id", "created_by_user_id"),
    ),
    Endpoint("/v1/organizations/api_keys/{api_key_id}", api_key, ADMIN),
]

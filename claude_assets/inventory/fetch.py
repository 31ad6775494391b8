"""Reading a Console organization's inventory through the Admin API: the requests, and pure functions from
its JSON objects to rows of the history tables (nothing is written here)."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode

import pandas as pd

from claude_assets.config import OrgConfig
from claude_assets.inventory.tables import (
    API_KEYS_TABLE,
    INVITES_TABLE,
    MEMBERS_TABLE,
    ORGANIZATION,
    USERS_TABLE,
    WORKSPACES_TABLE,
    fields,
)
from claude_assets.privacy.pseudonyms import Pseudonyms
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.history import canonical_hash
from resources.client import ApiClient, CallStats
from resources.errors import AnthropicApiError

LIST_LIMIT = 1000  # ApiClient.list_all asks for the largest page the API allows

ME = "/v1/organizations/me"
WORKSPACES = "/v1/organizations/workspaces"
USERS = "/v1/organizations/users"
INVITES = "/v1/organizations/invites"
API_KEYS = "/v1/organizations/api_keys"


# -- parsing: API objects -> columns + extra ------------------------------------------------------------
def _plain(value: object) -> object:
    """JSON values as JSON again: the client parses numbers as Decimal; keep them numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _json(value: object) -> str | None:
    return (
        None
        if value is None
        else json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    )


def _instant(value: object) -> str | None:
    """An instant as canonical UTC ISO-8601, so a change of spelling is not a change; unparseable text is
    kept as it came (the snapshot schema then rejects it)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return parsed.astimezone(UTC).isoformat() if parsed.tzinfo is not None else str(value)


def _same(value: object) -> object:
    return value


#: how a column of each type holds the API's value (other types: as it came)
_CONVERT = {"TIMESTAMPTZ": _instant, "JSON": _json}


def _split(value: object, known: set[str]) -> tuple[dict, dict]:
    """A nested object's documented keys, and the others (for ``extra``)."""
    if not isinstance(value, dict):
        return {}, ({} if value is None else {"_value": value})
    return {k: v for k, v in value.items() if k in known}, {k: v for k, v in value.items() if k not in known}


def _row(
    table: Table,
    r: dict,
    derived: dict,
    consumed: tuple[str, ...] = ("id",),
    nested: dict[str, dict] | None = None,
) -> dict:
    """API object ``r`` as a row of ``table``: the ``derived`` columns as given, every other column from the
    field of its name (instants canonical, JSON as text). The fields no column took (but the ``consumed``
    ones and the ``nested`` objects read), and the unknown keys of those objects, go to ``extra``."""
    direct = [c for c in fields(table) if c.name not in derived]
    row = {c.name: _CONVERT.get(c.type, _same)(r.get(c.name)) for c in direct}
    known = {c.name for c in direct} | set(consumed) | set(nested or {})
    extra = {k: v for k, v in r.items() if k not in known}
    extra.update({k: v for k, v in (nested or {}).items() if v})
    return {**derived, **row, "extra": _json(extra) if extra else None}


def parse_organization(r: dict) -> dict:
    return _row(ORGANIZATION, r, {"organization_id": r.get("id")})


def parse_workspace(r: dict, default_ids: set[str]) -> dict:
    residency, residency_extra = _split(
        r.get("data_residency"), {"workspace_geo", "default_inference_geo", "allowed_inference_geos"}
    )
    derived = {
        "workspace_id": r.get("id"),
        "workspace_geo": residency.get("workspace_geo"),
        "default_inference_geo": residency.get("default_inference_geo"),
        "allowed_inference_geos": _json(residency.get("allowed_inference_geos")),
        "is_default": r.get("id") in default_ids,
    }
    return _row(WORKSPACES_TABLE, r, derived, nested={"data_residency": residency_extra})


def parse_user(r: dict) -> dict:
    return _row(USERS_TABLE, r, {"user_id": r.get("id")})


def parse_invite(r: dict) -> dict:
    return _row(INVITES_TABLE, r, {"invite_id": r.get("id")})


def parse_member(r: dict, workspace_id: str) -> dict:
    return _row(MEMBERS_TABLE, r, {"workspace_id": r.get("workspace_id") or workspace_id}, ("workspace_id",))


#: the SDK's principal types (``scope``-era shape) under the names the docs and ``created_by.type`` use
PRINCIPAL_TYPES = {"user_actor": "user", "service_account_actor": "service_account"}


def parse_api_key(r: dict, default_workspace_id: str | None) -> dict:
    """An API key in either documented shape (reference A9) as the same row: the docs' ``workspace_id`` (null =
    the default workspace) and ``principal{id, type: user}``, or the SDK's ``scope{type, workspace_id}`` (the
    real id, the default workspace's included) and ``principal{type: user_actor, user_id}``."""
    created_by, created_by_extra = _split(r.get("created_by"), {"id", "type"})
    scope, scope_extra = _split(r.get("scope"), {"type", "workspace_id"})
    principal, principal_extra = _split(r.get("principal"), {"type", "id", "user_id", "service_account_id"})
    scope_workspace = scope.get("workspace_id")
    workspace = r.get("workspace_id", None if scope_workspace == default_workspace_id else scope_workspace)
    scope_type = scope.get("type")
    if not scope and "workspace_id" in r:  # the docs' shape: every key belongs to a workspace
        scope_type, scope_workspace = "workspace", r["workspace_id"] or default_workspace_id
    principal_type = principal.get("type")
    derived = {
        "api_key_id": r.get("id"),
        "workspace_id": workspace,
        "scope_type": scope_type,
        "scope_workspace_id": scope_workspace,
        "created_by_id": created_by.get("id"),
        "created_by_type": created_by.get("type"),
        "principal_type": PRINCIPAL_TYPES.get(principal_type, principal_type),
        "principal_id": principal.get("id")
        or principal.get("user_id")
        or principal.get("service_account_id"),
    }
    nested = {"created_by": created_by_extra, "scope": scope_extra, "principal": principal_extra}
    return _row(API_KEYS_TABLE, r, derived, ("id", "workspace_id"), nested)


# -- fetching ---------------------------------------------------------------------------------------------
def describe_request(path: str, params: dict) -> str:
    return f"GET {path}" + (f"?{urlencode(params, doseq=True)}" if params else "")


@dataclass
class Snapshot:
    """Everything one organization's inventory said, staged per table, and the instant it was taken."""

    org_id: str
    at: datetime  # the API's clock (Date header); the local clock if the API sent none
    frames: dict[Table, pd.DataFrame]
    stats: CallStats
    duplicates_dropped: int = 0


def _frame(
    table: Table, rows: list[dict], org_id: str, fetched_at: str, pseudonyms: Pseudonyms | None = None
) -> tuple[pd.DataFrame, int]:
    tracked = [
        c.name
        for c in table.columns
        if c.name not in {"row_hash", "valid_from", "valid_to", "is_current", "fetched_at", "source_request"}
    ]
    raw = pseudonyms or Pseudonyms()
    staged = []
    for row in rows:
        row = raw.record_for_raw(table, {"org_id": org_id, **row})  # privacy.raw_emails, before the row hash
        staged.append(
            {**row, "row_hash": canonical_hash({c: row.get(c) for c in tracked}), "fetched_at": fetched_at}
        )
    frame = pd.DataFrame(
        staged,
        columns=[c.name for c in table.columns if c.name not in {"valid_from", "valid_to", "is_current"}],
    )
    # an entity listed twice with the very same content (a page boundary shifting under the cursor) is one;
    # the same id with different content stays and fails the snapshot schema
    before = len(frame)
    frame = frame.drop_duplicates(
        subset=[c for c in frame.columns if c != "source_request"], ignore_index=True
    )
    return frame, before - len(frame)


def fetch_snapshot(
    client: ApiClient, org: OrgConfig, stats: CallStats, log=None, pseudonyms: Pseudonyms | None = None
) -> Snapshot:
    """Read the whole inventory of one organization (nothing is written here); emails and names staged as
    ``pseudonyms.record_for_raw`` says (none: as the API said)."""
    fetched_at = datetime.now(UTC).isoformat()
    lists: dict[str, tuple[str, dict]] = {
        "workspaces": (WORKSPACES, {"include_archived": "true", "include_default": "true"}),
        # the same list without the default workspace: the difference tells which one is the default
        "named_workspaces": (WORKSPACES, {"include_archived": "true"}),
        "users": (USERS, {}),
        "invites": (INVITES, {}),
        "api_keys": (API_KEYS, {}),
    }

    def read(name: str) -> tuple[str, object]:
        if name == "me":
            return name, client.me(stats)  # asked once per key and process
        path, params = lists[name]
        return name, client.list_all(path, params, stats=stats)

    got = dict(client.map(read, ["me", *lists]))
    source = {
        name: describe_request(path, {**params, "limit": LIST_LIMIT})
        for name, (path, params) in lists.items()
    }
    default_ids = {w["id"] for w in got["workspaces"]} - {w["id"] for w in got["named_workspaces"]}
    default_id = next(iter(default_ids), None) if len(default_ids) == 1 else None

    def members(workspace: dict) -> tuple[dict, list[dict]]:
        path = f"{WORKSPACES}/{quote(workspace['id'], safe='')}/members"
        try:
            return workspace, client.list_all(path, stats=stats)
        except AnthropicApiError as exc:
            if exc.status == 404 and workspace["id"] in default_ids:  # the default workspace may have no list
                if log:
                    log.info(f"{org.slug}: the default workspace {workspace['id']} has no member list (404)")
                return workspace, []
            raise

    active = [w for w in got["workspaces"] if not w.get("archived_at")]
    memberships = list(client.map(members, active))
    at = stats.server_time or datetime.now(UTC)

    def rows(parsed: list[dict], request: str) -> list[dict]:
        return [{**p, "source_request": request} for p in parsed]

    me = got["me"]
    staged = {
        ORGANIZATION: rows([parse_organization(me)], describe_request(ME, {})),
        WORKSPACES_TABLE: rows(
            [parse_workspace(w, default_ids) for w in got["workspaces"]], source["workspaces"]
        ),
        USERS_TABLE: rows([parse_user(u) for u in got["users"]], source["users"]),
        INVITES_TABLE: rows([parse_invite(i) for i in got["invites"]], source["invites"]),
        MEMBERS_TABLE: [
            row
            for w, ms in memberships
            for row in rows(
                [parse_member(m, w["id"]) for m in ms],
                describe_request(f"{WORKSPACES}/{w['id']}/members", {"limit": LIST_LIMIT}),
            )
        ],
        API_KEYS_TABLE: rows([parse_api_key(k, default_id) for k in got["api_keys"]], source["api_keys"]),
    }
    frames, dropped = {}, 0
    for table, table_rows in staged.items():
        frames[table], n = _frame(table, table_rows, org.slug, fetched_at, pseudonyms)
        dropped += n
    return Snapshot(org.slug, at, frames, stats, dropped)

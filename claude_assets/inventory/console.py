"""A Console organization's inventory through the Admin API, kept as history (group ``inventory``).

One run per organization (the partition) reads the organization, its workspaces (archived and the
default one included), members, invites (every status), the members of every workspace that is not
archived, and its API keys (every status), then applies the whole snapshot to six SCD type 2 tables
in one DuckDB transaction:

- the snapshot's time ``T`` is the API's own clock (the ``Date`` header of its answers);
- an entity seen for the first time opens a version at its own creation instant (``added_at``,
  ``created_at``, ``invited_at``) when that is earlier than ``T``, else at ``T``: a user or key
  deleted later keeps its name and owner on the days it existed, although what it looked like before
  the first snapshot is not known (the first version carries the attributes first seen);
- an entity whose tracked attributes (``row_hash``) changed: the open version closes at ``T`` and a
  new one opens at ``T``;
- an entity no longer listed (deleted, removed, or a membership of a workspace archived since) closes
  at ``T``; an unchanged entity is left alone, so re-running a snapshot changes nothing.

Point-in-time lookups for a daily table (UTC day ``usage_date``)::

    JOIN inventory.users u ON u.org_id = f.org_id AND u.user_id = f.account_id
     AND u.valid_from < (f.usage_date + INTERVAL 1 DAY)::TIMESTAMP AT TIME ZONE 'UTC'       -- day_end
     AND (u.valid_to IS NULL OR u.valid_to > f.usage_date::TIMESTAMP AT TIME ZONE 'UTC')  -- day_start

An entity that changed during the day matches each version it had that day: keep the latest with
``QUALIFY row_number() OVER (PARTITION BY f.<row key>, u.user_id ORDER BY u.valid_from DESC) = 1``.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster_duckdb import DuckDBResource

from checks import inventory as inventory_checks
from checks.window import SchemaViolation, validate
from claude_assets.asset_defaults import OWNERS
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.partitions import organizations
from claude_assets.warehouse.contract import ORG_ID, Column, Table
from claude_assets.warehouse.contract import col as _c
from claude_assets.warehouse.history import SnapshotChange, apply_snapshot, canonical_hash
from claude_assets.warehouse.writes import ensure, transaction
from resources.apis import ConsoleAdminApi
from resources.client import ApiClient, CallStats
from resources.errors import AnthropicApiError

GROUP = "inventory"
LIST_LIMIT = 1000  # ApiClient.list_all asks for the largest page the API allows

ME = "/v1/organizations/me"
WORKSPACES = "/v1/organizations/workspaces"
USERS = "/v1/organizations/users"
INVITES = "/v1/organizations/invites"
API_KEYS = "/v1/organizations/api_keys"

POINT_IN_TIME = (
    " History (SCD type 2): one row per version, valid in [valid_from, valid_to), valid_to null = "
    "current. For a UTC day usage_date join with valid_from < day_end AND (valid_to IS NULL OR "
    "valid_to > day_start), day_start = usage_date::TIMESTAMP AT TIME ZONE 'UTC', day_end = "
    "(usage_date + INTERVAL 1 DAY)::TIMESTAMP AT TIME ZONE 'UTC'; a version changed during the day matches too, so keep the latest "
    "valid_from per entity and day."
)


HISTORY = (
    _c("extra", "JSON", "fields the API returned that have no column (kept, never dropped)"),
    _c(
        "row_hash",
        "VARCHAR",
        "sha256 of the tracked attributes (every column above); a new value opens a version",
        False,
    ),
    _c(
        "valid_from",
        "TIMESTAMPTZ",
        "start of this version (inclusive): the snapshot time that saw it, or the "
        "entity's creation instant for its first version",
        False,
    ),
    _c(
        "valid_to",
        "TIMESTAMPTZ",
        "end of this version (exclusive): the snapshot time that saw it change or vanish; null while current",
    ),
    _c("is_current", "BOOLEAN", "valid_to IS NULL: the version the latest snapshot saw", False),
    _c(
        "fetched_at",
        "TIMESTAMPTZ",
        "when the snapshot that opened this version was fetched (local clock)",
        False,
    ),
    _c("source_request", "VARCHAR", "the request that produced the row", False),
)


def _history(name: str, description: str, keys: tuple[Column, ...], fields: tuple[Column, ...]) -> Table:
    return Table(
        "inventory",
        name,
        columns=(ORG_ID, *keys, *fields, *HISTORY),
        grain=("org_id", *(k.name for k in keys), "valid_from"),
        description=description + POINT_IN_TIME,
    )


ORGANIZATION = _history(
    "organization",
    "The Console organization itself (GET /v1/organizations/me). The API gives no creation "
    "instant, so its first version starts at the first snapshot.",
    (_c("organization_id", "VARCHAR", "the API's organization id (a UUID)", False),),
    (_c("type", "VARCHAR", "always 'organization'"), _c("name", "VARCHAR", "organization name")),
)

WORKSPACES_TABLE = _history(
    "workspaces",
    "Workspaces, archived ones and the default workspace included "
    "(include_archived=true, include_default=true).",
    (_c("workspace_id", "VARCHAR", "workspace id (wrkspc_…)", False),),
    (
        _c("type", "VARCHAR", "always 'workspace'"),
        _c("name", "VARCHAR"),
        _c("display_color", "VARCHAR", "hex colour shown in the Console"),
        _c("created_at", "TIMESTAMPTZ", "creation instant"),
        _c("archived_at", "TIMESTAMPTZ", "archive instant; null while active"),
        _c("workspace_geo", "VARCHAR", "data_residency.workspace_geo (immutable)"),
        _c("default_inference_geo", "VARCHAR", "data_residency.default_inference_geo"),
        _c(
            "allowed_inference_geos",
            "JSON",
            'data_residency.allowed_inference_geos: a list or "unrestricted"',
        ),
        _c("compartment_id", "VARCHAR"),
        _c("external_key_id", "VARCHAR"),
        _c("tags", "JSON", "the workspace's tags object"),
        _c("user_profile_id", "VARCHAR"),
        _c(
            "is_default",
            "BOOLEAN",
            "the organization's default workspace (the one listed only with "
            "include_default=true); usage and cost reports call it workspace_id null",
            False,
        ),
    ),
)

USERS_TABLE = _history(
    "users",
    "Members of the organization with their role (GET /v1/organizations/users). A removed user's "
    "versions stay, closed at the snapshot that no longer listed them.",
    (_c("user_id", "VARCHAR", "user id (user_…); the usage report's account_id", False),),
    (
        _c("type", "VARCHAR", "always 'user'"),
        _c("email", "VARCHAR"),
        _c("name", "VARCHAR"),
        _c("role", "VARCHAR", "user, developer, billing, claude_code_user, admin, …"),
        _c("added_at", "TIMESTAMPTZ", "when the user joined the organization"),
    ),
)

INVITES_TABLE = _history(
    "invites",
    "Invitations of every status: pending, accepted, expired (and deleted where the API reports it).",
    (_c("invite_id", "VARCHAR", "invite id (invite_…)", False),),
    (
        _c("type", "VARCHAR", "always 'invite'"),
        _c("email", "VARCHAR"),
        _c("role", "VARCHAR"),
        _c("status", "VARCHAR", "pending, accepted, expired or deleted"),
        _c("invited_at", "TIMESTAMPTZ"),
        _c("expires_at", "TIMESTAMPTZ"),
        _c("accepted_at", "TIMESTAMPTZ"),
        _c("rbac_group_ids", "JSON", "RBAC groups the invite grants"),
    ),
)

MEMBERS_TABLE = _history(
    "workspace_members",
    "Workspace memberships with their workspace role, for every workspace that is not "
    "archived (GET /v1/organizations/workspaces/{id}/members). A membership closes when the "
    "user leaves the workspace or the workspace is archived. The API gives no creation "
    "instant for a membership, so its first version starts at the first snapshot that saw it.",
    (_c("workspace_id", "VARCHAR", "workspace id", False), _c("user_id", "VARCHAR", "user id", False)),
    (
        _c("type", "VARCHAR", "always 'workspace_member'"),
        _c(
            "workspace_role",
            "VARCHAR",
            "workspace_user, workspace_developer, workspace_restricted_developer, "
            "workspace_admin or workspace_billing",
        ),
    ),
)

API_KEYS_TABLE = _history(
    "api_keys",
    "API keys of every status with their workspace and creator (GET /v1/organizations/api_keys). "
    "A deleted key keeps its name and owner on past days.",
    (_c("api_key_id", "VARCHAR", "key id (apikey_…); the usage report's api_key_id", False),),
    (
        _c("type", "VARCHAR", "always 'api_key'"),
        _c("name", "VARCHAR"),
        _c("status", "VARCHAR", "active, inactive, archived or expired"),
        _c(
            "workspace_id",
            "VARCHAR",
            "workspace of the key; null = the default workspace (as in usage and cost "
            "reports). Derived from scope when the API sends no workspace_id",
        ),
        _c("scope_type", "VARCHAR", "scope.type: workspace or organization"),
        _c(
            "scope_workspace_id",
            "VARCHAR",
            "scope.workspace_id: the real id, the default workspace's included",
        ),
        _c("created_by_id", "VARCHAR", "created_by.id: the user or service account that created it"),
        _c("created_by_type", "VARCHAR", "created_by.type: user or service_account"),
        _c("principal_type", "VARCHAR", "principal.type"),
        _c("principal_id", "VARCHAR", "principal.id (or its user_id / service_account_id)"),
        _c("created_at", "TIMESTAMPTZ"),
        _c("expires_at", "TIMESTAMPTZ", "null = never expires"),
        _c("partial_key_hint", "VARCHAR", "the redacted key the Console shows (never the key)"),
    ),
)


@dataclass(frozen=True)
class Entity:
    """One inventory table: its entity key, creation-instant column and what its checks expect."""

    table: Table
    keys: tuple[str, ...]  # org_id + the entity id column(s)
    born: str | None  # column holding the entity's own creation instant, if the API gives one
    expect_rows: bool  # every organization has some: none is an error
    checks: dict[str, list[pa.Check]]


def _one_of(*values: str) -> pa.Check:
    return pa.Check.isin(list(values), error=f"must be one of {', '.join(values)}")


ENTITIES = (
    Entity(ORGANIZATION, ("org_id", "organization_id"), None, True, {}),
    Entity(WORKSPACES_TABLE, ("org_id", "workspace_id"), "created_at", True, {}),
    Entity(USERS_TABLE, ("org_id", "user_id"), "added_at", True, {}),
    Entity(INVITES_TABLE, ("org_id", "invite_id"), "invited_at", False, {}),
    Entity(MEMBERS_TABLE, ("org_id", "workspace_id", "user_id"), None, False, {}),
    Entity(
        API_KEYS_TABLE,
        ("org_id", "api_key_id"),
        "created_at",
        False,
        {"status": [_one_of("active", "inactive", "archived", "expired")]},
    ),
)
TABLES = tuple(e.table for e in ENTITIES)
SCHEMAS = {e.table: inventory_checks.snapshot_schema(e.table, e.keys, e.checks) for e in ENTITIES}


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


def _split(value: object, known: set[str]) -> tuple[dict, dict]:
    """A nested object's documented keys, and the others (for ``extra``)."""
    if not isinstance(value, dict):
        return {}, ({} if value is None else {"_value": value})
    return {k: v for k, v in value.items() if k in known}, {k: v for k, v in value.items() if k not in known}


def _with_extra(record: dict, known: set[str], row: dict, nested: dict[str, dict] | None = None) -> dict:
    extra = {k: v for k, v in record.items() if k not in known}
    extra.update({k: v for k, v in (nested or {}).items() if v})
    return {**row, "extra": _json(extra) if extra else None}


def parse_organization(r: dict) -> dict:
    return _with_extra(
        r,
        {"id", "type", "name"},
        {"organization_id": r.get("id"), "type": r.get("type"), "name": r.get("name")},
    )


def parse_workspace(r: dict, default_ids: set[str]) -> dict:
    residency, residency_extra = _split(
        r.get("data_residency"), {"workspace_geo", "default_inference_geo", "allowed_inference_geos"}
    )
    return _with_extra(
        r,
        {
            "id",
            "type",
            "name",
            "display_color",
            "created_at",
            "archived_at",
            "data_residency",
            "compartment_id",
            "external_key_id",
            "tags",
            "user_profile_id",
        },
        {
            "workspace_id": r.get("id"),
            "type": r.get("type"),
            "name": r.get("name"),
            "display_color": r.get("display_color"),
            "created_at": _instant(r.get("created_at")),
            "archived_at": _instant(r.get("archived_at")),
            "workspace_geo": residency.get("workspace_geo"),
            "default_inference_geo": residency.get("default_inference_geo"),
            "allowed_inference_geos": _json(residency.get("allowed_inference_geos")),
            "compartment_id": r.get("compartment_id"),
            "external_key_id": r.get("external_key_id"),
            "tags": _json(r.get("tags")),
            "user_profile_id": r.get("user_profile_id"),
            "is_default": r.get("id") in default_ids,
        },
        {"data_residency": residency_extra},
    )


def parse_user(r: dict) -> dict:
    return _with_extra(
        r,
        {"id", "type", "email", "name", "role", "added_at"},
        {
            "user_id": r.get("id"),
            "type": r.get("type"),
            "email": r.get("email"),
            "name": r.get("name"),
            "role": r.get("role"),
            "added_at": _instant(r.get("added_at")),
        },
    )


def parse_invite(r: dict) -> dict:
    return _with_extra(
        r,
        {
            "id",
            "type",
            "email",
            "role",
            "status",
            "invited_at",
            "expires_at",
            "accepted_at",
            "rbac_group_ids",
        },
        {
            "invite_id": r.get("id"),
            "type": r.get("type"),
            "email": r.get("email"),
            "role": r.get("role"),
            "status": r.get("status"),
            "invited_at": _instant(r.get("invited_at")),
            "expires_at": _instant(r.get("expires_at")),
            "accepted_at": _instant(r.get("accepted_at")),
            "rbac_group_ids": _json(r.get("rbac_group_ids")),
        },
    )


def parse_member(r: dict, workspace_id: str) -> dict:
    return _with_extra(
        r,
        {"type", "user_id", "workspace_id", "workspace_role"},
        {
            "workspace_id": r.get("workspace_id") or workspace_id,
            "user_id": r.get("user_id"),
            "type": r.get("type"),
            "workspace_role": r.get("workspace_role"),
        },
    )


def parse_api_key(r: dict, default_workspace_id: str | None) -> dict:
    created_by, created_by_extra = _split(r.get("created_by"), {"id", "type"})
    scope, scope_extra = _split(r.get("scope"), {"type", "workspace_id"})
    principal, principal_extra = _split(r.get("principal"), {"type", "id", "user_id", "service_account_id"})
    scope_workspace = scope.get("workspace_id")
    # docs shape: workspace_id, null = the default workspace; SDK >= 1.10 shape: only scope, which names
    # the default workspace by its real id
    workspace = r.get("workspace_id", None if scope_workspace == default_workspace_id else scope_workspace)
    return _with_extra(
        r,
        {
            "id",
            "type",
            "name",
            "status",
            "workspace_id",
            "scope",
            "created_by",
            "principal",
            "created_at",
            "expires_at",
            "partial_key_hint",
        },
        {
            "api_key_id": r.get("id"),
            "type": r.get("type"),
            "name": r.get("name"),
            "status": r.get("status"),
            "workspace_id": workspace,
            "scope_type": scope.get("type"),
            "scope_workspace_id": scope_workspace,
            "created_by_id": created_by.get("id"),
            "created_by_type": created_by.get("type"),
            "principal_type": principal.get("type"),
            "principal_id": principal.get("id")
            or principal.get("user_id")
            or principal.get("service_account_id"),
            "created_at": _instant(r.get("created_at")),
            "expires_at": _instant(r.get("expires_at")),
            "partial_key_hint": r.get("partial_key_hint"),
        },
        {"created_by": created_by_extra, "scope": scope_extra, "principal": principal_extra},
    )


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


def _frame(table: Table, rows: list[dict], org_id: str, fetched_at: str) -> tuple[pd.DataFrame, int]:
    tracked = [
        c.name
        for c in table.columns
        if c.name not in {"row_hash", "valid_from", "valid_to", "is_current", "fetched_at", "source_request"}
    ]
    staged = []
    for row in rows:
        row = {"org_id": org_id, **row}
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


def fetch_snapshot(client: ApiClient, org: OrgConfig, stats: CallStats, log=None) -> Snapshot:
    """Read the whole inventory of one organization (nothing is written here)."""
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
            return name, client.get(ME, stats=stats)
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
        frames[table], n = _frame(table, table_rows, org.slug, fetched_at)
        dropped += n
    return Snapshot(org.slug, at, frames, stats, dropped)


# -- writing ----------------------------------------------------------------------------------------------
def validate_snapshot(snapshot: Snapshot) -> None:
    """Every staged table against its pandera schema; a failure fails the run and writes nothing."""
    for table, frame in snapshot.frames.items():
        try:
            validate(SCHEMAS[table], table, frame)
        except SchemaViolation as exc:
            raise dg.Failure(
                description=f"{snapshot.org_id}: {exc}",
                metadata={
                    "failure_cases": dg.MetadataValue.md(exc.failures.head(50).to_markdown(index=False))
                },
            ) from None


def write_snapshot(con, snapshot: Snapshot) -> dict[Table, SnapshotChange]:
    """Apply one organization's snapshot to every inventory table in one transaction."""
    for entity in ENTITIES:
        ensure(con, entity.table)
    with transaction(con):
        return {
            e.table: apply_snapshot(
                con,
                e.table,
                keys=e.keys,
                scope={"org_id": snapshot.org_id},
                frame=snapshot.frames[e.table],
                at=snapshot.at,
                born=e.born,
            )
            for e in ENTITIES
        }


def _metadata(
    con,
    table: Table,
    orgs: list[str],
    snapshots: list[Snapshot],
    changes: dict[str, SnapshotChange],
    stats: CallStats,
) -> dict:
    where = "org_id IN (" + ", ".join("?" for _ in orgs) + ")"
    current, total = con.execute(
        f"SELECT count(*) FILTER (WHERE is_current), count(*) FROM {table.qualified} WHERE {where}", orgs
    ).fetchall()[0]
    preview = con.execute(
        f"SELECT * EXCLUDE (extra, row_hash, fetched_at, source_request) FROM {table.qualified} "
        f"WHERE {where} AND is_current ORDER BY ALL LIMIT 10",
        orgs,
    ).df()
    latest = max(s.at for s in snapshots)
    return {
        "dagster/row_count": int(current),
        "dagster/column_schema": table.dagster_schema(),
        "versions_opened": sum(c.opened for c in changes.values()),
        "versions_closed": sum(c.closed for c in changes.values()),
        "versions_total": int(total),
        "snapshot_at": dg.MetadataValue.timestamp(latest),
        "snapshot_at_by_org": {s.org_id: s.at.isoformat() for s in snapshots},
        "changes_by_org": {org: {"opened": c.opened, "closed": c.closed} for org, c in changes.items()},
        **{f"api_{k}": v for k, v in stats.as_dict().items()},
        "preview": dg.MetadataValue.md(
            preview.to_markdown(index=False) if len(preview) else "(no current rows)"
        ),
    }


def run_snapshots(
    context: dg.AssetExecutionContext, *, config: ProjectConfig, api: ConsoleAdminApi, duckdb: DuckDBResource
) -> list[dg.MaterializeResult | dg.AssetCheckResult]:
    total = CallStats()
    snapshots: list[Snapshot] = []
    changes: dict[Table, dict[str, SnapshotChange]] = {t: {} for t in TABLES}
    for slug in sorted(set(context.partition_keys)):
        org = config.get(slug)
        stats = CallStats()
        with api.client(org) as client:
            snapshot = fetch_snapshot(client, org, stats, context.log)
        total.merge(stats)
        validate_snapshot(snapshot)
        with duckdb.get_connection() as con:
            written = write_snapshot(con, snapshot)
        snapshots.append(snapshot)
        for table, change in written.items():
            changes[table][slug] = change
        if snapshot.duplicates_dropped:
            context.log.warning(
                f"{slug}: {snapshot.duplicates_dropped} entities were listed twice (identical); kept once"
            )
        context.log.info(
            f"{slug} snapshot at {snapshot.at.isoformat()}: "
            + ", ".join(f"{t.name} +{c.opened}/-{c.closed}" for t, c in written.items())
        )
    orgs = [s.org_id for s in snapshots]
    out: list[dg.MaterializeResult | dg.AssetCheckResult] = []
    with duckdb.get_connection() as con:
        for table in TABLES:
            out.append(
                dg.MaterializeResult(
                    asset_key=table.asset_key,
                    metadata=_metadata(con, table, orgs, snapshots, changes[table], total),
                )
            )
        for entity in ENTITIES:
            frames = [s.frames[entity.table] for s in snapshots]
            keys = pd.concat(frames, ignore_index=True)[list(entity.keys)]
            out.extend(
                inventory_checks.results(
                    con,
                    entity.table,
                    entity.keys,
                    keys,
                    orgs,
                    sum(len(f) for f in frames),
                    entity.expect_rows,
                )
            )
    return out


# -- assets -------------------------------------------------------------------------------------------------
def inventory_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The Console inventory: one multi-asset writing six history tables, partitioned by organization."""

    @dg.multi_asset(
        name="inventory__console",
        specs=[
            dg.AssetSpec(
                t.asset_key,
                description=t.description,
                group_name=GROUP,
                kinds={"duckdb", "python"},
                owners=OWNERS,
            )
            for t in TABLES
        ],
        check_specs=[s for e in ENTITIES for s in inventory_checks.specs(e.table, e.expect_rows)],
        partitions_def=organizations(config, "console"),
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def console_inventory(
        context: dg.AssetExecutionContext, console_api: ConsoleAdminApi, duckdb: DuckDBResource
    ):
        """Snapshot each selected Console organization's inventory (organization, workspaces, users, invites,
        workspace members, API keys) through the Admin API and apply it to the history tables: fetch
        everything first, validate it, then one DuckDB transaction per organization."""
        yield from run_snapshots(context, config=config, api=console_api, duckdb=duckdb)

    return [console_inventory]

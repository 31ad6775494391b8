"""The Console inventory's history tables (schema ``inventory``), declared once, and what their checks expect.

Each declaration gives the table's DDL, its Dagster column schema and (``SCHEMAS``) the pandera schema of
the snapshot staged for it.
"""

from dataclasses import dataclass

import pandera.pandas as pa

from checks import inventory as inventory_checks
from claude_assets.warehouse.contract import EMAIL as EMAIL_DATA
from claude_assets.warehouse.contract import ORG_ID, PERSON_NAME, USER_ID, Column, Table
from claude_assets.warehouse.contract import col as _c

POINT_IN_TIME = (
    " History (SCD type 2): one row per version, valid in [valid_from, valid_to), valid_to null = "
    "current. For a UTC day usage_date join with valid_from < day_end AND (valid_to IS NULL OR "
    "valid_to > day_start), day_start = usage_date::TIMESTAMP AT TIME ZONE 'UTC', day_end = "
    "(usage_date + INTERVAL 1 DAY)::TIMESTAMP AT TIME ZONE 'UTC'; a version changed during the day matches too, so keep the latest "
    "valid_from per entity and day."
)

#: what every history table adds after the entity's own columns
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
HISTORY_COLUMNS = frozenset(c.name for c in HISTORY)


def _history(name: str, keys: dict[str, str], fields: tuple[Column, ...], *, description: str) -> Table:
    """A history table: org_id, the entity's key columns (``keys``: name -> description), its API ``type``
    (the table name in the singular) and ``fields``, then the history columns; one row per entity and
    ``valid_from``."""
    key_columns = tuple(
        _c(k, "VARCHAR", text, False, personal=USER_ID if k == "user_id" else None)
        for k, text in keys.items()
    )
    kind = name.removesuffix("s")
    return Table(
        "inventory",
        name,
        columns=(ORG_ID, *key_columns, _c("type", "VARCHAR", f"always '{kind}'"), *fields, *HISTORY),
        grain=("org_id", *keys, "valid_from"),
        description=description + POINT_IN_TIME,
    )


def fields(table: Table) -> tuple[Column, ...]:
    """The columns of ``table`` an API object fills: all but org_id and the history columns."""
    return tuple(c for c in table.columns if c is not ORG_ID and c.name not in HISTORY_COLUMNS)


@dataclass(frozen=True)
class Entity:
    """One inventory table: its creation-instant column and what its checks expect."""

    table: Table
    born: str | None = None  # column holding the entity's own creation instant, if the API gives one
    expect_rows: bool = False  # every organization has some: none is an error
    checks: dict[str, list[pa.Check]] | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """org_id + the entity id column(s): the grain without ``valid_from``."""
        return self.table.grain[:-1]


def _one_of(*values: str) -> pa.Check:
    return pa.Check.isin(list(values), error=f"must be one of {', '.join(values)}")


ORGANIZATION = _history(
    "organization",
    {"organization_id": "the API's organization id (a UUID)"},
    (_c("name", "VARCHAR", "organization name"),),
    description="The Console organization itself (GET /v1/organizations/me). The API gives no creation "
    "instant, so its first version starts at the first snapshot.",
)
ORGANIZATION_ENTITY = Entity(ORGANIZATION, expect_rows=True)

USERS_TABLE = _history(
    "users",
    {"user_id": "user id (user_…); the usage report's account_id"},
    (
        _c("email", "VARCHAR", "the user's email address", personal=EMAIL_DATA),
        _c("name", "VARCHAR", "the user's name", personal=PERSON_NAME),
        _c("role", "VARCHAR", "user, developer, billing, claude_code_user, admin, …"),
        _c("added_at", "TIMESTAMPTZ", "when the user joined the organization"),
    ),
    description="Members of the organization with their role (GET /v1/organizations/users). A removed user's "
    "versions stay, closed at the snapshot that no longer listed them.",
)
USERS_ENTITY = Entity(USERS_TABLE, born="added_at", expect_rows=True)

WORKSPACES_TABLE = _history(
    "workspaces",
    {"workspace_id": "workspace id (wrkspc_…)"},
    (
        _c("name", "VARCHAR", "the workspace's name"),
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
        _c("compartment_id", "VARCHAR", "the compartment id the API returns for the workspace (opaque)"),
        _c("external_key_id", "VARCHAR", "the external key id set on the workspace; null when none is set"),
        _c("tags", "JSON", "the workspace's tags object"),
        _c("user_profile_id", "VARCHAR", "the user profile the workspace belongs to; null when none"),
        _c(
            "is_default",
            "BOOLEAN",
            "the organization's default workspace (the one listed only with "
            "include_default=true); usage and cost reports call it workspace_id null",
            False,
        ),
    ),
    description="Workspaces, archived ones and the default workspace included "
    "(include_archived=true, include_default=true).",
)
WORKSPACES_ENTITY = Entity(WORKSPACES_TABLE, born="created_at", expect_rows=True)

MEMBERS_TABLE = _history(
    "workspace_members",
    {"workspace_id": "workspace id", "user_id": "user id"},
    (
        _c(
            "workspace_role",
            "VARCHAR",
            "workspace_user, workspace_developer, workspace_restricted_developer, "
            "workspace_admin or workspace_billing",
        ),
    ),
    description="Workspace memberships with their workspace role, for every workspace that is not "
    "archived (GET /v1/organizations/workspaces/{id}/members). A membership closes when the "
    "user leaves the workspace or the workspace is archived. The API gives no creation "
    "instant for a membership, so its first version starts at the first snapshot that saw it.",
)
MEMBERS_ENTITY = Entity(MEMBERS_TABLE)

INVITES_TABLE = _history(
    "invites",
    {"invite_id": "invite id (invite_…)"},
    (
        _c("email", "VARCHAR", "the email address invited", personal=EMAIL_DATA),
        _c("role", "VARCHAR", "the organization role the invite grants (user, developer, billing, admin, …)"),
        _c("status", "VARCHAR", "pending, accepted, expired or deleted"),
        _c("invited_at", "TIMESTAMPTZ", "when the invite was sent"),
        _c("expires_at", "TIMESTAMPTZ", "when the invite expires (or expired)"),
        _c("accepted_at", "TIMESTAMPTZ", "when the invite was accepted; null while it is not"),
        _c("rbac_group_ids", "JSON", "RBAC groups the invite grants"),
    ),
    description="Invitations of every status: pending, accepted, expired "
    "(and deleted where the API reports it).",
)
INVITES_ENTITY = Entity(INVITES_TABLE, born="invited_at")

API_KEYS_TABLE = _history(
    "api_keys",
    {"api_key_id": "key id (apikey_…); the usage report's api_key_id"},
    (
        _c("name", "VARCHAR", "the key's name"),
        _c("status", "VARCHAR", "active, inactive, archived or expired"),
        _c(
            "workspace_id",
            "VARCHAR",
            "workspace of the key; null = the default workspace (as in usage and cost "
            "reports). Derived from scope when the API sends no workspace_id",
        ),
        _c(
            "scope_type",
            "VARCHAR",
            "scope.type: workspace or organization (workspace when the API sends workspace_id instead)",
        ),
        _c(
            "scope_workspace_id",
            "VARCHAR",
            "scope.workspace_id: the real id, the default workspace's included (derived from workspace_id "
            "when the API sends no scope)",
        ),
        _c(
            "created_by_id",
            "VARCHAR",
            "created_by.id: the user or service account that created it",
            personal=USER_ID,
        ),
        _c("created_by_type", "VARCHAR", "created_by.type: user or service_account"),
        _c(
            "principal_type",
            "VARCHAR",
            "principal.type: user or service_account (the SDK's user_actor, service_account_actor)",
        ),
        _c("principal_id", "VARCHAR", "principal.id (or its user_id / service_account_id)", personal=USER_ID),
        _c("created_at", "TIMESTAMPTZ", "when the key was created"),
        _c("expires_at", "TIMESTAMPTZ", "null = never expires"),
        _c("partial_key_hint", "VARCHAR", "the redacted key the Console shows (never the key)"),
    ),
    description="API keys of every status with their workspace and creator (GET /v1/organizations/api_keys). "
    "A deleted key keeps its name and owner on past days.",
)
API_KEYS_ENTITY = Entity(
    API_KEYS_TABLE,
    born="created_at",
    checks={"status": [_one_of("active", "inactive", "archived", "expired")]},
)


ENTITIES = (
    ORGANIZATION_ENTITY,
    WORKSPACES_ENTITY,
    USERS_ENTITY,
    INVITES_ENTITY,
    MEMBERS_ENTITY,
    API_KEYS_ENTITY,
)
TABLES = tuple(e.table for e in ENTITIES)
SCHEMAS = {e.table: inventory_checks.snapshot_schema(e.table, e.keys, e.checks) for e in ENTITIES}

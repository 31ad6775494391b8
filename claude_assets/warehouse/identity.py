"""A key reaches one organization: the API's own id of each configured organization, pinned in the warehouse.

The first time a run writes an organization's data, the ids the API gave for it (the UUID of
``/v1/organizations/me`` and of the ``anthropic-organization-id`` header, the ``org_…`` id of the
analytics reports, the ids inside the rows) are stored in ``raw.organization_identity``, one row
per form (the API documents no mapping between the two forms, so each is compared with its own).
Every later write checks, inside its own transaction, that its answers came from the same
organization, that no other configured organization is pinned to it, and that it matches the
configuration's ``api_organization_id`` when one is given; otherwise the write fails and nothing
of it is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import pandas as pd

from claude_assets.config import OrgConfig
from claude_assets.warehouse.contract import Column, Table
from claude_assets.warehouse.writes import ensure
from resources.errors import OrganizationMismatch
from resources.identity import id_form

ORGANIZATION_IDENTITY = Table(
    schema="raw",
    name="organization_identity",
    description="The API's own id of each configured organization, pinned the first time data of it was "
    "written: one row per organization and id form (the bare UUID of /v1/organizations/me, the "
    "anthropic-organization-id header and Claude Code records; the org_… id of the analytics reports). "
    "Every write checks its answers against it, so a key that reaches another organization writes nothing.",
    columns=(
        Column("org_id", "VARCHAR", "organization slug (from the configuration)", False),
        Column("id_form", "VARCHAR", "uuid (bare UUID) or org_ (the analytics reports' tagged id)", False),
        Column("api_organization_id", "VARCHAR", "the API's id of the organization, in that form", False),
        Column("seen_in", "VARCHAR", "where the id was first seen (an endpoint, a header, a table's rows)"),
        Column("pinned_at", "TIMESTAMPTZ", "when it was pinned", False),
        Column("run_id", "VARCHAR", "the Dagster run that pinned it"),
    ),
    grain=("org_id", "id_form"),
)
#: the staged column holding the API's organization id of each row, where a table has one
ROW_ID_COLUMN = "anthropic_organization_id"

Seen = dict[str, tuple[str, str]]  # id form -> (id, where it was seen)
WriteGuard = Callable[[duckdb.DuckDBPyConnection, dict[Table, pd.DataFrame]], None]


def guard(org: OrgConfig, seen: Callable[[], Seen], run_id: str = "") -> WriteGuard:
    """A check for a write transaction of ``org``: ``seen`` gives the ids the client's answers carried
    (``ApiClient.seen_organizations.ids``); the staged rows add theirs."""

    def check(con: duckdb.DuckDBPyConnection, frames: dict[Table, pd.DataFrame]) -> None:
        ids = dict(seen())
        for table, frame in frames.items():
            if ROW_ID_COLUMN not in frame.columns or not len(frame):
                continue
            for api_id in frame[ROW_ID_COLUMN].dropna().astype(str).unique():
                where = f"the rows of {table.qualified}"
                first = ids.setdefault(id_form(api_id), (api_id, where))
                if first[0] != api_id:
                    raise _mismatch(
                        org, f"{where} name organization {api_id}, but {first[1]} named {first[0]}"
                    )
        pin(con, org, ids, run_id)

    return check


def pin(con: duckdb.DuckDBPyConnection, org: OrgConfig, ids: Seen, run_id: str = "") -> None:
    """Check ``ids`` against the configuration and the pins, then pin the new ones; call it inside the
    transaction of the write it protects, so a refusal rolls the whole write back."""
    ensure(con, ORGANIZATION_IDENTITY)
    table = ORGANIZATION_IDENTITY.qualified
    for form, (api_id, where) in sorted(ids.items()):
        configured = org.api_organization_id
        if configured and id_form(configured) == form and configured != api_id:
            raise _mismatch(
                org,
                f"{where} names organization {api_id}, but the configuration gives api_organization_id "
                f"{configured}",
            )
        pinned = con.execute(
            f"SELECT api_organization_id, seen_in, pinned_at, run_id FROM {table} WHERE org_id = ? AND id_form = ?",
            [org.slug, form],
        ).fetchall()
        if pinned and pinned[0][0] != api_id:
            was, seen_in, at, run = pinned[0]
            raise _mismatch(
                org,
                f"{where} names organization {api_id}, but {org.slug!r} is pinned to {was} (seen in {seen_in} "
                f"on {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC, run {run or '?'}). If the organization really moved to another "
                f"API organization, delete its rows from {table} and re-run",
            )
        others = con.execute(
            f"SELECT org_id FROM {table} WHERE id_form = ? AND api_organization_id = ? AND org_id <> ?",
            [form, api_id, org.slug],
        ).fetchall()
        if others:
            raise _mismatch(
                org,
                f"{where} names organization {api_id}, which configured organization {others[0][0]!r} "
                "already reaches: two configured organizations cannot read the same API organization (each "
                "needs its own key)",
            )
        if not pinned:
            con.execute(
                f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)",
                [org.slug, form, api_id, where, datetime.now(UTC), run_id],
            )


def _mismatch(org: OrgConfig, what: str) -> OrganizationMismatch:
    return OrganizationMismatch(
        f"organization {org.slug!r}: the key in ${org.key_env} reaches another organization than the one "
        f"configured: {what}. Nothing of this write was stored. Check that {org.key_env} holds the key of "
        f"organization {org.slug!r} (and api_organization_id in the configuration, if set)."
    )

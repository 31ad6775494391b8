"""Console inventory history (inventory.*) against the simulator over loopback HTTP.

The expected values come from the simulator's world (``sim.world``), not from the code under test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from checks import inventory as inventory_checks
from checks.window import SchemaViolation, validate
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.inventory import fetch, tables
from claude_assets.inventory.assets import inventory_assets
from claude_assets.warehouse.history import HistoryOrderError, SnapshotChange, apply_snapshot
from claude_assets.warehouse.writes import ensure, transaction
from resources.apis import ConsoleAdminApi
from simulator.serve import serve_in_thread
from simulator.world import day_start
from tests.conftest import FIXED_NOW, make_sim

TABLES = ("organization", "workspaces", "users", "invites", "workspace_members", "api_keys")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class Env:
    sim: object
    config: ProjectConfig
    resources: dict

    def materialize(self, *orgs: str, succeed: bool = True) -> dg.ExecuteInProcessResult:
        orgs = orgs or tuple(o.slug for o in self.config.organizations)
        kw = (
            {"partition_key": orgs[0]}
            if len(orgs) == 1
            else {
                "tags": {
                    "dagster/asset_partition_range_start": orgs[0],
                    "dagster/asset_partition_range_end": orgs[-1],
                }
            }
        )
        result = dg.materialize(
            inventory_assets(self.config), resources=self.resources, raise_on_error=False, **kw
        )
        if succeed:
            assert result.success, [e.event_specific_data for e in result.all_events if e.is_failure]
        return result

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.resources["duckdb"].get_connection() as con:
            return con.execute(sql, params or []).fetchall()

    def frame(self, sql: str, params: list | None = None) -> pd.DataFrame:
        with self.resources["duckdb"].get_connection() as con:
            return con.execute(sql, params or []).df()

    def dump(self) -> dict[str, list[tuple]]:
        return {t: self.query(f"SELECT * FROM inventory.{t} ORDER BY ALL") for t in TABLES}


@contextlib.contextmanager
def environment(tmp_path, monkeypatch, now: datetime = FIXED_NOW) -> Iterator[Env]:
    sim = make_sim(now=now)
    with serve_in_thread(sim) as server:
        orgs = []
        for org in sim.world.organizations:
            if org.kind == "console":
                var = "INV_KEY_" + org.slug.replace("-", "_").upper()
                monkeypatch.setenv(var, org.api_key)
                orgs.append(
                    OrgConfig(
                        slug=org.slug,
                        kind="console",
                        key_env=var,
                        base_url=server.base_url,
                        rate_limit_per_minute=100_000,
                    )
                )
        config = ProjectConfig(organizations=tuple(orgs))
        yield Env(
            sim,
            config,
            {
                "console_api": ConsoleAdminApi(backoff_seconds=0.01),
                "duckdb": DuckDBResource(database=str(tmp_path / "warehouse.duckdb")),
            },
        )


def checks_by_name(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], bool]:
    return {(c.asset_key.path[-1], c.check_name): c.passed for c in result.get_asset_check_evaluations()}


def metadata(result: dg.ExecuteInProcessResult, table: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key.path == ["inventory", table]:
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"no materialization of inventory.{table}")


def current(env: Env, table: str, org: str, columns: str) -> set[tuple]:
    return set(env.query(f"SELECT {columns} FROM inventory.{table} WHERE org_id = ? AND is_current", [org]))


def world_state(org, now: datetime) -> dict[str, set[tuple]]:
    """What the simulator's world says exists at ``now`` (from its generators, not through the API)."""
    today = now.date()
    spaces = [w for w in (org.default_workspace, *org.workspaces) if w.created <= today]
    return {
        "organization": {(org.uuid, org.name)},
        "users": {
            (u.id, u.email, u.name, u.role, instant(u.added_at())) for u in org.users if u.member_on(today)
        },
        "workspaces": {
            (w.id, w.name, w.is_default, w.archived is not None and w.archived <= today) for w in spaces
        },
        "invites": {(i.id, i.email, i.role, i.status_at(now)) for i in org.invites if i.invited <= now},
        "workspace_members": {
            (w.id, u.id, role)
            for w in spaces
            if w.active_on(today)
            for u, role in org.workspace_members.get(w.id, ())
            if u.member_on(today)
        },
        "api_keys": {
            (
                k.id,
                k.name,
                k.status_at(today),
                None if k.workspace.is_default else k.workspace.id,
                k.workspace.id,
                k.created_by,
            )
            for k in org.api_keys
            if k.created <= today
        },
    }


COLUMNS = {
    "organization": "organization_id, name",
    "users": "user_id, email, name, role, added_at",
    "workspaces": "workspace_id, name, is_default, archived_at IS NOT NULL",
    "invites": "invite_id, email, role, status",
    "workspace_members": "workspace_id, user_id, workspace_role",
    "api_keys": "api_key_id, name, status, workspace_id, scope_workspace_id, created_by_id",
}


def assert_matches_world(env: Env, slug: str, now: datetime) -> None:
    expected = world_state(env.sim.world.by_slug(slug), now)
    for table, columns in COLUMNS.items():
        assert current(env, table, slug, columns) == expected[table], f"{slug} inventory.{table}"


# -- end to end ---------------------------------------------------------------------------------------------
def test_first_snapshot_equals_the_world_and_rerunning_changes_nothing(tmp_path, monkeypatch):
    with environment(tmp_path, monkeypatch) as env:
        first = env.materialize()  # both Console organizations in one run
        for slug in ("acme-console", "globex-console"):
            assert_matches_world(env, slug, FIXED_NOW)
        assert all(checks_by_name(first).values()), checks_by_name(first)
        assert len(checks_by_name(first)) == 6 * 4 + 3

        acme = env.sim.world.by_slug("acme-console")
        # first versions start at the entity's own creation instant; without one, at the snapshot (Date header)
        users = dict(
            env.query("SELECT user_id, valid_from FROM inventory.users WHERE org_id = 'acme-console'")
        )
        assert users == {u.id: instant(u.added_at()) for u in acme.users if u.member_on(FIXED_NOW.date())}
        assert env.query("SELECT DISTINCT valid_from FROM inventory.workspace_members") == [(FIXED_NOW,)]
        assert env.query("SELECT valid_from FROM inventory.organization WHERE org_id = 'acme-console'") == [
            (FIXED_NOW,)
        ]
        assert env.query(
            "SELECT count(*) FROM inventory.users WHERE valid_to IS NOT NULL OR NOT is_current"
        ) == [(0,)]

        meta = metadata(first, "users")
        assert meta["dagster/row_count"] == len(world_state(acme, FIXED_NOW)["users"]) + len(
            world_state(env.sim.world.by_slug("globex-console"), FIXED_NOW)["users"]
        )
        assert meta["run_versions_opened"] == meta["dagster/row_count"] and meta["run_versions_closed"] == 0
        # each organization's partition shows its own rows and versions, the run's figures are named as such
        assert meta["versions_opened"] == meta["dagster/partition_row_count"] < meta["dagster/row_count"]
        assert meta["snapshot_at"] == FIXED_NOW.timestamp()
        assert meta["run_requests"] >= 2 * 6 and "| user_id" in meta["run_preview"]
        assert [c.name for c in meta["dagster/column_schema"].columns][-7:] == [
            "extra",
            "row_hash",
            "valid_from",
            "valid_to",
            "is_current",
            "fetched_at",
            "source_request",
        ]

        before = env.dump()
        again = env.materialize("acme-console")
        assert env.dump() == before
        for table in TABLES:
            assert (metadata(again, table)["versions_opened"], metadata(again, table)["versions_closed"]) == (
                0,
                0,
            )
        assert all(checks_by_name(again).values())


def test_history_closes_removed_users_and_versions_status_changes(tmp_path, monkeypatch):
    with environment(tmp_path, monkeypatch) as env:
        org = env.sim.world.by_slug("acme-console")
        t0 = FIXED_NOW
        key = next(k for k in org.api_keys if k.created <= t0.date() < (k.disabled or t0.date()))
        user = next(u for u in org.users if u.removed and u.removed > t0.date())
        t1 = day_start(max(key.disabled, user.added) + timedelta(days=1)) + timedelta(hours=12)
        t2 = day_start(user.removed + timedelta(days=1)) + timedelta(hours=12)
        assert user.member_on(t1.date()) and not user.member_on(t2.date())
        joiner = next(u for u in org.users if t0.date() < u.added <= t1.date() and u.member_on(t1.date()))

        env.materialize("acme-console")
        env.sim.clock.set(now=t1)  # past the key's disabled date (and the user has joined)
        second = env.materialize("acme-console")
        assert_matches_world(env, "acme-console", t1)
        assert metadata(second, "api_keys")["versions_opened"] >= 1
        env.sim.clock.set(now=t2)  # past the user's removed date
        third = env.materialize("acme-console")
        assert_matches_world(env, "acme-console", t2)
        for result in (second, third):
            assert all(checks_by_name(result).values()), checks_by_name(result)
        assert metadata(third, "users")["versions_closed"] >= 1

        # the removed user: one version, closed at the snapshot that no longer listed them
        assert env.query(
            "SELECT name, valid_from, valid_to, is_current FROM inventory.users WHERE user_id = ?", [user.id]
        ) == [(user.name, instant(user.added_at()), t2, False)]
        # ...and still found on a past day with the documented point-in-time join
        lookup = """
            SELECT u.name FROM (SELECT ?::DATE AS usage_date) f JOIN inventory.users u
              ON u.user_id = ? AND u.valid_from <= (f.usage_date + INTERVAL 1 DAY)::TIMESTAMP AT TIME ZONE 'UTC'
             AND (u.valid_to IS NULL OR u.valid_to > f.usage_date::TIMESTAMP AT TIME ZONE 'UTC')"""
        assert env.query(lookup, [user.added + timedelta(days=3), user.id]) == [(user.name,)]
        assert env.query(lookup, [t2.date() + timedelta(days=1), user.id]) == []
        # a user who joined between two snapshots starts at their own added_at, not at the snapshot
        assert env.query("SELECT valid_from FROM inventory.users WHERE user_id = ?", [joiner.id]) == [
            (instant(joiner.added_at()),)
        ]

        # the key's status change opened a new version at the snapshot time; name and owner stay
        versions = env.query(
            "SELECT status, name, created_by_id, valid_from, valid_to, is_current "
            "FROM inventory.api_keys WHERE api_key_id = ? ORDER BY valid_from",
            [key.id],
        )
        created = day_start(key.created) + timedelta(hours=11)
        assert versions == [
            ("active", key.name, key.created_by, created, t1, False),
            (key.status_at(t1.date()), key.name, key.created_by, t1, None, True),
        ]
        assert key.status_at(t1.date()) != "active"


def test_checks_fail_on_a_corrupted_history(tmp_path, monkeypatch):
    with environment(tmp_path, monkeypatch) as env:
        env.materialize("globex-console")
        with env.resources["duckdb"].get_connection() as con:
            # a second open version of one user, and a version that ends before it starts
            con.execute("""INSERT INTO inventory.users SELECT * REPLACE (valid_from + INTERVAL 1 DAY AS valid_from)
                           FROM inventory.users WHERE org_id = 'globex-console' ORDER BY user_id LIMIT 1""")
            con.execute("""INSERT INTO inventory.api_keys SELECT * REPLACE ('apikey_bogus' AS api_key_id,
                             valid_from + INTERVAL 1 DAY AS valid_from, valid_from AS valid_to, false AS is_current)
                           FROM inventory.api_keys WHERE org_id = 'globex-console' LIMIT 1""")
        result = env.materialize("globex-console", succeed=False)
        assert not result.success  # blocking checks failed: nothing downstream may read this
        checks = checks_by_name(result)
        assert checks[("users", "one_current_version")] is False
        assert checks[("users", "no_overlapping_versions")] is False
        assert checks[("api_keys", "valid_range")] is False
        assert checks[("workspaces", "one_current_version")] is True


# -- units ----------------------------------------------------------------------------------------------------
def _users_frame(rows: list[dict]) -> pd.DataFrame:
    frame, _ = fetch._frame(
        tables.USERS_TABLE,
        [{**fetch.parse_user(r), "source_request": "GET /v1/organizations/users"} for r in rows],
        "acme",
        "2026-11-22T12:00:00+00:00",
    )
    return frame


USER = {
    "id": "user_1",
    "type": "user",
    "email": "a@b.example",
    "name": "Ana",
    "role": "developer",
    "added_at": "2026-01-05T10:00:00Z",
}


def test_snapshot_schema_rejects_duplicates_missing_ids_and_bad_instants():
    validate(tables.SCHEMAS[tables.USERS_TABLE], tables.USERS_TABLE, _users_frame([USER]))
    bad = [
        USER,
        {**USER, "name": "Other"},
        {**USER, "id": None},
        {**USER, "id": "user_3", "added_at": "yesterday"},
    ]
    with pytest.raises(SchemaViolation) as caught:
        validate(tables.SCHEMAS[tables.USERS_TABLE], tables.USERS_TABLE, _users_frame(bad))
    failed = set(caught.value.failures["column"].dropna()) | set(caught.value.failures["check"].astype(str))
    assert {"user_id", "added_at"} <= failed
    assert _users_frame([USER, USER]).shape[0] == 1  # the very same entity listed twice is kept once


def test_unknown_fields_are_kept_and_both_api_key_shapes_give_the_workspace():
    docs = {
        "id": "apikey_1",
        "type": "api_key",
        "name": "etl",
        "status": "active",
        "workspace_id": None,
        "created_at": "2026-01-10T09:00:00Z",
        "expires_at": None,
        "created_by": {"id": "user_1", "type": "user"},
        "partial_key_hint": "sk-ant-api03-R2D...igAA",
        "principal": None,
        "brand_new": {"x": 1},
    }
    row = fetch.parse_api_key(docs, "wrkspc_default")
    assert row["workspace_id"] is None and row["created_by_id"] == "user_1"
    assert row["extra"] == '{"brand_new":{"x":1}}'
    sdk = {k: v for k, v in docs.items() if k not in ("workspace_id", "brand_new")}
    sdk |= {
        "scope": {"type": "workspace", "workspace_id": "wrkspc_default"},
        "principal": {"type": "user_actor", "user_id": "user_1", "since": "x"},
    }
    row = fetch.parse_api_key(sdk, "wrkspc_default")
    assert (row["workspace_id"], row["scope_workspace_id"], row["principal_id"]) == (
        None,
        "wrkspc_default",
        "user_1",
    )
    assert row["extra"] == '{"principal":{"since":"x"}}'
    assert (
        fetch.parse_api_key(
            {**sdk, "scope": {"type": "workspace", "workspace_id": "wrkspc_2"}}, "wrkspc_default"
        )["workspace_id"]
        == "wrkspc_2"
    )
    # an instant spelt differently is the same instant: no new version
    assert (
        _users_frame([USER]).row_hash[0]
        == _users_frame([{**USER, "added_at": "2026-01-05T10:00:00+00:00"}]).row_hash[0]
    )


def test_history_only_moves_forward():
    con = duckdb.connect()
    ensure(con, tables.USERS_TABLE)
    t1, t2 = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)

    def apply(rows, at):
        with transaction(con):
            return apply_snapshot(
                con,
                tables.USERS_TABLE,
                keys=("org_id", "user_id"),
                scope={"org_id": "acme"},
                frame=_users_frame(rows),
                at=at,
                born="added_at",
            )

    assert apply([USER], t1).opened == 1
    assert apply([{**USER, "role": "admin"}], t2) == SnapshotChange(opened=1, closed=1)
    with pytest.raises(HistoryOrderError):
        apply([USER], t1)  # an older snapshot cannot rewrite what a newer one saw
    with pytest.raises(HistoryOrderError):
        apply([{**USER, "role": "billing"}], t2)  # nor change, at the same instant, what that instant saw
    assert apply([{**USER, "role": "admin"}], t2) == SnapshotChange(opened=0, closed=0)
    assert con.execute(
        "SELECT role, valid_from, valid_to FROM inventory.users ORDER BY valid_from"
    ).fetchall() == [("developer", datetime(2026, 1, 5, 10, tzinfo=UTC), t2), ("admin", t2, None)]
    # gone, then back: the return opens a new version at the snapshot time, never at its creation instant
    t3, t4 = t2 + timedelta(days=1), t2 + timedelta(days=2)
    assert apply([], t3) == SnapshotChange(opened=0, closed=1)
    assert apply([{**USER, "role": "admin"}], t4) == SnapshotChange(opened=1, closed=0)
    assert con.execute("SELECT valid_from, valid_to FROM inventory.users WHERE is_current").fetchall() == [
        (t4, None)
    ]
    assert (
        inventory_checks.overlapping_versions(con, tables.USERS_TABLE, ("org_id", "user_id"), ["acme"]) == 0
    )

"""A key reaches one organization: the kind is checked with /v1/organizations/me before anything is fetched,
and the API organization each configured organization reaches is pinned in raw.organization_identity,
checked inside every write (window writes and inventory snapshots).

Expected ids come from the simulator's world (its ground truth), never from the code under test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import pytest

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from resources.apis import ConsoleAdminApi
from resources.client import ApiClient, CallStats
from resources.errors import OrganizationMismatch
from resources.ratelimit import RateLimiter
from resources.secrets import Secret
from simulator.serve import Running, serve_in_thread
from tests.conftest import make_sim

START = date(2026, 11, 10)
END = START + timedelta(days=1)


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    with serve_in_thread(make_sim()) as running:
        yield running


def key_of(server: Running, slug: str) -> str:
    return server.sim.world.by_slug(slug).api_key


def org(server: Running, slug: str, kind: str, key_env: str, **kw) -> OrgConfig:
    return OrgConfig(
        slug=slug, kind=kind, key_env=key_env, base_url=server.base_url, rate_limit_per_minute=100_000, **kw
    )


def materialize(
    orgs: list[OrgConfig], warehouse: Path, tables: list[list[str]], start: date = START, end: date = END
) -> dg.ExecuteInProcessResult:
    defs = build_definitions(ProjectConfig(organizations=tuple(orgs)), str(warehouse))
    return dg.materialize(
        list(defs.assets),
        selection=[dg.AssetKey(t) for t in tables],
        resources=defs.resources,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": f"{start}|{orgs[0].slug}",
            "dagster/asset_partition_range_end": f"{end - timedelta(days=1)}|{orgs[-1].slug}",
        },
    )


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    return " ".join(str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure)


@contextlib.contextmanager
def connect(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    # the configuration DuckDBResource connects with: its connection of a failed write may still be open
    con = duckdb.connect(str(warehouse), config={"custom_user_agent": "dagster"})
    try:
        yield con
    finally:
        con.close()


def rows_of(warehouse: Path, table: str, slug: str | None = None) -> list[tuple]:
    """Every row of a table (none if it does not exist), without its fetch instant."""
    schema, name = table.split(".")
    with connect(warehouse) as con:
        if not con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
        ).fetchone()[0]:
            return []
        where = " WHERE org_id = ?" if slug else ""
        cols = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall() if c[0] != "fetched_at"]
        return con.execute(
            f"SELECT {', '.join(cols)} FROM {table}{where} ORDER BY ALL", [slug] if slug else []
        ).fetchall()


def pins(warehouse: Path) -> set[tuple[str, str, str]]:
    with connect(warehouse) as con:
        return set(
            con.execute(
                "SELECT org_id, id_form, api_organization_id FROM raw.organization_identity"
            ).fetchall()
        )


# -- the kind of key ----------------------------------------------------------------------------------------
@pytest.mark.bad_input
def test_an_admin_key_configured_for_an_enterprise_organization_is_refused(server, tmp_path, monkeypatch):
    """The beta endpoints accept an Admin key: without the check, the Console organization's cost was
    written under the Enterprise organization's id, every check green."""
    monkeypatch.setenv("IDENTITY_WRONG_KIND_KEY", key_of(server, "acme-console"))
    warehouse = tmp_path / "w.duckdb"
    enterprise = org(server, "acme-enterprise", "enterprise", "IDENTITY_WRONG_KIND_KEY", analytics_beta=True)
    result = materialize([enterprise], warehouse, [["raw", "analytics_cost"]])
    assert not result.success
    text = failure_text(result)
    assert "configured as an Enterprise organization" in text and "is an Admin API key" in text
    assert "$IDENTITY_WRONG_KIND_KEY" in text and "Acme Corp" in text
    assert key_of(server, "acme-console")[20:40] not in text
    assert rows_of(warehouse, "raw.analytics_cost") == []


@pytest.mark.bad_input
def test_an_analytics_key_configured_for_a_console_organization_is_refused_before_any_data_request(
    server, monkeypatch
):
    monkeypatch.setenv("IDENTITY_ANALYTICS_AS_ADMIN_KEY", key_of(server, "acme-enterprise"))
    console = org(server, "acme-console", "console", "IDENTITY_ANALYTICS_AS_ADMIN_KEY")
    sent: list[str] = []
    api = ConsoleAdminApi()
    api._transport = httpx.HTTPTransport()
    with api.client(console) as client:
        client._http.event_hooks["request"].append(lambda r: sent.append(r.url.path))
        for _ in range(2):  # and again on the same client: the refusal holds, nothing else is sent
            with pytest.raises(Exception, match=r"\$IDENTITY_ANALYTICS_AS_ADMIN_KEY.*Admin API key"):
                client.get("/v1/organizations/usage_report/messages", {"starting_at": "x"}, stats=CallStats())
    assert sent == ["/v1/organizations/me"]


def test_the_simulator_refuses_me_to_an_analytics_key_as_documented(server):
    with httpx.Client(
        base_url=server.base_url, headers={"x-api-key": key_of(server, "acme-enterprise")}
    ) as c:
        resp = c.get("/v1/organizations/me")
    assert resp.status_code == 403 and resp.json()["error"]["type"] == "permission_error"


def test_me_is_asked_once_per_key_and_process(server, monkeypatch):
    monkeypatch.setenv("IDENTITY_ONCE_KEY", key_of(server, "globex-console"))
    globex = org(server, "globex-console", "console", "IDENTITY_ONCE_KEY")
    sent: list[str] = []
    api = ConsoleAdminApi()
    api._transport = httpx.HTTPTransport()
    stats = CallStats()
    for _ in range(3):
        with api.client(globex) as client:
            client._http.event_hooks["request"].append(lambda r: sent.append(r.url.path))
            client.get("/v1/organizations/users", {"limit": 1}, stats=stats)
            assert client.me(stats)["id"] == server.sim.world.by_slug("globex-console").uuid
    assert sent.count("/v1/organizations/me") <= 1  # another test of this process may have asked already
    assert sent.count("/v1/organizations/users") == 3


# -- the pin ----------------------------------------------------------------------------------------------
def test_each_form_of_the_organization_id_is_pinned_as_the_api_gives_it(server, tmp_path, monkeypatch):
    monkeypatch.setenv("IDENTITY_ENT_KEY", key_of(server, "acme-enterprise"))
    monkeypatch.setenv("IDENTITY_CONSOLE_KEY", key_of(server, "acme-console"))
    warehouse = tmp_path / "w.duckdb"
    enterprise = org(server, "acme-enterprise", "enterprise", "IDENTITY_ENT_KEY")
    console = org(server, "acme-console", "console", "IDENTITY_CONSOLE_KEY")
    assert materialize([enterprise], warehouse, [["raw", "enterprise_cost"]]).success
    assert materialize(
        [console], warehouse, [["raw", "claude_code_usage"], ["raw", "claude_code_model_usage"]]
    ).success
    world = server.sim.world
    assert pins(warehouse) == {
        ("acme-enterprise", "uuid", world.by_slug("acme-enterprise").uuid),
        ("acme-enterprise", "org_", world.by_slug("acme-enterprise").analytics_id),
        ("acme-console", "uuid", world.by_slug("acme-console").uuid),
    }


@pytest.mark.bad_input
def test_a_key_that_later_reaches_another_organization_fails_and_writes_nothing(
    server, tmp_path, monkeypatch
):
    monkeypatch.setenv("IDENTITY_MOVING_KEY", key_of(server, "acme-console"))
    warehouse = tmp_path / "w.duckdb"
    acme = org(server, "acme-console", "console", "IDENTITY_MOVING_KEY")
    assert materialize([acme], warehouse, [["raw", "console_cost"]]).success
    before = rows_of(warehouse, "raw.console_cost"), rows_of(warehouse, "raw.ingest_log")
    assert before[0]
    # the variable now holds another organization's key; the day after is asked (nothing of it is stored)
    monkeypatch.setenv("IDENTITY_MOVING_KEY", key_of(server, "globex-console"))
    later = materialize([acme], warehouse, [["raw", "console_cost"]], START - timedelta(days=1), END)
    assert not later.success
    text = failure_text(later)
    assert "pinned to " + server.sim.world.by_slug("acme-console").uuid in text
    assert server.sim.world.by_slug("globex-console").uuid in text and "$IDENTITY_MOVING_KEY" in text
    assert (rows_of(warehouse, "raw.console_cost"), rows_of(warehouse, "raw.ingest_log")) == before


@pytest.mark.bad_input
def test_two_configured_organizations_cannot_reach_the_same_api_organization(server, tmp_path, monkeypatch):
    monkeypatch.setenv("IDENTITY_TWIN_A_KEY", key_of(server, "acme-console"))
    monkeypatch.setenv("IDENTITY_TWIN_B_KEY", key_of(server, "acme-console"))
    warehouse = tmp_path / "w.duckdb"
    first = org(server, "acme-a", "console", "IDENTITY_TWIN_A_KEY")
    second = org(server, "acme-b", "console", "IDENTITY_TWIN_B_KEY")
    result = materialize([first, second], warehouse, [["raw", "console_cost"]])
    assert not result.success
    assert "which configured organization 'acme-a' already reaches" in failure_text(result)
    assert rows_of(warehouse, "raw.console_cost", "acme-b") == []


@pytest.mark.bad_input
def test_a_configured_api_organization_id_must_be_the_one_reached(server, tmp_path, monkeypatch):
    monkeypatch.setenv("IDENTITY_CONFIGURED_KEY", key_of(server, "acme-console"))
    warehouse = tmp_path / "w.duckdb"
    globex_id = server.sim.world.by_slug("globex-console").uuid
    wrong = org(server, "acme-console", "console", "IDENTITY_CONFIGURED_KEY", api_organization_id=globex_id)
    result = materialize([wrong], warehouse, [["raw", "console_cost"]])
    assert not result.success and f"api_organization_id {globex_id}" in failure_text(result)
    assert rows_of(warehouse, "raw.console_cost") == []
    acme_id = server.sim.world.by_slug("acme-console").uuid
    right = org(server, "acme-console", "console", "IDENTITY_CONFIGURED_KEY", api_organization_id=acme_id)
    assert materialize([right], warehouse, [["raw", "console_cost"]]).success


@pytest.mark.bad_input
def test_an_inventory_snapshot_checks_the_pin_inside_its_transaction(server, tmp_path, monkeypatch):
    monkeypatch.setenv("IDENTITY_INVENTORY_KEY", key_of(server, "acme-console"))
    warehouse = tmp_path / "w.duckdb"
    acme = org(server, "acme-console", "console", "IDENTITY_INVENTORY_KEY")
    assert materialize([acme], warehouse, [["raw", "console_cost"]]).success
    monkeypatch.setenv("IDENTITY_INVENTORY_KEY", key_of(server, "globex-console"))
    defs = build_definitions(ProjectConfig(organizations=(acme,)), str(warehouse))
    inventory = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "inventory"]
    result = dg.materialize(
        list(defs.assets),
        selection=inventory,
        resources=defs.resources,
        partition_key="acme-console",
        raise_on_error=False,
    )
    assert not result.success and "pinned to" in failure_text(result)
    assert rows_of(warehouse, "inventory.users") == []


# -- one client, one organization ----------------------------------------------------------------------------
@pytest.mark.bad_input
def test_one_key_answering_for_two_organizations_fails_the_request():
    answers = iter(["3f1c2b7a-1111-4e2b-9c3d-0a1b2c3d4e5f", "99999999-1111-4e2b-9c3d-0a1b2c3d4e5f"])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": []}, headers={"anthropic-organization-id": next(answers)})

    client = ApiClient(
        organization="o",
        base_url="https://api.test",
        key=Secret("sk-ant-admin01-" + "q" * 40),
        key_env="K",
        key_kind="admin",
        limiter=RateLimiter(1000),
        transport=httpx.MockTransport(handler),
    )
    with client:
        client.get("/v1/x", stats=CallStats())
        with pytest.raises(OrganizationMismatch, match="reached two organizations"):
            client.get("/v1/x", stats=CallStats())


def test_an_analytics_key_refused_by_me_with_401_or_403_is_judged_by_the_analytics_api():
    """The reference documents 403 for a scope failure; a 401 from the Admin API also only says the key is
    not an Admin key, so the Analytics request decides."""
    for status in (401, 403):
        sent: list[str] = []

        def handler(request: httpx.Request, status=status, sent=sent) -> httpx.Response:
            sent.append(request.url.path)
            if request.url.path == "/v1/organizations/me":
                return httpx.Response(status, json={"type": "error", "error": {"type": "x", "message": "no"}})
            return httpx.Response(200, json={"data": [], "next_page": None})

        client = ApiClient(
            organization="e",
            base_url="https://api.test",
            key=Secret(f"sk-ant-api01-{status}" + "r" * 40),
            key_env="E_KEY",
            key_kind="analytics",
            limiter=RateLimiter(1000),
            verify_organization=True,
            transport=httpx.MockTransport(handler),
        )
        with client:
            assert client.get("/v1/organizations/analytics/users", stats=CallStats())["data"] == []
        assert sent == ["/v1/organizations/me", "/v1/organizations/analytics/users"]

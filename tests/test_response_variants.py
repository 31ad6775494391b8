"""The client against each documented response variant alone (the simulator's ``shapes``: the docs' shape,
the SDK's, and their union): every variant lands the same rows, and those rows are the simulator's truth.

Where the reference lists several shapes (summaries envelope, per-user actor email, API key object,
engagement user record, auth header), a real server sends one of them; these tests make sure each is read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import pytest
from dagster_duckdb import DuckDBResource

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.ingest.enterprise_engagement import assets as ee_assets
from claude_assets.ingest.enterprise_engagement import tables as ee_tables
from claude_assets.ingest.enterprise_reports import assets as er_assets
from claude_assets.inventory import fetch
from claude_assets.inventory.assets import inventory_assets
from resources.apis import ConsoleAdminApi, EnterpriseAnalyticsApi
from resources.client import ApiClient, CallStats
from resources.errors import InvalidRequest
from resources.ratelimit import RateLimiter
from resources.secrets import Secret
from simulator.serve import Running, serve_in_thread
from simulator.shapes import SHAPES
from simulator.truth import truth
from tests.conftest import FIXED_NOW, make_sim

ENTERPRISE, CONSOLE = "acme-enterprise", "acme-console"
KEY_ENV = {ENTERPRISE: "TEST_VARIANTS_ANALYTICS_KEY", CONSOLE: "TEST_VARIANTS_ADMIN_KEY"}
START, END = date(2026, 8, 21), date(2026, 8, 25)  # a member is removed on 2026-08-23
#: columns of fields the SDK 2.12 adds to the docs' records (reference B1, B2): null when the docs' shape is served
SDK_ONLY_SUMMARY = tuple(
    c.name
    for c in ee_tables.ENTERPRISE_SUMMARY.columns
    if c.name.startswith(("claude_tag_", "chat_cowork_unified_"))
)
SDK_ONLY_USER = (
    "claude_tag_active_day_count",
    "claude_tag_active_message_count",
    "claude_code_artifacts_created_count",
    "cowork_artifacts_created_count",
)
LINEAGE = ("fetched_at",)


@pytest.fixture(scope="module", params=SHAPES)
def served(request, tmp_path_factory) -> Iterator[tuple[str, Running, dict[str, Path]]]:
    """One simulator per variant (strict about query parameters), and the warehouses the client filled."""
    shapes = request.param
    sim = make_sim(shapes=shapes)
    assert sim.strict_params  # every request the client sends must be documented
    with pytest.MonkeyPatch.context() as mp, serve_in_thread(sim) as server:
        for slug, env in KEY_ENV.items():
            mp.setenv(env, sim.world.by_slug(slug).api_key)
        base = tmp_path_factory.mktemp(f"variant-{shapes}")
        yield shapes, server, {"base": base}


def _org(server: Running, slug: str, kind: str) -> OrgConfig:
    return OrgConfig(
        slug=slug, kind=kind, key_env=KEY_ENV[slug], base_url=server.base_url, rate_limit_per_minute=100_000
    )


def _materialize(assets, resources: dict, selection, **kw) -> dg.ExecuteInProcessResult:
    result = dg.materialize(assets, selection=selection, resources=resources, raise_on_error=False, **kw)
    failures = [e.event_specific_data for e in result.all_events if e.is_failure]
    assert result.success, failures
    return result


def _range_tags(slug: str, start: date, end: date) -> dict:
    return {
        "dagster/asset_partition_range_start": f"{start}|{slug}",
        "dagster/asset_partition_range_end": f"{end - timedelta(days=1)}|{slug}",
    }


@contextlib.contextmanager
def _read(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _table(db: Path, schema_table: str, exclude: tuple[str, ...] = LINEAGE) -> list[dict]:
    with _read(db) as con:
        frame = con.execute(f"SELECT * EXCLUDE ({', '.join(exclude)}) FROM {schema_table} ORDER BY ALL").df()
    return [
        {k: (None if v != v else v) for k, v in r.items()} for r in frame.to_dict("records")
    ]  # NaN -> None


_landed: dict[tuple[str, str], list[dict]] = {}  # (area, shapes) -> rows, for the comparison across variants


def _same_as_other_variants(area: str, shapes: str, rows: list[dict], sdk_only: tuple[str, ...] = ()):
    """Rows of every variant are the same; the docs' shape has nulls where the SDK adds fields."""
    _landed[(area, shapes)] = rows
    for (other_area, other), seen in _landed.items():
        if other_area != area or other == shapes:
            continue
        strip = sdk_only if "docs" in (shapes, other) else ()
        assert [{k: v for k, v in r.items() if k not in strip} for r in rows] == [
            {k: v for k, v in r.items() if k not in strip} for r in seen
        ], f"{area}: the {shapes} variant landed other rows than the {other} one"


# -- B1 summaries envelope and B2 user record ------------------------------------------------------------
def test_engagement_rows_are_the_truth_in_every_variant(served):
    shapes, server, paths = served
    db = paths["base"] / "engagement-warehouse.duckdb"
    config = ProjectConfig(organizations=(_org(server, ENTERPRISE, "enterprise"),))
    _materialize(
        ee_assets.engagement_assets(config),
        {"analytics_api": EnterpriseAnalyticsApi(), "duckdb": DuckDBResource(database=str(db))},
        [ee_tables.ENTERPRISE_SUMMARY.asset_key, ee_tables.ENTERPRISE_USER_ACTIVITY.asset_key],
        tags=_range_tags(ENTERPRISE, START, END),
    )
    summary = _table(db, "raw.enterprise_summary")
    expected = truth(server.sim, ENTERPRISE, "enterprise_summaries", START, END)["days"]
    assert [r["usage_date"].date().isoformat() for r in summary] == [d["date"] for d in expected]
    for row, want in zip(summary, expected, strict=True):
        for field, value in want.items():
            if field in ("date", "starting_at", "ending_at"):
                continue
            assert row[field] == (None if shapes == "docs" and field in SDK_ONLY_SUMMARY else value), field
        assert row["extra"] is None
    _same_as_other_variants("summary", shapes, summary, SDK_ONLY_SUMMARY)

    users = _table(db, "raw.enterprise_user_activity")
    for want in truth(server.sim, ENTERPRISE, "enterprise_user_activity", START, END)["days"]:
        day = [r for r in users if r["usage_date"].date().isoformat() == want["date"]]
        assert len(day) == want["active_user_count"]
        assert sum(r["chat_message_count"] for r in day) == want["chat_message_count"]
    assert all(r["user_email"] and r["user_email"].endswith("@acme.example") for r in users)
    if shapes == "docs":
        assert all(r[c] is None for r in users for c in SDK_ONLY_USER)
    else:
        assert any(r["claude_code_artifacts_created_count"] is not None for r in users)
    _same_as_other_variants("user_activity", shapes, users, SDK_ONLY_USER)


# -- B8-B11: Claude Tag's product spelling; B10 / B11: the actor's email -------------------------------------
def test_usage_and_cost_reports_are_the_truth_in_every_variant(served):
    shapes, server, paths = served
    db = paths["base"] / "reports-warehouse.duckdb"
    start, end = date(2026, 11, 15), date(2026, 11, 18)
    config = ProjectConfig(organizations=(_org(server, ENTERPRISE, "enterprise"),))
    tables = ("enterprise_usage", "enterprise_cost", "enterprise_user_usage", "enterprise_user_cost")
    _materialize(
        er_assets.report_assets(config),
        {
            "analytics_api": EnterpriseAnalyticsApi(),
            "console_api": ConsoleAdminApi(),  # the analytics asset reads Console organizations too
            "duckdb": DuckDBResource(database=str(db)),
        },
        [dg.AssetKey(["raw", t]) for t in tables],
        tags=_range_tags(ENTERPRISE, start, end),
    )
    # Claude Tag is claude-tag (SDK) or claude-in-slack (docs) on the wire, claude-tag in the warehouse
    want = truth(server.sim, ENTERPRISE, "enterprise_cost", start, end)["days"]
    with _read(db) as con:
        by_product = con.execute(
            "SELECT usage_date, product, sum(amount_usd) FROM raw.enterprise_cost "
            "WHERE grouping = 'product_model' GROUP BY ALL"
        ).fetchall()
    assert {(r[0].isoformat(), r[1], r[2]) for r in by_product} == {
        (d["date"], p["product"], Decimal(p["amount_usd"])) for d in want for p in d["by_product"]
    }
    assert any(r[1] == "claude-tag" for r in by_product)
    for table in tables[:2]:
        _same_as_other_variants(table, shapes, _table(db, f"raw.{table}"))

    # the per-user reports' actor: email (docs) or email_address (SDK), the member's address either way
    org = server.sim.world.by_slug(ENTERPRISE)
    today = FIXED_NOW.date()
    emails = {u.id: (u.email if u.member_on(today) else None) for u in org.users}
    for table in tables[2:]:
        rows = _table(db, f"raw.{table}")
        assert rows, table
        assert {(r["user_id"], r["email"]) for r in rows} <= set(emails.items()), table
        assert any(r["email"] for r in rows), table
        assert any(r["product"] == "claude-tag" for r in rows), table
        assert all(r["extra"] is None for r in rows), table
        _same_as_other_variants(table, shapes, rows)


# -- A9 API key object ---------------------------------------------------------------------------------------
def test_api_keys_are_the_world_in_every_variant(served):
    shapes, server, paths = served
    db = paths["base"] / "inventory-warehouse.duckdb"
    config = ProjectConfig(organizations=(_org(server, CONSOLE, "console"),))
    _materialize(
        inventory_assets(config),
        {"console_api": ConsoleAdminApi(backoff_seconds=0.01), "duckdb": DuckDBResource(database=str(db))},
        None,
        partition_key=CONSOLE,
    )
    org = server.sim.world.by_slug(CONSOLE)
    today = FIXED_NOW.date()
    keys = _table(db, "inventory.api_keys", exclude=(*LINEAGE, "source_request"))
    got = {
        (
            r["api_key_id"],
            r["workspace_id"],
            r["scope_type"],
            r["scope_workspace_id"],
            r["created_by_id"],
            r["principal_type"],
            r["principal_id"],
            r["extra"],
        )
        for r in keys
    }
    assert got == {
        (
            k.id,
            None if k.workspace.is_default else k.workspace.id,
            "workspace",
            k.workspace.id,
            k.created_by,
            "user" if k.created_by else None,
            k.created_by,
            None,
        )
        for k in org.api_keys
        if k.created <= today
    }
    assert any(k.workspace.is_default for k in org.api_keys)  # the default workspace's keys are in the test
    _same_as_other_variants("api_keys", shapes, keys)


# -- strict mode: a misspelt parameter fails the client's tests ------------------------------------------------
class MisspellingTransport(httpx.HTTPTransport):
    """A client with a typo: every ``limit`` it sends goes out as ``limt``."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        params = [("limt" if k == "limit" else k, v) for k, v in request.url.params.multi_items()]
        request.url = request.url.copy_with(params=params)
        return super().handle_request(request)


@pytest.mark.bad_input
@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
def test_a_misspelt_parameter_fails_the_client_only_under_strict_mode(strict):
    sim = make_sim(strict_params=strict)
    with serve_in_thread(sim) as server:
        config = _org(server, CONSOLE, "console")
        with ApiClient(
            organization=CONSOLE,
            base_url=server.base_url,
            key=Secret(sim.world.by_slug(CONSOLE).api_key),
            key_env=KEY_ENV[CONSOLE],
            key_kind="admin",
            limiter=RateLimiter(1_000_000),
            transport=MisspellingTransport(),
        ) as client:
            if not strict:  # the typo goes unnoticed: the server ignores it and the read succeeds
                assert fetch.fetch_snapshot(client, config, CallStats()).frames
                return
            with pytest.raises(InvalidRequest) as refused:
                fetch.fetch_snapshot(client, config, CallStats())
    assert refused.value.status == 400 and refused.value.error_type == "invalid_request_error"
    assert "limt: unknown query parameter for GET /v1/organizations/" in str(refused.value)

"""Enterprise usage and cost raw assets against the simulator over loopback HTTP, into temporary DuckDB files.

Expected values come from the simulator's ground truth (``simulator.truth``), never from the code under test.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from checks import enterprise_reports as report_checks
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.ingest.enterprise_reports import api as er_api
from claude_assets.ingest.enterprise_reports import assets as er_assets
from claude_assets.ingest.enterprise_reports import bucketed as er_bucketed
from claude_assets.ingest.enterprise_reports import fetch as er_fetch
from claude_assets.ingest.enterprise_reports import groupings as er_groupings
from claude_assets.ingest.enterprise_reports import rows as er_rows
from claude_assets.ingest.enterprise_reports import tables as er_tables
from resources.apis import ConsoleAdminApi, EnterpriseAnalyticsApi
from simulator.faults import FaultPlan
from simulator.serve import Running, serve_in_thread
from simulator.truth import truth
from tests.conftest import make_sim

ORG = "acme-enterprise"
KEY_ENV = "CLAUDE_ASSETS_TEST_ENTERPRISE_REPORTS_KEY"
START, END = date(2026, 11, 8), date(2026, 11, 22)  # 14 days, end exclusive (the clock is 2026-11-22T12:00Z)
TABLES = (
    "enterprise_usage",
    "enterprise_cost",
    "enterprise_user_usage",
    "enterprise_user_cost",
    "analytics_usage",
    "analytics_cost",
)
D = Decimal


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    sim = make_sim()
    os.environ[KEY_ENV] = sim.world.by_slug(ORG).api_key
    with serve_in_thread(sim) as running:
        yield running


def config(server: Running, *orgs: tuple[str, bool], history_start: date | None = None) -> ProjectConfig:
    extra = {"history_start": history_start} if history_start else {}
    return ProjectConfig(
        organizations=tuple(
            OrgConfig(
                slug=slug,
                kind="enterprise",
                key_env=KEY_ENV,
                base_url=server.base_url,
                analytics_api=beta,
                rate_limit_per_minute=100_000,
                **extra,
            )  # the simulator's limit is lifted too
            for slug, beta in (orgs or ((ORG, True),))
        )
    )


def materialize(
    cfg: ProjectConfig,
    warehouse: Path,
    start: date,
    end: date,
    *,
    api: EnterpriseAnalyticsApi | None = None,
    select: tuple[str, ...] | None = None,
    slugs: list[str] | None = None,
) -> dg.ExecuteInProcessResult:
    slugs = slugs or [o.slug for o in cfg.organizations]
    assets = er_assets.report_assets(cfg)
    selection = [dg.AssetKey(["raw", t]) for t in select] if select else None
    return dg.materialize(
        assets,
        selection=selection,
        raise_on_error=False,
        resources={
            "analytics_api": api or EnterpriseAnalyticsApi(),
            "console_api": ConsoleAdminApi(),
            "duckdb": DuckDBResource(database=str(warehouse)),
        },
        tags={
            "dagster/asset_partition_range_start": f"{start}|{slugs[0]}",
            "dagster/asset_partition_range_end": f"{end - timedelta(days=1)}|{slugs[-1]}",
        },
    )


@contextlib.contextmanager
def connect(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(warehouse))
    try:
        yield con
    finally:
        con.close()


def checks_of(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(c.asset_key.path[-1], c.check_name): c for c in result.get_asset_check_evaluations()}


def metadata_of(result: dg.ExecuteInProcessResult, table: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(["raw", table]):
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"no materialization of raw.{table}")


def snapshot(warehouse: Path, exclude: tuple[str, ...] = ("fetched_at",)) -> dict[str, list[tuple]]:
    with connect(warehouse) as con:
        present = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchall()
        }
        return {
            t: con.execute(f"SELECT * EXCLUDE ({', '.join(exclude)}) FROM raw.{t} ORDER BY ALL").fetchall()
            for t in TABLES
            if t in present
        }


def per_day(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> dict[str, tuple]:
    return {r[0].isoformat(): tuple(r[1:]) for r in con.execute(sql, params or []).fetchall()}


@pytest.fixture(scope="module")
def pulled(server: Running, tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:
    warehouse = tmp_path_factory.mktemp("enterprise") / "warehouse.duckdb"
    result = materialize(config(server), warehouse, START, END)
    assert result.success, [e.event_specific_data for e in result.all_events if e.is_failure]
    return warehouse, result


def test_every_check_passes(pulled):
    _, result = pulled
    evaluations = checks_of(result)
    assert {t for t, _ in evaluations} == set(TABLES)
    assert ("enterprise_usage", "grouped_equals_total") in evaluations
    assert ("enterprise_user_cost", "user_cost_vs_org_cost") in evaluations
    assert [k for k, c in evaluations.items() if not c.passed] == []


def test_cost_totals_equal_the_truth_per_day(server, pulled):
    warehouse, result = pulled
    want = truth(server.sim, ORG, "enterprise_cost", START, END)
    with connect(warehouse) as con:
        for grouping in ("total", "product_model", "token_type", "claude_tag"):
            got = per_day(
                con,
                "SELECT usage_date, sum(amount_usd), sum(list_amount_usd) FROM raw.enterprise_cost "
                "WHERE grouping = ? GROUP BY 1",
                [grouping],
            )
            assert got == {d["date"]: (D(d["amount_usd"]), D(d["list_amount_usd"])) for d in want["days"]}, (
                grouping
            )
        by_product = con.execute(
            "SELECT usage_date, product, sum(amount_usd), sum(list_amount_usd) "
            "FROM raw.enterprise_cost WHERE grouping = 'product_model' GROUP BY ALL"
        ).fetchall()
        assert {(r[0].isoformat(), r[1], r[2], r[3]) for r in by_product} == {
            (d["date"], p["product"], D(p["amount_usd"]), D(p["list_amount_usd"]))
            for d in want["days"]
            for p in d["by_product"]
        }
        by_cost_type = con.execute(
            "SELECT usage_date, cost_type, sum(amount_usd) FROM raw.enterprise_cost "
            "WHERE grouping = 'token_type' GROUP BY ALL"
        ).fetchall()
        assert {(r[0].isoformat(), r[1], r[2]) for r in by_cost_type if r[2]} == {
            (d["date"], c["cost_type"], D(c["amount_usd"]))
            for d in want["days"]
            for c in d["by_cost_type"]
            if D(c["amount_usd"])
        }
        assert con.execute(
            "SELECT typeof(amount_usd), typeof(data_refreshed_at) FROM raw.enterprise_cost LIMIT 1"
        ).fetchone() == ("DECIMAL(38,12)", "TIMESTAMP WITH TIME ZONE")
        assert con.execute(
            "SELECT count(*) FROM raw.enterprise_cost WHERE data_refreshed_at IS NULL"
        ).fetchone() == (0,)
    meta = metadata_of(result, "enterprise_cost")
    assert D(meta["run_total_amount_usd_exact"]) == D(want["total"]["amount_usd"])
    assert D(meta["run_total_list_amount_usd_exact"]) == D(want["total"]["list_amount_usd"])


def test_usage_totals_equal_the_truth_per_day(server, pulled):
    warehouse, result = pulled
    want = truth(server.sim, ORG, "enterprise_usage", START, END)
    keys = (
        "uncached_input_tokens",
        "cache_creation.ephemeral_5m_input_tokens",
        "cache_creation.ephemeral_1h_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
        "web_search_requests",
        "requests",
    )
    expected = {d["date"]: tuple(d[k] for k in keys) for d in want["days"]}
    with connect(warehouse) as con:
        for grouping in ("total", "product_model", "claude_tag"):
            got = per_day(
                con,
                "SELECT usage_date, sum(uncached_input_tokens), sum(cache_creation_5m_input_tokens), "
                "sum(cache_creation_1h_input_tokens), sum(cache_read_input_tokens), sum(output_tokens), "
                "sum(web_search_requests), sum(requests) FROM raw.enterprise_usage WHERE grouping = ? "
                "GROUP BY 1",
                [grouping],
            )
            assert got == expected, grouping
    meta = metadata_of(result, "enterprise_usage")  # the ungrouped rows only: no grouping is counted twice
    assert meta["run_total_output_tokens"] == sum(d["output_tokens"] for d in want["days"])
    assert meta["run_total_requests"] == sum(d["requests"] for d in want["days"])
    with connect(warehouse) as con:
        assert con.execute("SELECT typeof(output_tokens) FROM raw.enterprise_usage LIMIT 1").fetchone() == (
            "BIGINT",
        )
        # every dimension the endpoint offers is populated by some grouping
        for dim in er_tables.LEGACY_DIMS:
            assert con.execute(
                f"SELECT count(*) FROM raw.enterprise_usage WHERE {dim} IS NOT NULL"
            ).fetchone()[0], dim


def test_no_kept_bucket_is_at_the_top_100_cap(pulled):
    warehouse, _ = pulled
    with connect(warehouse) as con:
        biggest = con.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM raw.enterprise_cost "
            "GROUP BY org_id, grouping, split_filter, starting_at)"
        ).fetchone()[0]
    assert biggest < er_api.TOP_GROUPS


def test_grouped_equals_ungrouped_check_catches_a_lost_row(pulled):
    warehouse, _ = pulled
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.enterprise_cost AS SELECT * FROM wh.raw.enterprise_cost")
        windows = {ORG: [(START, END)]}
        args = {
            "groupings": ["product_model", "token_type", "claude_tag"],
            "measures": ["amount_usd", "list_amount_usd"],
        }
        assert report_checks.grouped_equals_total(con, er_tables.ENTERPRISE_COST, windows, **args).passed
        con.execute(
            "DELETE FROM raw.enterprise_cost WHERE rowid = (SELECT min(rowid) FROM raw.enterprise_cost "
            "WHERE grouping = 'product_model' AND amount_usd > 0)"
        )
        failed = report_checks.grouped_equals_total(con, er_tables.ENTERPRISE_COST, windows, **args)
        assert not failed.passed and failed.metadata["mismatches"].value == 1
    finally:
        con.close()


def test_per_user_cost_is_below_the_org_total_and_the_gap_is_reported(server, pulled):
    warehouse, result = pulled
    want = truth(server.sim, ORG, "enterprise_user_cost", START, END)
    with connect(warehouse) as con:
        got = per_day(
            con,
            "SELECT usage_date, sum(amount_usd), sum(list_amount_usd) FROM raw.enterprise_user_cost "
            "GROUP BY 1",
        )
        users = con.execute(
            "SELECT user_id, sum(amount_usd), sum(list_amount_usd) FROM raw.enterprise_user_cost GROUP BY 1"
        ).fetchall()
    assert got == {d["date"]: (D(d["users_amount_usd"]), D(d["users_list_amount_usd"])) for d in want["days"]}
    assert {u: (a, lst) for u, a, lst in users} == {
        u["user_id"]: (D(u["amount_usd"]), D(u["list_amount_usd"])) for u in want["users"]
    }
    assert all(D(d["users_amount_usd"]) < D(d["org_amount_usd"]) for d in want["days"])
    check = checks_of(result)[("enterprise_user_cost", "user_cost_vs_org_cost")]
    assert check.passed and check.severity == dg.AssetCheckSeverity.WARN
    gap = sum(D(d["non_user_amount_usd"]) for d in want["days"])
    assert gap > 0 and D(check.metadata["gap_amount_usd"].value) == gap
    assert check.metadata["days_compared"].value == (END - START).days


def test_per_user_usage_equals_the_truth(server, pulled):
    warehouse, _ = pulled
    want = truth(server.sim, ORG, "enterprise_usage", START, END)
    with connect(warehouse) as con:
        got = con.execute(
            "SELECT sum(total_tokens), sum(uncached_input_tokens + cache_creation_5m_input_tokens + "
            "cache_creation_1h_input_tokens + cache_read_input_tokens + output_tokens) "
            "FROM raw.enterprise_user_usage"
        ).fetchone()
        products = {
            r[0] for r in con.execute("SELECT DISTINCT product FROM raw.enterprise_user_usage").fetchall()
        }
    assert got[0] == got[1] and 0 < got[0] < sum(d["total_tokens"] for d in want["days"])  # seat users only
    assert products <= {
        "chat",
        "claude_code",
        "cowork",
        "office_agent",
        "claude_in_chrome",
        "claude_design",
        "claude-tag",
    }


def test_deleted_users_are_kept_without_email(server, tmp_path):
    start, end = date(2026, 8, 20), date(2026, 8, 27)  # two members leave on 2026-08-23 and 2026-08-27
    warehouse = tmp_path / "w.duckdb"
    result = materialize(
        config(server), warehouse, start, end, select=("enterprise_user_usage", "enterprise_user_cost")
    )
    assert result.success
    want = truth(server.sim, ORG, "enterprise_user_cost", start, end)
    org = server.sim.world.by_slug(ORG)
    gone = {u.id for u in org.users if u.removed and u.removed <= date(2026, 11, 22)}
    with connect(warehouse) as con:
        deleted = con.execute(
            "SELECT DISTINCT user_id, email, user_name FROM raw.enterprise_user_cost WHERE user_deleted"
        ).fetchall()
        amounts = dict(
            con.execute("SELECT user_id, sum(amount_usd) FROM raw.enterprise_user_cost GROUP BY 1").fetchall()
        )
        usage_deleted = con.execute(
            "SELECT count(*) FROM raw.enterprise_user_usage WHERE user_deleted AND email IS NULL"
        ).fetchone()[0]
        live_emails = con.execute(
            "SELECT count(*) FROM raw.enterprise_user_usage WHERE NOT user_deleted AND email IS NULL"
        ).fetchone()[0]
    assert deleted and {u for u, _, _ in deleted} <= gone
    assert all(email is None and name == "Deleted User" for _, email, name in deleted)
    assert usage_deleted > 0 and live_emails == 0
    assert amounts == {u["user_id"]: D(u["amount_usd"]) for u in want["users"]}


def test_rerun_leaves_identical_tables(server, pulled, tmp_path):
    warehouse, _ = pulled
    before = snapshot(warehouse)
    again = materialize(config(server), warehouse, START, END)
    assert again.success
    assert snapshot(warehouse) == before


def test_faults_give_identical_tables(server, pulled, tmp_path):
    warehouse, _ = pulled
    faulty = tmp_path / "faulty.duckdb"
    server.sim.faults = FaultPlan.parse(
        "429=0.05,500=0.03,timeout=0.01,garbage=0.01,410=0.02", seed=158, timeout_seconds=2
    )
    try:
        result = materialize(
            config(server),
            faulty,
            START,
            END,
            api=EnterpriseAnalyticsApi(timeout_seconds=1, backoff_seconds=0),
        )
    finally:
        server.sim.faults = FaultPlan()
    assert result.success
    # seed 158: 500s, garbage, 429s and timeouts on both assets (the runs' retries, not counted twice)
    assert sum(metadata_of(result, t)["run_retries"] for t in ("enterprise_cost", "analytics_cost")) >= 4
    assert snapshot(faulty) == snapshot(warehouse)


def test_partitions_before_2026_call_nothing(server, tmp_path):
    cfg = config(server, history_start=date(2025, 12, 1))
    warehouse = tmp_path / "w.duckdb"
    result = materialize(cfg, warehouse, date(2025, 12, 20), date(2026, 1, 1))
    assert result.success
    for table in TABLES:
        meta = metadata_of(result, table)
        assert meta["run_requests"] == 0
        assert meta["run_skipped_days"] == {er_fetch.first_available_day()[1]: {ORG: 12}}
    assert all(c.passed for c in result.get_asset_check_evaluations())
    # a range across the floor: only 2026 is asked for
    result = materialize(cfg, warehouse, date(2025, 12, 30), date(2026, 1, 3), select=("enterprise_cost",))
    assert result.success
    with connect(warehouse) as con:
        days = [
            r[0]
            for r in con.execute("SELECT DISTINCT usage_date FROM raw.enterprise_cost ORDER BY 1").fetchall()
        ]
        asked = con.execute("SELECT min(source_request) FROM raw.enterprise_cost").fetchone()[0]
    assert days == [date(2026, 1, 1), date(2026, 1, 2)]
    assert "starting_at=2026-01-01T00" in asked


def test_the_analytics_api_is_not_read_where_it_is_turned_off(server, tmp_path):
    cfg = config(server, (ORG, True), ("unflagged-enterprise", False))
    beta = next(a for a in er_assets.report_assets(cfg) if dg.AssetKey(["raw", "analytics_cost"]) in a.keys)
    orgs = next(d.partitions_def for d in beta.partitions_def.partitions_defs if d.name == "org")
    assert orgs.get_partition_keys() == [ORG]  # an organization with analytics_api: false has no partition
    warehouse = tmp_path / "w.duckdb"
    start, end = date(2026, 11, 18), date(2026, 11, 21)
    select = ("analytics_usage", "analytics_cost")
    result = materialize(cfg, warehouse, start, end, select=select, slugs=[ORG])
    assert result.success
    want = truth(server.sim, ORG, "enterprise_cost", start, end)
    with connect(warehouse) as con:
        orgs = {r[0] for r in con.execute("SELECT DISTINCT org_id FROM raw.analytics_cost").fetchall()}
        got = per_day(
            con,
            "SELECT usage_date, sum(amount_usd), sum(list_amount_usd) FROM raw.analytics_cost "
            "WHERE grouping = 'billing' GROUP BY 1",
        )
        actors = con.execute(
            "SELECT count(DISTINCT actor_id), count(*) FILTER (WHERE actor_id IS NULL) "
            "FROM raw.analytics_usage WHERE grouping = 'actor'"
        ).fetchone()
    assert orgs == {ORG}
    assert got == {d["date"]: (D(d["amount_usd"]), D(d["list_amount_usd"])) for d in want["days"]}
    assert actors[0] > 10 and actors[1] > 0  # per-user detail, plus usage no seat user is accountable for


def test_a_revision_changes_only_days_inside_the_revision_window(tmp_path, monkeypatch):
    sim = make_sim()
    monkeypatch.setenv(KEY_ENV, sim.world.by_slug(ORG).api_key)
    start, end = date(2026, 10, 19), date(2026, 11, 22)
    tables = ("enterprise_cost", "enterprise_user_cost")
    warehouse = tmp_path / "w.duckdb"
    with serve_in_thread(sim) as running:
        cfg = config(running)
        assert materialize(cfg, warehouse, start, end, select=tables).success
        before = snapshot(warehouse, exclude=("fetched_at", "data_refreshed_at"))
        sim.clock.advance(8 * 3600)  # 12:00 -> 20:00: two exports later
        assert materialize(cfg, warehouse, start, end, select=tables).success
        after = snapshot(warehouse, exclude=("fetched_at", "data_refreshed_at"))
        want = truth(sim, ORG, "enterprise_cost", start, end)
        users = truth(sim, ORG, "enterprise_user_cost", start, end)
    settled = date(2026, 11, 22) - timedelta(days=sim.revision_days + 1)  # the last day no export can change
    for table in tables:
        changed = {r[1] for r in set(before[table]) ^ set(after[table])}  # column 1 is usage_date
        assert changed, table
        assert min(changed) > settled, table
    with connect(warehouse) as con:
        refreshed = con.execute("SELECT DISTINCT data_refreshed_at FROM raw.enterprise_cost").fetchall()
        got = per_day(
            con,
            "SELECT usage_date, sum(amount_usd), sum(list_amount_usd) FROM raw.enterprise_cost "
            "WHERE grouping = 'total' GROUP BY 1",
        )
        got_users = per_day(
            con, "SELECT usage_date, sum(amount_usd) FROM raw.enterprise_user_cost GROUP BY 1"
        )
    assert [r[0].isoformat() for r in refreshed] == ["2026-11-22T20:00:00+00:00"]
    assert got == {d["date"]: (D(d["amount_usd"]), D(d["list_amount_usd"])) for d in want["days"]}
    assert got_users == {d["date"]: (D(d["users_amount_usd"]),) for d in users["days"]}


# -- pure functions ------------------------------------------------------------------------------------------------
def test_actor_email_from_either_field_and_none_for_deleted_users():
    assert (
        er_rows.user(
            {"type": "user_actor", "user_id": "user_1", "email": "a@x.example", "name": "A", "deleted": False}
        )["email"]
        == "a@x.example"
    )
    assert (
        er_rows.user(
            {
                "type": "user_actor",
                "user_id": "user_1",
                "email_address": "a@x.example",
                "name": "A",
                "deleted": False,
            }
        )["email"]
        == "a@x.example"
    )
    gone = er_rows.user(
        {
            "type": "user_actor",
            "user_id": "user_2",
            "email": "old@x.example",
            "name": "Deleted User",
            "deleted": True,
        }
    )
    assert gone["email"] is None and gone["user_deleted"] is True and gone["user_id"] == "user_2"
    assert er_rows.v2_actor({"type": "api_actor", "api_key_id": "apikey_1"})["actor_id"] == "apikey_1"
    assert (
        er_rows.v2_actor(
            {
                "type": "user_actor",
                "user_id": "user_3",
                "email_address": "b@x.example",
                "name": "B",
                "deleted": False,
            }
        )["actor_email"]
        == "b@x.example"
    )


def test_unknown_fields_are_kept_in_extra_and_money_is_exact():
    org = OrgConfig(slug="e", kind="enterprise", key_env="K")
    page = {
        "data": [],
        "data_refreshed_at": "2026-03-04T08:00:00Z",
        "organization_id": "org_1",
        "new_flag": 1,
    }
    bucket = {"starting_at": "2026-03-02T00:00:00Z", "ending_at": "2026-03-03T00:00:00Z", "results": []}
    result = {
        "currency": "USD",
        "amount": "41280.000001",
        "list_amount": "51600.000000",
        "requests": None,
        "product": "chat",
        "cost_type": "tokens",
        "token_type": "output_tokens",
        "brand_new": {"x": 1},
    }
    row = er_rows.bucket_row(
        org,
        er_groupings.TOKEN_TYPE,
        er_rows.Kept(bucket, result, page, None, "GET /x"),
        "2026-03-04T09:00:00Z",
        cost=True,
    )
    assert row["amount_usd"] == "412.80000001" and row["list_amount_usd"] == "516.00000000"
    assert row["data_refreshed_at"] == "2026-03-04T08:00:00Z" and row["anthropic_organization_id"] == "org_1"
    assert json_of(row["extra"]) == {"brand_new": {"x": 1}, "envelope": {"new_flag": 1}}
    usage = {
        "uncached_input_tokens": 5,
        "output_tokens": 6,
        "cache_read_input_tokens": 7,
        "requests": 2,
        "cache_creation": {
            "ephemeral_1h_input_tokens": 1,
            "ephemeral_5m_input_tokens": 2,
            "ephemeral_24h": 3,
        },
        "server_tool_use": {"web_search_requests": 4},
    }
    row = er_rows.bucket_row(
        org, er_groupings.TOTAL, er_rows.Kept(bucket, usage, page, None, "GET /x"), "t", cost=False
    )
    assert (
        row["cache_creation_5m_input_tokens"],
        row["cache_creation_1h_input_tokens"],
        row["web_search_requests"],
    ) == (2, 1, 4)
    assert json_of(row["extra"]) == {"cache_creation": {"ephemeral_24h": 3}, "envelope": {"new_flag": 1}}


def test_the_first_available_day_follows_the_floor_then_the_lookback():
    from datetime import UTC, datetime

    assert er_fetch.first_available_day(datetime(2026, 11, 22, 12, tzinfo=UTC))[0] == date(2026, 1, 1)
    day, reason = er_fetch.first_available_day(datetime(2027, 6, 15, 12, tzinfo=UTC))
    assert day == date(2026, 6, 16) and "365-day lookback" in reason


def json_of(text: str | None):
    import json

    return json.loads(text) if text else None


class FakeReports:
    """A bucketed report with chosen groups per bucket, to exercise the top-100 refinement (the demo never hits it).

    ``records``: (day, hour, geo, group, cents). Grouped results are ranked by amount and cut at 100 per bucket.
    """

    def __init__(self, records, refreshes=None):
        self.records, self.calls = records, []
        self.refreshes = list(refreshes or [])

    def pages(self, path, params, *, stats, headers=None):
        self.calls.append(params)
        refreshed = (
            self.refreshes.pop(0)
            if len(self.refreshes) > 1
            else (self.refreshes or ["2026-11-22T12:00:00Z"])[0]
        )
        start, end = (
            date.fromisoformat(params["starting_at"][:10]),
            date.fromisoformat(params["ending_at"][:10]),
        )
        hourly, geo = params["bucket_width"] == "1h", (params.get("inference_geos[]") or [None])[0]
        grouped = bool(params.get("group_by[]"))
        buckets, day = [], start
        while day < end:
            for hour in range(24) if hourly else [None]:
                sums = {}
                for d, h, g, key, cents in self.records:
                    if d == day and (hour is None or h == hour) and (geo is None or g == geo):
                        k = key if grouped else None
                        sums[k] = sums.get(k, 0) + cents
                rows = sorted(sums.items(), key=lambda kv: -kv[1])
                rows = rows[: er_api.TOP_GROUPS] if grouped else rows
                t0 = f"{day}T{hour or 0:02d}:00:00Z"
                t1 = (
                    f"{day}T{hour + 1:02d}:00:00Z"
                    if hourly and hour < 23
                    else f"{day + timedelta(days=1)}T00:00:00Z"
                )
                buckets.append(
                    {
                        "starting_at": t0,
                        "ending_at": t1,
                        "results": [
                            {
                                "currency": "USD",
                                "amount": f"{c}.000000",
                                "list_amount": f"{c}.000000",
                                "requests": 1,
                                "product": k,
                                "cost_type": None,
                                "token_type": None,
                            }
                            for k, c in rows
                        ],
                    }
                )
            day += timedelta(days=1)
        return [{"data": buckets, "has_more": False, "next_page": None, "data_refreshed_at": refreshed}]

    def iter_pages(self, path, params, *, stats, restart, headers=None):
        yield from self.pages(path, params, stats=stats, headers=headers)


def _fake_records():
    d1, d2, d3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
    geos = ("global", "us", "not_available")
    records = [(d1, i % 24, geos[i % 3], f"g{i}", 100 + i) for i in range(150)]  # 150 groups, 50 per geo
    records += [(d2, 3, "global", f"g{i}", 7) for i in range(20)]  # comes whole
    records += [
        (d3, i % 24, "us", f"u{i}", 5 + i) for i in range(130)
    ]  # 130 groups in one geo, <= 6 per hour
    records += [(d3, 1, "global", "x", 9)]
    return records


def test_buckets_at_the_top_100_cap_are_split_by_geo_then_by_hour():
    fake = FakeReports(_fake_records())
    plan = er_bucketed.PlanLog()
    part = er_bucketed.bucketed_part(
        er_tables.ENTERPRISE_COST,
        "cost_report",
        (er_groupings.TOTAL, er_groupings.Grouping("g", ("product",))),
    )
    org = OrgConfig(slug="e", kind="enterprise", key_env="K")
    refreshes = set()
    frames, days, requests = part(fake, org, date(2026, 3, 1), date(2026, 3, 4), None, refreshes, plan)
    frame = frames[er_tables.ENTERPRISE_COST]
    steps = [
        (
            c["bucket_width"],
            (c.get("inference_geos[]") or [None])[0],
            c["starting_at"][:10],
            bool(c.get("group_by[]")),
        )
        for c in fake.calls
    ]
    assert steps == [
        ("1d", None, "2026-03-01", False),  # total
        ("1d", None, "2026-03-01", True),  # grouped: days 1 and 3 are at the cap
        ("1d", "global", "2026-03-01", True),  # days 1..3 in one request, day 2 ignored
        ("1d", "us", "2026-03-01", True),
        ("1h", "us", "2026-03-03", True),  # still 130 groups in us on day 3: per hour
        ("1d", "not_available", "2026-03-01", True),
    ]
    assert days == {date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)} and len(requests) == len(fake.calls)
    grouped = frame[frame.grouping == "g"]
    totals = frame[frame.grouping == "total"].set_index("usage_date").amount_usd.map(D)
    assert (
        grouped.groupby("usage_date").amount_usd.apply(lambda s: sum(map(D, s))).to_dict() == totals.to_dict()
    )
    assert set(grouped[grouped.usage_date == "2026-03-02"].split_filter.isna()) == {True}
    assert set(grouped[grouped.usage_date == "2026-03-01"].split_filter) == {
        "inference_geos[]=global",
        "inference_geos[]=us",
        "inference_geos[]=not_available",
    }
    hourly = grouped[(grouped.usage_date == "2026-03-03") & (grouped.split_filter == "inference_geos[]=us")]
    assert len(hourly) == 130 and hourly.starting_at.str[11:13].nunique() == 24
    assert "cost_report g daily: buckets at the top-100 cap: 2" in plan.markdown()


def test_a_refresh_between_groupings_pulls_the_report_again():
    fake = FakeReports(
        [(date(2026, 3, 2), 3, "global", "a", 5)],
        refreshes=["2026-11-22T08:00:00Z", "2026-11-22T12:00:00Z", "2026-11-22T12:00:00Z"],
    )
    plan = er_bucketed.PlanLog()
    part = er_bucketed.bucketed_part(
        er_tables.ENTERPRISE_COST,
        "cost_report",
        (er_groupings.TOTAL, er_groupings.Grouping("g", ("product",))),
    )
    frames, _, _ = part(
        fake,
        OrgConfig(slug="e", kind="enterprise", key_env="K"),
        date(2026, 3, 2),
        date(2026, 3, 3),
        None,
        set(),
        plan,
    )
    assert len(fake.calls) == 4
    assert set(frames[er_tables.ENTERPRISE_COST].data_refreshed_at) == {"2026-11-22T12:00:00Z"}
    assert "pulled again" in plan.markdown()


class RestartingReports(FakeReports):
    """Every query's cursor expires once after its first page: the client calls ``restart`` and starts over."""

    def iter_pages(self, path, params, *, stats, restart, headers=None):
        pages = self.pages(path, params, stats=stats, headers=headers)
        yield pages[0]
        restart()
        yield from pages


def test_a_restarted_query_keeps_nothing_from_its_first_pass():
    def pull(client):
        part = er_bucketed.bucketed_part(
            er_tables.ENTERPRISE_COST,
            "cost_report",
            (er_groupings.TOTAL, er_groupings.Grouping("g", ("product",))),
        )
        org = OrgConfig(slug="e", kind="enterprise", key_env="K")
        frames, days, _ = part(
            client, org, date(2026, 3, 1), date(2026, 3, 4), None, set(), er_bucketed.PlanLog()
        )
        frame = frames[er_tables.ENTERPRISE_COST].drop(columns=["fetched_at"])
        return sorted(map(tuple, frame.astype(str).values.tolist())), days

    restarted, clean = RestartingReports(_fake_records()), FakeReports(_fake_records())
    assert pull(restarted) == pull(clean)
    assert len(restarted.calls) == len(clean.calls) == 6  # the refinement steps are the same too

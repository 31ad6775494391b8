"""A day is complete only when the API says so: what a daily schedule does at 00:20 UTC for yesterday.

Each source family is pulled from the simulator with its clock pinned: a day its source has not finished
(by the API's clock, ``data_refreshed_at`` and the documented delays) is logged provisional with the
instant a new pull gives it as final; pulled again after that instant it is final and equals the
simulator's ground truth; a day the API's clock has not ended fails the run and nothing is written.
Expected values come from the simulator's ground truth, never from the code under test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from simulator.serve import Running, serve_in_thread
from simulator.truth import truth
from tests.conftest import make_sim

CONSOLE, ENTERPRISE = "acme-console", "acme-enterprise"
DAY = date(2026, 11, 21)
AT_0020 = datetime(2026, 11, 22, 0, 20, tzinfo=UTC)  # a daily schedule's run for yesterday
MIDNIGHT = datetime(2026, 11, 22, tzinfo=UTC)
D = Decimal

CLAUDE_CODE = ("claude_code_usage", "claude_code_model_usage")
LEGACY = ("enterprise_usage", "enterprise_cost", "enterprise_user_usage", "enterprise_user_cost")
BETA = ("analytics_usage", "analytics_cost")
#: family -> (organization, tables)
FAMILIES = {
    "console_usage": (CONSOLE, ("console_usage",)),
    "console_cost": (CONSOLE, ("console_cost",)),
    "claude_code": (CONSOLE, CLAUDE_CODE),
    "enterprise_reports": (ENTERPRISE, LEGACY),
    "beta_reports": (ENTERPRISE, BETA),
}


def key_env(slug: str) -> str:
    return f"PROVISIONAL_{slug.upper().replace('-', '_')}_KEY"


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    sim = make_sim(now=AT_0020)
    for slug in (CONSOLE, ENTERPRISE):
        os.environ[key_env(slug)] = sim.world.by_slug(slug).api_key
    with serve_in_thread(sim) as running:
        yield running


def config(server: Running) -> ProjectConfig:
    return ProjectConfig(
        organizations=(
            OrgConfig(
                slug=CONSOLE,
                kind="console",
                key_env=key_env(CONSOLE),
                base_url=server.base_url,
                rate_limit_per_minute=100_000,
            ),
            OrgConfig(
                slug=ENTERPRISE,
                kind="enterprise",
                key_env=key_env(ENTERPRISE),
                base_url=server.base_url,
                rate_limit_per_minute=100_000,
                analytics_beta=True,
            ),
        )
    )


def pull(server: Running, warehouse: Path, family: str, start: date, end: date) -> dg.ExecuteInProcessResult:
    """One run of a family's assets over ``[start, end)`` for its organization, at the simulator's clock."""
    org, tables = FAMILIES[family]
    defs = build_definitions(config(server), str(warehouse))
    return dg.materialize(
        list(defs.assets),
        selection=[dg.AssetKey(["raw", t]) for t in tables],
        resources=defs.resources,
        tags={
            "dagster/asset_partition_range_start": f"{start}|{org}",
            "dagster/asset_partition_range_end": f"{end - timedelta(days=1)}|{org}",
        },
        raise_on_error=False,
    )


def logged(warehouse: Path, table: str) -> dict[date, tuple]:
    """``raw.ingest_log`` of a table: day -> (provisional, final_after, api_time, data_refreshed_at)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT usage_date, provisional, final_after, api_time, data_refreshed_at FROM raw.ingest_log "
            "WHERE table_name = ? ORDER BY usage_date",
            [f"raw.{table}"],
        ).fetchall()
    return {r[0]: tuple(None if v is None else _utc(v) for v in r[1:]) for r in rows}


def _utc(v):
    return v.astimezone(UTC) if isinstance(v, datetime) else v


def totals(warehouse: Path, family: str) -> dict:
    """The day's figures as stored, in the shape of the simulator's truth for that family."""
    q = {
        "console_usage": "SELECT sum(output_tokens), sum(uncached_input_tokens) FROM raw.console_usage",
        "console_cost": "SELECT sum(amount_usd) FROM raw.console_cost",
        "claude_code": "SELECT count(*), sum(num_sessions), (SELECT sum(estimated_cost_usd) "
        "FROM raw.claude_code_model_usage) FROM raw.claude_code_usage",
        "enterprise_reports": "SELECT sum(amount_usd), sum(list_amount_usd) FROM raw.enterprise_cost "
        "WHERE grouping = 'total'",
        "beta_reports": "SELECT sum(amount_usd), sum(list_amount_usd) FROM raw.analytics_cost WHERE grouping = 'total'",
    }[family]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(q).fetchone()


def truth_of(server: Running, family: str) -> tuple:
    """The simulator's ground truth of the day, as the API would give it at the simulator's clock."""
    sim, end = server.sim, DAY + timedelta(days=1)
    if family == "console_usage":
        t = truth(sim, CONSOLE, "console_usage", DAY, end)["days"][DAY.isoformat()]["totals"]
        return (t["output_tokens"], t["uncached_input_tokens"])
    if family == "console_cost":
        return (D(truth(sim, CONSOLE, "console_cost", DAY, end)["days"][DAY.isoformat()]["amount_usd"]),)
    if family == "claude_code":
        t = truth(sim, CONSOLE, "claude_code", DAY, end)["days"][DAY.isoformat()]
        return (t["rows"], t["sessions"], D(t["estimated_cost_usd"]))
    t = truth(sim, ENTERPRISE, "enterprise_cost", DAY, end)["days"][0]
    return (D(t["amount_usd"]), D(t["list_amount_usd"]))


def partition_metadata(result: dg.ExecuteInProcessResult, table: str) -> dict[str, dict]:
    return {
        str(e.partition): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["raw", table])
    }


def step_failure(result: dg.ExecuteInProcessResult) -> str:
    return " ".join(str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure)


@pytest.fixture
def at(server: Running):
    """Set the simulator's clock (the API's Date header follows it); restored to 00:20 afterwards."""
    yield lambda now: server.sim.clock.set(now=now)
    server.sim.clock.set(now=AT_0020)


# -- a partial day at 00:20 is provisional, then final once its source has finished it -----------------------
#: family -> (provisional at 00:20, final_after, data_refreshed_at at 00:20)
AT_0020_EXPECTED = {
    # the usage report holds a request within 5 minutes; the cost report serves completed days only
    "console_usage": (False, None, None),
    "console_cost": (False, None, None),
    # "only data older than 1 hour is included": the last 40 minutes of the day are missing
    "claude_code": (True, MIDNIGHT + timedelta(hours=1), None),
    # "usually within 4 h, up to 24 h": the 00:00 export lacks what arrives later
    "enterprise_reports": (True, MIDNIGHT + timedelta(hours=24), MIDNIGHT),
    "beta_reports": (True, MIDNIGHT + timedelta(hours=24), MIDNIGHT),
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_day_pulled_at_0020_is_provisional_until_its_source_has_finished_it(server, at, tmp_path, family):
    warehouse = tmp_path / "w.duckdb"
    at(AT_0020)
    result = pull(server, warehouse, family, DAY, DAY + timedelta(days=1))
    assert result.success, step_failure(result)
    provisional, final_after, refreshed = AT_0020_EXPECTED[family]
    org, tables = FAMILIES[family]
    for table in tables:
        assert logged(warehouse, table) == {DAY: (provisional, final_after, AT_0020, refreshed)}, table
        meta = partition_metadata(result, table)[f"{DAY}|{org}"]
        assert meta["provisional"] is provisional
        assert meta["provisional_days"] == ([DAY.isoformat()] if provisional else [])
    stored = totals(warehouse, family)
    if provisional:  # what it held at 00:20 is less than the day's final figures
        at(AT_0020_EXPECTED[family][1])
        final = truth_of(server, family)
        assert stored[-1] < final[-1]  # money (the last figure) is short
    else:
        assert stored == truth_of(server, family)


@pytest.mark.parametrize("family", ["claude_code", "enterprise_reports", "beta_reports"])
def test_the_day_pulled_again_after_final_after_is_final_and_equals_the_truth(server, at, tmp_path, family):
    warehouse = tmp_path / "w.duckdb"
    org, tables = FAMILIES[family]
    at(AT_0020)
    assert pull(server, warehouse, family, DAY, DAY + timedelta(days=1)).success
    final_after = logged(warehouse, tables[0])[DAY][1]
    early = final_after - timedelta(minutes=1)
    at(early)  # a minute before final_after the source has still not finished it
    assert pull(server, warehouse, family, DAY, DAY + timedelta(days=1)).success
    assert logged(warehouse, tables[0])[DAY][0] is True
    at(final_after)
    result = pull(server, warehouse, family, DAY, DAY + timedelta(days=1))
    assert result.success, step_failure(result)
    for table in tables:
        provisional, after, api_time, _ = logged(warehouse, table)[DAY]
        assert (provisional, after, api_time) == (False, None, final_after), table
        assert partition_metadata(result, table)[f"{DAY}|{org}"]["provisional"] is False
    assert totals(warehouse, family) == truth_of(server, family)


# -- a day the API's clock has not ended -------------------------------------------------------------------
@pytest.mark.bad_input
@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_day_the_api_clock_has_not_ended_fails_naming_it_and_writes_nothing(server, at, tmp_path, family):
    warehouse = tmp_path / "w.duckdb"
    at(AT_0020)
    today = AT_0020.date()
    # yesterday and today in one run: yesterday could be pulled, but the run asks for a day not over
    result = pull(server, warehouse, family, DAY, today + timedelta(days=1))
    assert not result.success
    message = step_failure(result)
    org, tables = FAMILIES[family]
    assert f"'{org}' asked for {today}" in message and "has not ended by the API's clock" in message
    assert "2026-11-22T00:20:00+00:00" in message and f"materialize up to {DAY} now" in message
    assert "GET /v1/organizations/" in message  # the source
    assert not warehouse.exists() or _tables(warehouse) & {"ingest_log", *tables} == set()


@pytest.mark.bad_input
def test_a_day_the_api_clock_has_not_begun_fails_the_same_way(server, at, tmp_path):
    """The cost report answers a range of days not over with a 400: it is explained by the API's clock."""
    warehouse = tmp_path / "w.duckdb"
    at(AT_0020)
    tomorrow = AT_0020.date() + timedelta(days=1)
    for family in ("console_cost", "enterprise_reports"):
        result = pull(server, warehouse, family, tomorrow, tomorrow + timedelta(days=1))
        assert not result.success
        message = step_failure(result)
        assert f"asked for {tomorrow}, which has not ended by the API's clock" in message, family
    assert not warehouse.exists() or "ingest_log" not in _tables(warehouse)


def _tables(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_console_usage_pulled_within_its_five_minute_delay_is_provisional(server, at, tmp_path):
    """The usage report lags about 5 minutes: at 00:02 the day's last minutes are missing."""
    warehouse = tmp_path / "w.duckdb"
    at(MIDNIGHT + timedelta(minutes=2))
    assert pull(server, warehouse, "console_usage", DAY, DAY + timedelta(days=1)).success
    assert logged(warehouse, "console_usage")[DAY][:2] == (True, MIDNIGHT + timedelta(minutes=5))
    partial = totals(warehouse, "console_usage")
    at(MIDNIGHT + timedelta(minutes=5))
    assert pull(server, warehouse, "console_usage", DAY, DAY + timedelta(days=1)).success
    assert logged(warehouse, "console_usage")[DAY][:2] == (False, None)
    assert totals(warehouse, "console_usage") == truth_of(server, "console_usage") != partial

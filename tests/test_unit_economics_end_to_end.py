"""The unit economics against the simulator: the demo world's raw Console, Claude Code, Enterprise cost and
engagement tables over settled days, then facts.cost and both unit economics tables through the code
location's own definitions. Every figure is compared with the raw rows it names as its source."""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import dagster as dg
import duckdb
import pytest

from claude_assets.definitions import build_definitions
from demo.backfill import QUIET, backfill
from simulator.serve import serve_in_thread
from tests.conftest import make_sim
from tests.raw_warehouse import key_env, raw_config

#: eight days old enough (simulator clock 2026-11-22) to be settled at every source, the reports' 30 days included
START, END = date(2026, 10, 1), date(2026, 10, 9)
WANTED = {
    "raw/console_usage",
    "raw/console_cost",
    "raw/claude_code_usage",
    "raw/enterprise_summary",
    "raw/enterprise_user_activity",
    "raw/enterprise_cost",
    "facts/price_book",
    "facts/cost",
    "insights/unit_economics_daily",
    "insights/unit_economics_monthly",
}
Q = Decimal("0.000000000001")


def run(path, start: date, end: date, wanted: set[str]) -> tuple[list, dict[str, str]]:
    """Backfill the assets named in ``wanted`` over [start, end) into ``path``, from a fresh demo simulator."""
    sim = make_sim()
    with serve_in_thread(sim) as running:
        config = raw_config(sim, running.base_url)
        keys = {key_env(o.slug): sim.world.by_slug(o.slug).api_key for o in config.organizations}
        saved = {k: os.environ.get(k) for k in keys}
        os.environ.update(keys)
        try:
            defs = build_definitions(config, str(path))
            selection = [
                k
                for a in defs.assets or []
                if isinstance(a, dg.AssetsDefinition) and any(k.to_user_string() in wanted for k in a.keys)
                for k in a.keys
            ]
            results = backfill(defs, start, end, selection=selection, run_config=QUIET)
        finally:
            for k, v in saved.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return results, {o.slug: o.kind for o in config.organizations}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("unit_economics") / "warehouse.duckdb"
    results, kinds = run(path, START, END, WANTED)
    return path, results, kinds


def test_every_run_and_every_check_passes(built):
    _, results, _ = built
    assert all(r.success for r in results)
    evaluations = [e for r in results for e in r.get_asset_check_evaluations()]
    assert {"insights/unit_economics_daily", "insights/unit_economics_monthly"} <= {
        e.asset_key.to_user_string() for e in evaluations
    }
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed]
    assert [
        f for f in failed if not f.endswith(":source_on_time")
    ] == []  # the readiness sensor reports it, not a run


def test_every_settled_day_of_every_organization_has_its_billed_cost(built):
    path, _, kinds = built
    with duckdb.connect(str(path), read_only=True) as con:
        record = dict(
            ((o, d), v)
            for o, d, v in con.execute(
                """SELECT org_id, usage_date, sum(amount_usd) FROM raw.console_cost GROUP BY ALL
                   UNION ALL
                   SELECT org_id, usage_date, sum(amount_usd) FROM raw.enterprise_cost WHERE grouping = 'total'
                   GROUP BY ALL"""
            ).fetchall()
        )
        rows = dict(
            ((o, d), v)
            for o, d, v in con.execute(
                "SELECT org_id, usage_date, cost_usd FROM insights.unit_economics_daily WHERE product = 'all'"
            ).fetchall()
        )
    days = [START + timedelta(days=i) for i in range((END - START).days)]
    assert set(rows) == {(o, d) for o in kinds for d in days}
    assert rows == {k: record.get(k, Decimal(0)) for k in rows}


def test_enterprise_figures_match_their_named_sources(built):
    path, _, kinds = built
    (org,) = [o for o, k in kinds.items() if k == "enterprise"]
    day = END - timedelta(days=1)
    with duckdb.connect(str(path), read_only=True) as con:
        seats, dau, wau = con.execute(
            "SELECT assigned_seat_count, daily_active_user_count, weekly_active_user_count "
            "FROM raw.enterprise_summary WHERE org_id = ? AND usage_date = ?",
            [org, day],
        ).fetchone()
        sessions, commits = con.execute(
            "SELECT sum(claude_code_distinct_session_count), sum(claude_code_commit_count) "
            "FROM raw.enterprise_user_activity WHERE org_id = ? AND usage_date = ?",
            [org, day],
        ).fetchone()
        code_cost = con.execute(
            "SELECT sum(amount_usd) FROM raw.enterprise_cost WHERE org_id = ? AND usage_date = ? "
            "AND grouping = 'product_model' AND product = 'claude_code'",
            [org, day],
        ).fetchone()[0]
        week = con.execute(
            "SELECT sum(amount_usd) FROM raw.enterprise_cost WHERE org_id = ? AND grouping = 'total' "
            "AND usage_date > ? AND usage_date <= ?",
            [org, day - timedelta(days=7), day],
        ).fetchone()[0]
        cursor = con.execute(
            "SELECT * FROM insights.unit_economics_daily WHERE org_id = ? AND usage_date = ?", [org, day]
        )
        names = [c[0] for c in cursor.description]
        rows = {r[3]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}
    everything, code = rows["all"], rows["claude_code"]
    assert (everything["seats"], everything["daily_active_users"]) == (seats, dau)
    assert everything["cost_per_seat_usd"] == (everything["cost_usd"] / seats).quantize(Q, ROUND_HALF_EVEN)
    assert everything["cost_per_weekly_active_user_usd"] == (week / wau).quantize(Q, ROUND_HALF_EVEN)
    assert everything["low_use_seats"] is None  # 30 settled days are not there yet
    assert code["cost_usd"] == code_cost
    assert (code["claude_code_sessions"], code["claude_code_commits"]) == (sessions, commits)
    assert sessions > 0 and code["cost_per_session_usd"] == (code_cost / sessions).quantize(
        Q, ROUND_HALF_EVEN
    )
    assert "raw.claude_code_usage" not in code["activity_source"]


def test_console_claude_code_comes_from_claude_code_analytics_only(built):
    path, _, kinds = built
    with duckdb.connect(str(path), read_only=True) as con:
        raw = dict(
            ((o, d), n)
            for o, d, n in con.execute(
                "SELECT org_id, usage_date, sum(num_sessions) FROM raw.claude_code_usage GROUP BY ALL"
            ).fetchall()
        )
        rows = con.execute(
            "SELECT org_id, usage_date, claude_code_sessions, cost_basis, activity_source "
            "FROM insights.unit_economics_daily WHERE product = 'claude_code'"
        ).fetchall()
    console = [r for r in rows if kinds[r[0]] == "console"]
    assert console and {(o, d): n for o, d, n, _, _ in console} == raw
    assert {(b, s.split(":")[0]) for _, _, _, b, s in console} == {("estimate", "raw.claude_code_usage")}
    enterprise = [r for r in rows if kinds[r[0]] == "enterprise"]
    assert {s.split(":")[0] for *_, s in enterprise} == {"raw.enterprise_summary"}


def test_the_month_sums_its_days_and_says_it_is_not_complete(built):
    path, _, kinds = built
    with duckdb.connect(str(path), read_only=True) as con:
        months = con.execute(
            "SELECT org_id, settled_days, days_in_month, complete, cost_usd FROM insights.unit_economics_monthly "
            "WHERE product = 'all' AND month_start = DATE '2026-10-01' ORDER BY 1"
        ).fetchall()
        days = dict(
            con.execute(
                "SELECT org_id, sum(cost_usd) FROM insights.unit_economics_daily WHERE product = 'all' GROUP BY 1"
            ).fetchall()
        )
    assert [(o, n, m, c) for o, n, m, c, _ in months] == [
        (o, (END - START).days, 31, False) for o in sorted(kinds)
    ]
    assert {o: cost for o, *_, cost in months} == days


def test_recent_days_wait_for_their_sources_to_settle_and_are_named(tmp_path):
    """Two days before the simulator's clock: Console days are settled once complete, the Enterprise cost
    report's stay revisable for 30 days, so the Enterprise organization's days wait and the run says so."""
    start, end = date(2026, 11, 19), date(2026, 11, 21)
    results, kinds = run(
        tmp_path / "warehouse.duckdb", start, end, WANTED - {"insights/unit_economics_monthly"}
    )
    assert all(r.success for r in results)
    materializations = [
        m for r in results for m in r.asset_materializations_for_node("insights__unit_economics_daily")
    ]
    assert sorted(m.partition for m in materializations) == ["2026-11-19", "2026-11-20"]
    materialization = materializations[0]
    waiting = materialization.metadata["run_waiting_to_settle"].value
    (enterprise,) = [o for o, k in kinds.items() if k == "enterprise"]
    assert f"**{enterprise}**: 2026-11-19 (revisable), 2026-11-20 (revisable)" in waiting
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        orgs = {
            o for (o,) in con.execute("SELECT DISTINCT org_id FROM insights.unit_economics_daily").fetchall()
        }
    assert orgs == {o for o, k in kinds.items() if k == "console"}

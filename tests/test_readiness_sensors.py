"""The readiness sensors against the simulator's clock: days requested once ready and once only, revisions
re-requested, late and stalled sources flagged on source_on_time and cleared when data arrives, fast ticks."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import httpx
import pytest
from dagster_duckdb import DuckDBResource

from claude_assets.automation.families import FAMILIES
from claude_assets.automation.lateness import judge
from claude_assets.automation.on_time import CHECK_NAME
from claude_assets.automation.readiness import probe_all
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from claude_assets.warehouse.writes import DayCompleteness
from resources.apis import ConsoleAdminApi, EnterpriseAnalyticsApi
from simulator.serve import Running, serve_in_thread
from tests.conftest import make_sim
from tests.empty_pulls import log_empty_pull

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ORGS = {"acme-console": "console", "globex-console": "console", "acme-enterprise": "enterprise"}
FAMILY = {f.name: f for f in FAMILIES}


def key_env(slug: str) -> str:
    return f"READY_{slug.upper().replace('-', '_')}_KEY"


@pytest.fixture
def server(monkeypatch) -> Iterator[Running]:
    sim = make_sim(now=T0)
    for slug in ORGS:
        monkeypatch.setenv(key_env(slug), sim.world.by_slug(slug).api_key)
    with serve_in_thread(sim) as running:
        yield running


def config(server: Running) -> ProjectConfig:
    return ProjectConfig(
        organizations=tuple(
            OrgConfig(
                slug=slug,
                kind=kind,
                key_env=key_env(slug),
                base_url=server.base_url,
                rate_limit_per_minute=100_000,
                history_start=date(2026, 10, 1),
            )
            for slug, kind in ORGS.items()
        )
    )


def set_clock(server: Running, now: datetime) -> None:
    httpx.post(f"{server.base_url}/_simulator/clock", json={"now": now.isoformat()}).raise_for_status()


def stall(server: Running, source: str, org: str, day: str | None) -> None:
    body = {"source": source, "org": org, "from": day}
    httpx.post(f"{server.base_url}/_simulator/stalls", json=body).raise_for_status()


def tick(server: Running, family: str, warehouse: Path, cursor: str | None = None):
    """One evaluation of a family's readiness sensor, as the daemon runs it."""
    defs = build_definitions(config(server), str(warehouse))
    sensor = defs.resolve_sensor_def(f"{family}_ready")
    context = dg.build_sensor_context(
        cursor=cursor,
        definitions=defs,
        resources={
            "duckdb": DuckDBResource(database=str(warehouse)),
            "console_api": ConsoleAdminApi(),
            "analytics_api": EnterpriseAnalyticsApi(),
        },
    )
    return sensor.evaluate_tick(context)


def covered(request: dg.RunRequest) -> list[str]:
    """The partitions one run request covers: its partition, or its range of one organization's days."""
    if request.partition_key is not None:
        return [str(request.partition_key)]
    start = request.tags["dagster/asset_partition_range_start"].split("|")
    end = request.tags["dagster/asset_partition_range_end"].split("|")
    assert start[1] == end[1], "a range covers one organization"
    return days(start[0], end[0], start[1])


def partitions(result) -> list[str]:
    return sorted(p for r in result.run_requests for p in covered(r))


def days(start: str, end: str, org: str) -> list[str]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [f"{first + timedelta(days=i)}|{org}" for i in range((last - first).days + 1)]


def log_pull(warehouse: Path, family: str, org: str, day: date, state: DayCompleteness, run_id: str) -> None:
    """Write one pull of ``day`` (no rows) of every table of the family, as a run would log it."""
    log_empty_pull(
        warehouse, org, FAMILY[family].tables, day, state, run_id=run_id, fetched_at=state.api_time or T0
    )


def check_of(result, family: str) -> dg.AssetCheckEvaluation:
    found = [e for e in result.asset_events if isinstance(e, dg.AssetCheckEvaluation)]
    assert {e.asset_key for e in found} == set(FAMILY[family].asset_keys)
    assert {e.check_name for e in found} == {CHECK_NAME}
    return found[0]


# -- nothing before it is ready ----------------------------------------------------------------------------
def test_a_day_is_requested_only_once_its_source_has_it_ready(server, tmp_path):
    wh = tmp_path / "w.duckdb"
    # 00:03 UTC: the cost report holds 2026-11-21 already, but not for the documented 5 minutes yet
    set_clock(server, datetime(2026, 11, 22, 0, 3, tzinfo=UTC))
    early = tick(server, "console_cost", wh)
    assert partitions(early) == sorted(
        days("2026-11-14", "2026-11-20", "acme-console") + days("2026-11-14", "2026-11-20", "globex-console")
    )
    set_clock(server, datetime(2026, 11, 22, 0, 6, tzinfo=UTC))
    assert "2026-11-21|acme-console" in partitions(tick(server, "console_cost", wh))

    # engagement: day D is published at 10:00 UTC on D + 1, and the API's own answer says so
    set_clock(server, datetime(2026, 11, 22, 9, 59, tzinfo=UTC))
    assert partitions(tick(server, "engagement", wh))[-1] == "2026-11-20|acme-enterprise"
    set_clock(server, datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    assert partitions(tick(server, "engagement", wh))[-1] == "2026-11-21|acme-enterprise"

    # the Enterprise reports: data_refreshed_at must reach the day's end plus 24 h
    set_clock(server, datetime(2026, 11, 22, 23, 59, tzinfo=UTC))
    assert partitions(tick(server, "enterprise_reports", wh))[-1] == "2026-11-20|acme-enterprise"
    set_clock(server, datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    assert partitions(tick(server, "enterprise_reports", wh))[-1] == "2026-11-21|acme-enterprise"

    # Claude Code: an hour after the day ends; the Console usage report: a bucket 5 minutes past its end
    set_clock(server, datetime(2026, 11, 22, 0, 59, tzinfo=UTC))
    assert partitions(tick(server, "claude_code", wh))[-1] == "2026-11-20|globex-console"
    assert partitions(tick(server, "console_usage", wh))[-1] == "2026-11-20|globex-console"
    set_clock(server, datetime(2026, 11, 22, 1, 10, tzinfo=UTC))
    assert partitions(tick(server, "claude_code", wh))[-1] == "2026-11-21|globex-console"
    assert partitions(tick(server, "console_usage", wh))[-1] == "2026-11-21|globex-console"


# -- exactly once ----------------------------------------------------------------------------------------
def test_each_partition_is_requested_once_across_ticks_and_restarts(server, tmp_path):
    wh = tmp_path / "w.duckdb"
    first = tick(server, "console_cost", wh)
    keys = {str(r.partition_key): r.run_key for r in first.run_requests}
    assert len(keys) == 14 and len(set(keys.values())) == 14
    assert all(set(r.asset_selection) == {FAMILY["console_cost"].asset_keys[0]} for r in first.run_requests)
    # each run runs the asset's own checks; source_on_time is the sensor's
    checks = {c.name for c in first.run_requests[0].asset_check_keys}
    assert {"provisional_days_repulled", "not_empty"} <= checks and CHECK_NAME not in checks
    # the next ticks (the cursor it left) and a restarted daemon (no cursor) ask with the same run keys,
    # which Dagster starts once each, however the clock moved in between
    for minutes, cursor in ((10, first.cursor), (20, None)):
        set_clock(server, T0 + timedelta(minutes=minutes))
        again = tick(server, "console_cost", wh, cursor)
        assert {str(r.partition_key): r.run_key for r in again.run_requests} == keys
    # once the runs have written the days, nothing is asked any more
    for partition in keys:
        day, org = partition.split("|")
        log_pull(wh, "console_cost", org, date.fromisoformat(day), DayCompleteness(False, None, T0), "run-1")
    assert tick(server, "console_cost", wh, first.cursor).run_requests == []


def test_a_requested_run_fills_its_partition_and_is_not_asked_again(server, tmp_path):
    wh = tmp_path / "w.duckdb"
    defs = build_definitions(config(server), str(wh))
    request = tick(server, "console_cost", wh).run_requests[-1]
    result = dg.materialize(
        list(defs.assets),
        selection=request.asset_selection,
        partition_key=request.partition_key,
        resources=defs.resources,
    )
    assert result.success
    assert str(request.partition_key) not in partitions(tick(server, "console_cost", wh))


# -- revisions -------------------------------------------------------------------------------------------
def test_a_range_of_revised_days_is_pulled_again_in_one_run_of_that_organization_only(server, tmp_path):
    wh = tmp_path / "w.duckdb"
    defs = build_definitions(config(server), str(wh))
    selection = FAMILY["enterprise_reports"].asset_keys
    first = dg.materialize(
        list(defs.assets),
        selection=selection,
        resources=defs.resources,
        tags={
            "dagster/asset_partition_range_start": "2026-11-10|acme-enterprise",
            "dagster/asset_partition_range_end": "2026-11-16|acme-enterprise",
        },
    )
    assert first.success
    set_clock(server, T0 + timedelta(hours=30))  # a day later, and the source has exported since
    requests = [
        r for r in tick(server, "enterprise_reports", wh).run_requests if r.run_key.startswith("revise:")
    ]
    assert [covered(r) for r in requests] == [days("2026-11-10", "2026-11-16", "acme-enterprise")]
    again = dg.materialize(
        list(defs.assets),
        selection=requests[0].asset_selection,
        resources=defs.resources,
        tags=requests[0].tags,
    )
    assert again.success
    with duckdb.connect(str(wh), read_only=True) as con:
        runs = con.execute(
            "SELECT DISTINCT org_id, usage_date, run_id FROM raw.ingest_log ORDER BY ALL"
        ).fetchall()
    assert {(org, day.isoformat()) for org, day, _ in runs} == {
        ("acme-enterprise", f"2026-11-{d}") for d in range(10, 17)
    }
    assert {run for _, _, run in runs} == {again.run_id}


def test_days_the_source_revised_are_requested_again_once_per_pull(server, tmp_path):
    wh = tmp_path / "w.duckdb"
    org = "acme-enterprise"
    old = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # 28 h before the clock; the source re-exported since
    fresh = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # 4 h before: inside the revision cadence
    for d in range(14, 21):
        log_pull(
            wh, "enterprise_reports", org, date(2026, 11, d), DayCompleteness(False, None, old, old), "r-old"
        )
    log_pull(
        wh, "enterprise_reports", org, date(2026, 11, 19), DayCompleteness(False, None, fresh, fresh), "r-new"
    )
    # provisional: the provisional re-pull sensor's, not this one's
    log_pull(
        wh, "enterprise_reports", org, date(2026, 11, 20), DayCompleteness(True, fresh, old, old), "r-prov"
    )
    # outside the 30-day revision window
    log_pull(
        wh, "enterprise_reports", org, date(2026, 10, 20), DayCompleteness(False, None, old, old), "r-old"
    )
    result = tick(server, "enterprise_reports", wh)
    revised = {r.run_key: covered(r) for r in result.run_requests if r.run_key.startswith("revise:")}
    # one run per contiguous range of the organization's due days (2026-11-19 was pulled 4 h ago)
    assert sorted(revised.values()) == [[f"2026-11-{d}|{org}" for d in (14, 15, 16, 17, 18)]]
    assert len(result.run_requests) == 1
    # the same pulls: the same run key; a new pull of a revised day: a new key once it is old enough
    assert {r.run_key for r in tick(server, "enterprise_reports", wh).run_requests} == set(revised)
    log_pull(
        wh, "enterprise_reports", org, date(2026, 11, 16), DayCompleteness(False, None, old, old), "r-other"
    )
    after = {r.run_key: covered(r) for r in tick(server, "enterprise_reports", wh).run_requests}
    assert sorted(after.values()) == [[f"2026-11-{d}|{org}" for d in (14, 15, 16, 17, 18)]]
    assert set(after) != set(revised)
    # a source without revisions (the Console cost report) never re-asks a final day
    for d in range(14, 21):
        log_pull(
            wh, "console_cost", "acme-console", date(2026, 11, d), DayCompleteness(False, None, old), "c"
        )
    assert [p for p in partitions(tick(server, "console_cost", wh)) if p.endswith("acme-console")] == [
        "2026-11-21|acme-console"
    ]


def test_a_day_whose_revision_window_closed_after_its_last_pull_is_pulled_once_more_to_settle(
    server, tmp_path
):
    wh = tmp_path / "w.duckdb"
    org = "acme-enterprise"
    old = datetime(2026, 11, 18, 8, 0, tzinfo=UTC)

    def revisable(day: date) -> DayCompleteness:
        ends = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
        return DayCompleteness(False, None, old, old, settled=False, settles_after=ends + timedelta(days=30))

    # the window (30 days) of 2026-10-20 .. 2026-10-22 has closed by the clock (2026-11-22 12:00) and the
    # export watermark; 2026-10-19 was pulled settled already; 2026-10-10 closed too long ago to look at
    for d in (10, 19, 20, 21, 22):
        day = date(2026, 10, d)
        state = DayCompleteness(False, None, old, old) if d == 19 else revisable(day)
        log_pull(wh, "enterprise_reports", org, day, state, f"r-{d}")
    settle = [
        r for r in tick(server, "enterprise_reports", wh).run_requests if r.run_key.startswith("settle:")
    ]
    assert [covered(r) for r in settle] == [[f"2026-10-{d}|{org}" for d in (20, 21, 22)]]
    assert settle[0].tags["claude_assets/readiness"] == "settle"
    # once its settled values are stored, the day is not asked again
    log_pull(
        wh, "enterprise_reports", org, date(2026, 10, 21), DayCompleteness(False, None, T0, T0), "r-final"
    )
    again = {r.run_key: covered(r) for r in tick(server, "enterprise_reports", wh).run_requests}
    settling = sorted(v for k, v in again.items() if k.startswith("settle:"))
    assert settling == [["2026-10-20|acme-enterprise"], ["2026-10-22|acme-enterprise"]]
    assert f"settle:enterprise_reports:2026-10-20|{org}:r-20" in again


def test_a_day_is_not_pulled_to_settle_before_the_export_has_passed_its_window(server, tmp_path):
    wh = tmp_path / "w.duckdb"
    org = "acme-enterprise"
    # the export watermark stops on 2026-11-19, before the window of 2026-10-21 closes (2026-11-21)
    stall(server, "enterprise_reports", org, "2026-11-19")
    old = datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    ends = datetime(2026, 10, 22, tzinfo=UTC)
    state = DayCompleteness(False, None, old, old, settled=False, settles_after=ends + timedelta(days=30))
    log_pull(wh, "enterprise_reports", org, date(2026, 10, 21), state, "r-21")
    requested = [r.run_key for r in tick(server, "enterprise_reports", wh).run_requests]
    assert requested and not [k for k in requested if k.startswith("settle:")]
    stall(server, "enterprise_reports", org, None)  # resumed: the export passes the window's end
    requested = [r.run_key for r in tick(server, "enterprise_reports", wh).run_requests]
    assert f"settle:enterprise_reports:2026-10-21|{org}:r-21" in requested


# -- late and stalled ------------------------------------------------------------------------------------
def test_a_stalled_source_is_flagged_naming_it_and_cleared_when_it_resumes(server, tmp_path):
    wh = tmp_path / "w.duckdb"
    first = tick(server, "console_cost", wh)
    assert check_of(first, "console_cost").passed
    stall(server, "console_cost", "acme-console", "2026-11-22")
    set_clock(server, T0 + timedelta(days=2, hours=1))
    stalled = tick(server, "console_cost", wh, first.cursor)
    check = check_of(stalled, "console_cost")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "Console cost report of acme-console has stalled" in check.description
    assert (
        "2026-11-22T00:00:00+00:00" in check.description
        and "(newest ready day 2026-11-21)" in check.description
    )
    assert "is 1 d 12 h late" in check.description  # 61 h behind the clock, 25 h expected
    assert "globex-console" not in check.description
    # the same verdict is not reported again at every tick
    assert tick(server, "console_cost", wh, stalled.cursor).asset_events == []
    stall(server, "console_cost", "acme-console", None)
    resumed = tick(server, "console_cost", wh, stalled.cursor)
    cleared = check_of(resumed, "console_cost")
    assert cleared.passed and "on time" in cleared.description
    # data moving on is reported too, so the check's metadata says where it stands
    set_clock(server, T0 + timedelta(days=3, hours=1))
    moved = check_of(tick(server, "console_cost", wh, resumed.cursor), "console_cost")
    assert moved.passed and "acme-console (data at 2026-11-25T00:00:00+00:00)" in moved.description


def test_a_late_source_is_flagged_before_it_has_stalled(server, tmp_path):
    wh = tmp_path / "w.duckdb"
    stall(server, "engagement", "acme-enterprise", "2026-11-19")  # its newest day is 2026-11-17
    late = check_of(tick(server, "engagement", wh), "engagement")
    assert not late.passed
    assert late.description.startswith(
        "Enterprise engagement of acme-enterprise is 3 d 0 h late"
    )  # 4 d 12 h behind the clock, 36 h expected
    assert "stalled" not in late.description
    stall(server, "engagement", "acme-enterprise", None)
    assert check_of(tick(server, "engagement", wh), "engagement").passed


# -- budget ----------------------------------------------------------------------------------------------
def test_every_tick_is_fast_and_sends_a_handful_of_requests(server, tmp_path):
    wh = tmp_path / "w.duckdb"
    timings = {}
    for family in ("console_usage", "console_cost", "claude_code", "engagement", "enterprise_reports"):
        tick(server, family, wh)  # the first tick also checks each key once (GET /v1/organizations/me)
        started = time.perf_counter()
        tick(server, family, wh)
        timings[family] = time.perf_counter() - started
    print("readiness tick seconds:", {k: round(v, 3) for k, v in timings.items()})
    assert max(timings.values()) < 2.0, timings
    # a handful of requests per organization: one, or two when this machine's day is not the API's
    # (here: the simulator's clock is frozen in the past), Claude Code up to three more for quiet days
    apis = SimpleNamespace(console_api=ConsoleAdminApi(), analytics_api=EnterpriseAnalyticsApi())
    for family in FAMILIES[:5]:
        found, failed = probe_all(family, config(server), apis, logging.getLogger(__name__))
        assert not failed and found
        assert all(p.requests <= (5 if family.name == "claude_code" else 2) for p in found.values()), found


def test_the_sensors_run_by_default(server):
    defs = build_definitions(config(server), ":memory:")
    for family in FAMILIES[:5]:
        assert defs.resolve_sensor_def(family.sensor_name).default_status == dg.DefaultSensorStatus.RUNNING


def test_source_on_time_is_on_every_watched_asset_and_can_be_executed_by_hand(server, tmp_path):
    defs = build_definitions(config(server), str(tmp_path / "w.duckdb"))
    graph = defs.get_repository_def().asset_graph
    for family in FAMILIES[:5]:
        for key in family.asset_keys:
            assert dg.AssetCheckKey(key, CHECK_NAME) in graph.asset_check_keys, key
    stall(server, "console_cost", "globex-console", "2026-11-18")
    cost = FAMILY["console_cost"].asset_keys[0]
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.checks(dg.AssetCheckKey(cost, CHECK_NAME)),
        resources=defs.resources,
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.description.startswith(
        "Console cost report of globex-console is 3 d 11 h late"
    )  # 108 h behind, 25 h expected


@pytest.mark.parametrize("family", [f.name for f in FAMILIES[:5]])
def test_the_daemon_can_build_the_run_of_every_request(server, tmp_path, family):
    """The daemon builds each request's job from its asset and check selection (a non-subsettable asset
    must be selected with all its checks)."""
    wh = tmp_path / "w.duckdb"
    set_clock(server, datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    job = build_definitions(config(server), str(wh)).get_implicit_global_asset_job_def()
    requests = tick(server, family, wh).run_requests
    assert requests
    for r in requests:
        subset = job.get_subset(
            asset_selection=set(r.asset_selection), asset_check_selection=set(r.asset_check_keys)
        )
        assert set(subset.asset_layer.executable_asset_keys) >= set(r.asset_selection)


def test_the_analytics_api_is_watched_for_every_organization_that_reads_it(server, tmp_path):
    """The Usage and Cost Analytics API serves Console and Enterprise organizations alike: one sensor probes
    each through its own key, and requests the days of both kinds."""
    wh = tmp_path / "w.duckdb"
    off = config(server).model_copy(
        update={
            "organizations": tuple(
                o.model_copy(update={"analytics_api": False}) for o in config(server).organizations
            )
        }
    )
    assert "analytics_beta_ready" not in {s.name for s in build_definitions(off, str(wh)).sensors}
    defs = build_definitions(config(server), str(wh))
    context = dg.build_sensor_context(
        definitions=defs,
        resources={
            "duckdb": DuckDBResource(database=str(wh)),
            "analytics_api": EnterpriseAnalyticsApi(),
            "console_api": ConsoleAdminApi(),
        },
    )
    result = defs.resolve_sensor_def("analytics_beta_ready").evaluate_tick(context)
    assert {p.split("|")[1] for p in partitions(result)} == {
        "acme-console",
        "globex-console",
        "acme-enterprise",
    }
    assert set(days("2026-11-14", "2026-11-20", "acme-enterprise")) <= set(partitions(result))
    assert {k.path[-1] for k in result.run_requests[0].asset_selection} == {
        "analytics_usage",
        "analytics_cost",
    }


def test_the_timings_are_configuration_with_the_documented_defaults():
    timing = ProjectConfig.model_validate(
        {
            "source_timing": {
                "console_cost": {"expected_delay": "PT3H", "stall_after": "PT4H"},
                "catch_up_days": 2,
            }
        }
    ).source_timing
    assert (timing.console_cost.expected_delay, timing.console_cost.stall_after) == (
        timedelta(hours=3),
        timedelta(hours=4),
    )
    assert timing.catch_up_days == 2
    assert (timing.enterprise_reports.expected_delay, timing.enterprise_reports.revision_cadence) == (
        timedelta(hours=24),
        timedelta(hours=24),
    )
    assert timing.console_usage.expected_delay == timedelta(hours=2)


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("timing", "field"),
    [
        ({"console_cost": {"expected_delay": "PT3H"}}, "stall_after"),
        ({"console_cost": {"expected_delay": "PT0S", "stall_after": "PT1H"}}, "expected_delay"),
        ({"consol_cost": {"expected_delay": "PT3H", "stall_after": "PT4H"}}, "consol_cost"),
    ],
)
def test_a_wrong_timing_is_refused_naming_the_field(timing, field):
    with pytest.raises(ValueError, match=field):
        ProjectConfig.model_validate({"source_timing": timing})


def test_a_weekend_without_claude_code_activity_is_neither_late_nor_stalled_by_default():
    timing = ProjectConfig().source_timing.claude_code
    friday_end = datetime(2026, 11, 21, tzinfo=UTC)  # Friday 2026-11-20's rows, the newest until Monday's
    seen, instant = None, friday_end + timedelta(hours=1)
    while instant < datetime(2026, 11, 24, 1, tzinfo=UTC):  # Monday's rows appear on Tuesday at 01:00
        verdict, seen = judge(
            "Claude Code analytics",
            "globex-console",
            watermark=friday_end,
            latest_day=date(2026, 11, 20),
            api_time=instant,
            timing=timing,
            seen=seen,
        )
        assert verdict.problem is None, (instant, verdict.problem)
        instant += timedelta(hours=1)

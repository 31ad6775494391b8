"""Metric revisions (reference B13, release notes of 2026-11-23): the days pulled before a declared
revision took effect are pulled again, once per revision, and the re-pull says why.

The declarations come from the shipped file and a user's ``metric_revisions_file``; an invalid file is
refused naming its file, line and field.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from claude_assets.automation.revisions import (
    CHECK_NAME,
    REVISION_TAG,
    SENSOR_NAME,
    declared_revisions,
    metric_revision_check,
    metric_revision_sensor,
)
from claude_assets.config import ConfigError, OrgConfig, ProjectConfig, load_file
from claude_assets.definitions import build_definitions
from claude_assets.ingest.enterprise_engagement.assets import engagement_assets
from claude_assets.ingest.enterprise_engagement.tables import (
    ENTERPRISE_CONNECTOR_ACTIVITY,
    ENTERPRISE_SKILL_ACTIVITY,
    ENTERPRISE_USER_ACTIVITY,
    METRIC_REVISIONS_FILE,
)
from claude_assets.ingest.revisions import RevisionFileError
from claude_assets.ingest.runner import REPULL_REASON_TAG
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.writes import DayCompleteness
from resources.apis import EnterpriseAnalyticsApi
from simulator.serve import Running, serve_in_thread
from tests.conftest import make_sim
from tests.empty_pulls import log_empty_pull

ORG = "acme-enterprise"
KEY_ENV = "TEST_REVISIONS_ANALYTICS_KEY"
WEB_SEARCH, CONNECTOR_AUTH = "web-search-count-2026-11-17", "connector-auth-user-counts-2026-11-19"
LATER = datetime(2026, 12, 1, tzinfo=UTC)  # both published revisions are in effect


def utc(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def config(base_url: str = "http://127.0.0.1:9", revisions_file: Path | None = None) -> ProjectConfig:
    return ProjectConfig(
        organizations=(
            OrgConfig(
                slug=ORG,
                kind="enterprise",
                key_env=KEY_ENV,
                base_url=base_url,
                rate_limit_per_minute=100_000,
            ),
        ),
        metric_revisions_file=revisions_file,
    )


def log_pull(
    warehouse: Path, table: Table, day: date, pulled: datetime, *, org: str = ORG, api_lag=None
) -> None:
    """One pull of ``day`` (no rows) as the runner logs it; ``api_lag``: how far the API's clock is behind."""
    api_time = pulled - (api_lag or timedelta(0))
    log_empty_pull(
        warehouse,
        org,
        (table,),
        day,
        DayCompleteness(False, None, api_time),
        run_id=f"run-{day}-{pulled:%d%H}",
        fetched_at=pulled,
        request="GET /v1/organizations/analytics/example",
    )


def evaluate(
    warehouse: Path, now: datetime = LATER, cfg: ProjectConfig | None = None, cursor: str | None = None
) -> dg.SensorResult:
    cfg = cfg or config()
    sensor = metric_revision_sensor(cfg, engagement_assets(cfg), clock=lambda: now)
    context = dg.build_sensor_context(
        resources={"duckdb": DuckDBResource(database=str(warehouse))}, cursor=cursor
    )
    result = sensor(context)
    assert isinstance(result, dg.SensorResult), result
    return result


def requested(result: dg.SensorResult) -> dict[str, list[str]]:
    """partition -> the tables of its run request (none: the sensor skipped, saying why)."""
    assert bool(result.run_requests) != bool(result.skip_reason), result
    return {str(r.partition_key): sorted(k.path[-1] for k in r.asset_selection) for r in result.run_requests}


def marked(result: dg.SensorResult) -> dict[str, bool]:
    """table -> whether its ``metric_revisions_current`` check passed, as the sensor reported it."""
    assert all(e.check_name == CHECK_NAME for e in result.asset_events)
    return {e.asset_key.path[-1]: e.passed for e in result.asset_events}


def test_the_two_published_revisions_are_declared():
    by_id = {r.id: r for r in declared_revisions(config())}
    assert set(by_id) == {WEB_SEARCH, CONNECTOR_AUTH}
    web, auth = by_id[WEB_SEARCH], by_id[CONNECTOR_AUTH]
    assert (web.table, web.columns, web.first_day) == (
        "raw.enterprise_user_activity",
        ("web_search_count",),
        date(2026, 11, 17),
    )
    assert (auth.table, set(auth.columns), auth.first_day) == (
        "raw.enterprise_connector_activity",
        {"individual_auth_distinct_user_count", "managed_auth_distinct_user_count"},
        date(2026, 11, 19),
    )
    # published in the release notes of 2026-11-23: a pull made during that day may predate the fix
    assert web.effective_at == auth.effective_at == datetime(2026, 11, 24, tzinfo=UTC)
    assert all(r.declared_in == str(METRIC_REVISIONS_FILE) for r in by_id.values())


def test_a_day_pulled_before_its_revision_is_requested_once_and_a_day_pulled_after_is_not(tmp_path):
    wh = tmp_path / "w.duckdb"
    log_pull(wh, ENTERPRISE_USER_ACTIVITY, date(2026, 11, 18), utc(20))  # stale
    log_pull(wh, ENTERPRISE_USER_ACTIVITY, date(2026, 11, 16), utc(20))  # before first_day: never recounted
    log_pull(wh, ENTERPRISE_USER_ACTIVITY, date(2026, 11, 19), utc(24, 6))  # pulled after the fix
    log_pull(wh, ENTERPRISE_CONNECTOR_ACTIVITY, date(2026, 11, 18), utc(20))  # before its first_day (19)
    log_pull(wh, ENTERPRISE_CONNECTOR_ACTIVITY, date(2026, 11, 20), utc(23, 23))  # stale: the notes' day
    log_pull(wh, ENTERPRISE_SKILL_ACTIVITY, date(2026, 11, 20), utc(21))  # no revision of skills
    log_pull(
        wh, ENTERPRISE_USER_ACTIVITY, date(2026, 11, 18), utc(20), org="gone-enterprise"
    )  # not configured

    first = evaluate(wh)
    assert requested(first) == {
        f"2026-11-18|{ORG}": ["enterprise_user_activity"],
        f"2026-11-20|{ORG}": ["enterprise_connector_activity"],
    }
    by_partition = {str(r.partition_key): r for r in first.run_requests}
    web = by_partition[f"2026-11-18|{ORG}"]
    assert WEB_SEARCH in web.run_key and web.tags[REVISION_TAG] == WEB_SEARCH
    assert by_partition[f"2026-11-20|{ORG}"].tags[REVISION_TAG] == CONNECTOR_AUTH
    assert "2026-11-20T12:00:00+00:00" in web.tags[REPULL_REASON_TAG]  # when the stale pull was made
    # the run key names the revision and the partition, not the tick: Dagster starts one run per key
    assert {r.run_key for r in evaluate(wh).run_requests} == {r.run_key for r in first.run_requests}
    # the stale days are marked on each revised table's check, reported again only when they change
    assert marked(first) == {"enterprise_user_activity": False, "enterprise_connector_activity": False}
    (web_mark,) = [e for e in first.asset_events if e.asset_key == ENTERPRISE_USER_ACTIVITY.asset_key]
    assert web_mark.metadata["stale_days"].value == {WEB_SEARCH: {ORG: ["2026-11-18"]}}
    assert web_mark.severity == dg.AssetCheckSeverity.WARN and WEB_SEARCH in web_mark.description
    assert marked(evaluate(wh, cursor=first.cursor)) == {}

    # the day pulled again (after the fix): no longer stale, never requested again for this revision
    log_pull(wh, ENTERPRISE_USER_ACTIVITY, date(2026, 11, 18), utc(30))
    second = evaluate(wh, cursor=first.cursor)
    assert requested(second) == {f"2026-11-20|{ORG}": ["enterprise_connector_activity"]}
    assert marked(second) == {"enterprise_user_activity": True, "enterprise_connector_activity": False}
    log_pull(wh, ENTERPRISE_CONNECTOR_ACTIVITY, date(2026, 11, 20), utc(30))
    assert requested(evaluate(wh)) == {}


def test_nothing_is_requested_before_the_revision_is_in_effect_by_the_api_clock(tmp_path):
    wh = tmp_path / "w.duckdb"
    log_pull(wh, ENTERPRISE_USER_ACTIVITY, date(2026, 11, 18), utc(20))
    assert requested(evaluate(wh, now=utc(23))) == {}  # the fix is not served yet
    # this machine's clock is 3 days ahead of the API's: by the API's it is still 2026-11-23
    log_pull(wh, ENTERPRISE_CONNECTOR_ACTIVITY, date(2026, 11, 20), utc(24), api_lag=timedelta(days=3))
    assert requested(evaluate(wh, now=utc(26))) == {f"2026-11-18|{ORG}": ["enterprise_user_activity"]}


def test_a_users_revision_file_adds_to_the_shipped_ones(tmp_path):
    own = tmp_path / "revisions.yaml"
    own.write_text(
        "revisions:\n"
        "  - id: skill-invocations-2026-11-10\n"
        "    table: raw.enterprise_skill_activity\n"
        "    columns: [invocation_count]\n"
        "    first_day: 2026-11-10\n"
        "    last_day: 2026-11-20\n"
        "    effective_at: 2026-11-25T06:00:00Z\n"
        "    note: invocations counted twice for Office apps\n"
    )
    cfg = config(revisions_file=own)
    assert [r.id for r in declared_revisions(cfg)] == [
        WEB_SEARCH,
        CONNECTOR_AUTH,
        "skill-invocations-2026-11-10",
    ]
    wh = tmp_path / "w.duckdb"
    log_pull(wh, ENTERPRISE_SKILL_ACTIVITY, date(2026, 11, 20), utc(21))  # stale
    log_pull(wh, ENTERPRISE_SKILL_ACTIVITY, date(2026, 11, 21), utc(22))  # after last_day
    result = evaluate(wh, cfg=cfg)
    assert requested(result) == {f"2026-11-20|{ORG}": ["enterprise_skill_activity"]}
    assert "invocations counted twice" in result.run_requests[0].tags[REPULL_REASON_TAG]
    # and through the configuration file, with a path relative to it
    (tmp_path / "config.yaml").write_text(
        f"organizations:\n  - {{slug: {ORG}, kind: enterprise, key_env: {KEY_ENV}}}\n"
        "metric_revisions_file: revisions.yaml\n"
    )
    assert load_file(tmp_path / "config.yaml").metric_revisions_file == own


GOOD = {
    "id": "x-1",
    "table": "raw.enterprise_user_activity",
    "columns": "[web_search_count]",
    "first_day": "2026-11-10",
    "effective_at": "2026-11-25T00:00:00Z",
    "note": "why",
}


def revision_file(path: Path, **changes: str | None) -> Path:
    """A file of one revision: GOOD with ``changes`` (None drops a field), the entry on line 2 and a field a
    line (id 2, table 3, columns 4, first_day 5, effective_at 6, note 7, any other 8)."""
    fields = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    path.write_text("revisions:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items()) + "\n")
    return path


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("changes", "line", "expected"),
    [
        ({"table": "raw.enterprise_users"}, 3, "revisions[0].table: no table 'raw.enterprise_users'"),
        (
            {"columns": "[web_search_count, web_searches]"},
            4,
            "revisions[0].columns[1]: raw.enterprise_user_activity has no column 'web_searches'",
        ),
        (
            {"effective_at": "2026-11-25T00:00:00"},
            6,
            "revisions[0].effective_at: Input should have timezone info",
        ),
        ({"first_day": "2026-11-31"}, 5, "revisions[0].first_day:"),
        ({"last_day": "2026-11-01"}, 2, "last_day 2026-11-01 is before first_day 2026-11-10"),
        ({"note": None}, 2, "revisions[0].note: Field required"),
        ({"frist_day": "2026-11-10"}, 8, "revisions[0].frist_day: Extra inputs are not permitted"),
        ({"id": "Web Search!"}, 2, "revisions[0].id: String should match pattern"),
    ],
)
def test_an_invalid_revision_is_refused_by_file_line_and_field(tmp_path, changes, line, expected):
    path = revision_file(tmp_path / "revisions.yaml", **changes)
    with pytest.raises(RevisionFileError) as info:
        declared_revisions(config(revisions_file=path))
    assert f"{path}:{line}: " in str(info.value) and expected in str(info.value), str(info.value)


@pytest.mark.bad_input
def test_a_revision_id_declared_twice_names_both_files(tmp_path):
    path = revision_file(tmp_path / "revisions.yaml", id=WEB_SEARCH)
    with pytest.raises(RevisionFileError, match=f"{WEB_SEARCH}.*already declared in {METRIC_REVISIONS_FILE}"):
        declared_revisions(config(revisions_file=path))


@pytest.mark.bad_input
def test_a_bad_revision_file_fails_the_code_location_load_and_a_missing_one_the_configuration(tmp_path):
    (tmp_path / "revisions.yaml").write_text("- not a mapping\n")
    with pytest.raises(
        RevisionFileError, match=r"revisions.yaml:1: .*expected a mapping with a 'revisions' list"
    ):
        build_definitions(config(revisions_file=tmp_path / "revisions.yaml"), str(tmp_path / "w.duckdb"))
    (tmp_path / "config.yaml").write_text(
        f"organizations:\n  - {{slug: {ORG}, kind: enterprise, key_env: {KEY_ENV}}}\n"
        "metric_revisions_file: missing.yaml\n"
    )
    with pytest.raises(
        ConfigError, match=r"config.yaml:3: metric_revisions_file: .*no such file: .*missing.yaml"
    ):
        load_file(tmp_path / "config.yaml")


def test_the_sensor_runs_by_default(tmp_path):
    sensor = build_definitions(config(), str(tmp_path / "w.duckdb")).resolve_sensor_def(SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


# -- end to end: the simulator undercounts web searches until the fix (docs/simulator.md) ----------------------
@pytest.fixture
def server() -> Iterator[Running]:
    sim = make_sim(now=utc(22))  # before the fix
    os.environ[KEY_ENV] = sim.world.by_slug(ORG).api_key
    try:
        with serve_in_thread(sim) as running:
            yield running
    finally:
        os.environ.pop(KEY_ENV, None)


def test_a_stale_day_is_pulled_again_once_with_the_revised_values_and_says_why(server, tmp_path):
    cfg, wh, day = config(server.base_url), tmp_path / "w.duckdb", date(2026, 11, 18)
    ahead = [timedelta(0)]  # how far the local clock has moved on since the first pull

    def clock() -> datetime:
        return datetime.now(UTC) + ahead[0]

    assets = engagement_assets(cfg)
    check = metric_revision_check(cfg, assets, clock=clock)

    def pull(request: dg.RunRequest | None = None) -> dg.ExecuteInProcessResult:
        result = dg.materialize(
            [*assets, check],
            selection=dg.AssetSelection.assets(ENTERPRISE_USER_ACTIVITY.asset_key),  # with its checks
            partition_key=f"{day}|{ORG}",
            resources={"analytics_api": EnterpriseAnalyticsApi(), "duckdb": DuckDBResource(database=str(wh))},
            tags=request.tags if request else None,
            raise_on_error=False,
        )
        assert result.success
        return result

    def current(result: dg.ExecuteInProcessResult) -> bool:
        (found,) = [e for e in result.get_asset_check_evaluations() if e.check_name == CHECK_NAME]
        return found.passed

    def searches() -> int:
        with duckdb.connect(str(wh), read_only=True) as con:
            return con.execute("SELECT sum(web_search_count) FROM raw.enterprise_user_activity").fetchone()[0]

    def tick() -> dg.SensorResult:
        sensor = metric_revision_sensor(cfg, assets, clock=clock)
        return sensor(dg.build_sensor_context(resources={"duckdb": DuckDBResource(database=str(wh))}))

    first = pull()
    assert "repull_reason" not in first.get_asset_materialization_events()[0].materialization.metadata
    assert current(first)  # the fix is not served yet: nothing better to read
    undercounted = searches()
    assert requested(tick()) == {}  # the API's clock is still 2026-11-22
    # two days later, by the API's clock too: the day is stale, marked, and asked again once
    server.sim.clock.set(utc(24, 12))
    ahead[0] = timedelta(days=2)
    stale = tick()
    assert marked(stale) == {"enterprise_user_activity": False, "enterprise_connector_activity": True}
    (request,) = stale.run_requests
    assert str(request.partition_key) == f"{day}|{ORG}" and WEB_SEARCH in request.run_key
    assert dg.AssetCheckKey(ENTERPRISE_USER_ACTIVITY.asset_key, CHECK_NAME) in request.asset_check_keys
    again = pull(request)
    meta = again.get_asset_materialization_events()[0].materialization.metadata
    assert meta["repull_reason"].value == request.tags[REPULL_REASON_TAG]
    assert WEB_SEARCH in meta["repull_reason"].value
    assert searches() > undercounted  # the fixed count (values can rise)
    assert current(again)
    assert requested(tick()) == {}

"""Provisional days are seen and pulled again: the re-pull sensor, the WARN check, the rule per source, and a
warehouse whose ``raw.ingest_log`` predates completeness."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from checks import provisional as provisional_checks
from claude_assets.automation.provisional import SENSOR_NAME
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from claude_assets.ingest.completeness import CompleteAfter, judge
from claude_assets.ingest.console.tables import CLAUDE_CODE_MODELS, CLAUDE_CODE_USAGE, CONSOLE_USAGE
from claude_assets.ingest.enterprise_reports.tables import ANALYTICS_COST, ENTERPRISE_COST, ENTERPRISE_USAGE
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.writes import DayCompleteness
from tests.empty_pulls import log_empty_pull

CONSOLE, ENTERPRISE = "acme-console", "acme-enterprise"
DAY = date(2026, 11, 20)
NOW = datetime.now(UTC)  # the sensor reads the local clock; every instant below is set relative to it


def config() -> ProjectConfig:
    return ProjectConfig(
        organizations=(
            OrgConfig(
                slug=CONSOLE, kind="console", key_env="UNUSED_CONSOLE_KEY", base_url="http://127.0.0.1:9"
            ),
            OrgConfig(
                slug=ENTERPRISE,
                kind="enterprise",
                key_env="UNUSED_ENTERPRISE_KEY",
                base_url="http://127.0.0.1:9",
                analytics_beta=True,
            ),
        )
    )


def log_pull(
    warehouse: Path,
    org: str,
    tables: tuple[Table, ...],
    state: DayCompleteness,
    *,
    run_id: str,
    fetched_at: datetime,
    day: date = DAY,
) -> None:
    """Write one pull of ``day`` (no rows) as the runner would log it."""
    log_empty_pull(warehouse, org, tables, day, state, run_id=run_id, fetched_at=fetched_at)


def due_state(final_after: datetime, api_time: datetime) -> DayCompleteness:
    return DayCompleteness(True, final_after, api_time, None)


def evaluate(warehouse: Path) -> list[dg.RunRequest] | dg.SkipReason:
    sensor = build_definitions(config(), str(warehouse)).resolve_sensor_def(SENSOR_NAME)
    context = dg.build_sensor_context(resources={"duckdb": DuckDBResource(database=str(warehouse))})
    return sensor(context)


def requested(result) -> dict[str, list[str]]:
    """partition -> the asset keys (table names) of its run request."""
    assert isinstance(result, list), result
    return {str(r.partition_key): sorted(k.path[-1] for k in r.asset_selection) for r in result}


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """Pulls of several tables, organizations and states (the local clock agrees with the API's unless said)."""
    wh = tmp_path / "w.duckdb"
    pulled = NOW - timedelta(hours=2)
    # due: Claude Code (a multi-asset that runs both its tables together) and two Enterprise reports
    log_pull(
        wh,
        CONSOLE,
        (CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS),
        due_state(NOW - timedelta(minutes=10), pulled),
        run_id="run-a",
        fetched_at=pulled,
    )
    log_pull(
        wh,
        ENTERPRISE,
        (ENTERPRISE_USAGE, ENTERPRISE_COST),
        due_state(NOW - timedelta(hours=1), pulled),
        run_id="run-b",
        fetched_at=pulled,
    )
    # not due: final; provisional with final_after ahead; the API's clock unknown
    log_pull(
        wh, CONSOLE, (CONSOLE_USAGE,), DayCompleteness(False, None, pulled), run_id="run-a", fetched_at=pulled
    )
    log_pull(
        wh,
        ENTERPRISE,
        (ANALYTICS_COST,),
        due_state(NOW + timedelta(hours=3), pulled),
        run_id="run-b",
        fetched_at=pulled,
    )
    log_pull(
        wh,
        CONSOLE,
        (CONSOLE_USAGE,),
        DayCompleteness(True, None, None),
        run_id="run-a",
        fetched_at=pulled,
        day=DAY - timedelta(days=1),
    )
    # not due by the API's clock, though due by the local one: this machine's clock runs 2 h ahead of the API's
    fetched = NOW - timedelta(minutes=30)
    api_time = fetched - timedelta(
        hours=2
    )  # final_after below is 90 minutes ago locally, 30 minutes ahead for the API
    log_pull(
        wh,
        CONSOLE,
        (CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS),
        due_state(api_time + timedelta(hours=1), api_time),
        run_id="run-skewed",
        fetched_at=fetched,
        day=DAY - timedelta(days=1),
    )
    # an organization no longer configured
    log_pull(
        wh,
        "gone-console",
        (CONSOLE_USAGE,),
        due_state(NOW - timedelta(hours=1), pulled),
        run_id="x",
        fetched_at=pulled,
    )
    return wh


def test_the_sensor_requests_each_due_provisional_partition_once_per_pull(warehouse):
    first = evaluate(warehouse)
    assert requested(first) == {
        f"{DAY}|{CONSOLE}": ["claude_code_model_usage", "claude_code_usage"],
        f"{DAY}|{ENTERPRISE}": ["enterprise_cost", "enterprise_usage"],
    }
    keys = {str(r.partition_key): r.run_key for r in first}
    assert len(set(keys.values())) == 2 and all("run-a" in k or "run-b" in k for k in keys.values())
    # the same pulls give the same run keys: Dagster starts one run per key, however often the sensor ticks
    assert {str(r.partition_key): r.run_key for r in evaluate(warehouse)} == keys

    # Claude Code pulled again and final: no longer requested
    log_pull(
        warehouse,
        CONSOLE,
        (CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS),
        DayCompleteness(False, None, NOW),
        run_id="run-c",
        fetched_at=NOW,
    )
    # the Enterprise reports pulled again, still provisional and due once more: a new pull, a new run key
    log_pull(
        warehouse,
        ENTERPRISE,
        (ENTERPRISE_USAGE, ENTERPRISE_COST),
        due_state(NOW - timedelta(minutes=1), NOW - timedelta(minutes=30)),
        run_id="run-d",
        fetched_at=NOW - timedelta(minutes=30),
    )
    again = evaluate(warehouse)
    assert requested(again) == {f"{DAY}|{ENTERPRISE}": ["enterprise_cost", "enterprise_usage"]}
    assert again[0].run_key != keys[f"{DAY}|{ENTERPRISE}"] and "run-d" in again[0].run_key


def test_the_sensor_skips_when_nothing_is_due_or_there_is_no_warehouse(tmp_path):
    assert isinstance(evaluate(tmp_path / "none.duckdb"), dg.SkipReason)
    wh = tmp_path / "w.duckdb"
    log_pull(wh, CONSOLE, (CONSOLE_USAGE,), DayCompleteness(False, None, NOW), run_id="r", fetched_at=NOW)
    assert isinstance(evaluate(wh), dg.SkipReason)


def test_the_sensor_runs_by_default():
    sensor = build_definitions(config(), ":memory:").resolve_sensor_def(SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_check_warns_naming_the_provisional_days_due(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        due = provisional_checks.result(con, ENTERPRISE_COST)
        waiting = provisional_checks.result(con, ANALYTICS_COST)
        final = provisional_checks.result(con, CONSOLE_USAGE)  # the unconfigured org's day is due
    assert not due.passed and due.severity == dg.AssetCheckSeverity.WARN
    assert due.metadata["due_by_org"].value == {ENTERPRISE: [DAY.isoformat()]}
    assert waiting.passed and waiting.metadata["provisional_days"].value == 1
    assert not final.passed and final.metadata["due_by_org"].value == {"gone-console": [DAY.isoformat()]}


# -- the rule per source ---------------------------------------------------------------------------------------
END = datetime(2026, 11, 21, tzinfo=UTC)  # DAY's end
CLAUDE_CODE = CompleteAfter("Claude Code", timedelta(hours=1))
REPORTS = CompleteAfter("reports", timedelta(hours=24), timedelta(hours=4))


@pytest.mark.parametrize(
    ("rule", "api_time", "refreshed", "expected"),
    [
        # a delay alone: provisional until the day's end plus the delay, by the API's clock
        (CLAUDE_CODE, END + timedelta(minutes=20), None, (True, END + timedelta(hours=1))),
        (CLAUDE_CODE, END + timedelta(hours=1), None, (False, None)),
        # a watermark: it must reach the day's end plus the delay, whatever the clock says
        (REPORTS, END + timedelta(minutes=20), END, (True, END + timedelta(hours=24))),
        (REPORTS, END + timedelta(hours=24, minutes=5), END + timedelta(hours=24), (False, None)),
        # the export is late: wait for the next one it should make, do not poll
        (REPORTS, END + timedelta(hours=25), END + timedelta(hours=20), (True, END + timedelta(hours=28))),
        # no export at all yet
        (REPORTS, END + timedelta(hours=30), None, (True, END + timedelta(hours=34))),
        # no Date header: provisional, and no guess at when it will be final
        (CLAUDE_CODE, None, None, (True, None)),
        # a source that serves finished days only
        (None, END + timedelta(minutes=1), None, (False, None)),
    ],
)
def test_a_day_is_final_by_the_api_clock_the_watermark_and_the_delay(rule, api_time, refreshed, expected):
    state = judge(rule, DAY, api_time, refreshed)
    assert (state.provisional, state.final_after) == expected
    assert (state.api_time, state.data_refreshed_at) == (
        api_time,
        refreshed if rule is not CLAUDE_CODE else None,
    )


def test_the_delays_are_configuration_with_the_documented_defaults():
    delays = ProjectConfig.model_validate({"day_complete_after": {"claude_code": "PT2H"}}).day_complete_after
    assert delays.claude_code == timedelta(hours=2)
    assert (delays.console_usage, delays.enterprise_reports, delays.enterprise_refresh_interval) == (
        timedelta(minutes=5),
        timedelta(hours=24),
        timedelta(hours=4),
    )


# -- a warehouse logged before completeness was recorded -------------------------------------------------------
OLD_LOG = """CREATE TABLE raw.ingest_log (table_name VARCHAR NOT NULL, org_id VARCHAR NOT NULL,
    usage_date DATE NOT NULL, row_count BIGINT NOT NULL, source_request VARCHAR, run_id VARCHAR,
    fetched_at TIMESTAMPTZ NOT NULL)"""


def test_an_ingest_log_without_completeness_gains_it_and_early_pulls_become_provisional(tmp_path):
    wh = tmp_path / "old.duckdb"
    with duckdb.connect(str(wh)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(OLD_LOG)
        con.execute(
            "INSERT INTO raw.ingest_log VALUES "
            "('raw.enterprise_cost', ?, '2026-11-20', 5, 'GET x', 'old', '2026-11-21T00:20:00Z'), "
            "('raw.enterprise_cost', ?, '2026-11-10', 5, 'GET x', 'old', '2026-11-21T00:20:00Z')",
            [ENTERPRISE, ENTERPRISE],
        )
    log_pull(wh, CONSOLE, (CONSOLE_USAGE,), DayCompleteness(False, None, NOW), run_id="new", fetched_at=NOW)
    with duckdb.connect(str(wh), read_only=True) as con:
        rows = con.execute(
            "SELECT usage_date, provisional, final_after FROM raw.ingest_log "
            "WHERE table_name = 'raw.enterprise_cost' ORDER BY 1"
        ).fetchall()
        nullable = con.execute(
            "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'ingest_log' "
            "AND column_name = 'provisional'"
        ).fetchone()
    assert [(r[0], r[1], r[2] and r[2].astimezone(UTC)) for r in rows] == [
        (date(2026, 11, 10), False, None),
        (date(2026, 11, 20), True, datetime(2026, 11, 22, tzinfo=UTC)),  # pulled 20 minutes after it ended
    ]
    assert nullable == ("NO",)

"""A row dated outside the window the API was asked for is refused: the run fails naming it, nothing of the
window is written (such a row would sit under a day no later run of that day deletes)."""

from __future__ import annotations

from datetime import date

import dagster as dg
import duckdb
import pytest

from claude_assets.ingest.console import fetch
from simulator.serve import serve_in_thread
from tests.conftest import make_sim
from tests.test_e2e_console import ORGS, key_env, materialize

START, END = date(2026, 11, 10), date(2026, 11, 12)
STRAY = "2026-10-01"


@pytest.fixture(scope="module")
def server():
    sim = make_sim()
    with serve_in_thread(sim) as running:
        yield running


@pytest.fixture(autouse=True)
def keys(server, monkeypatch):
    for slug in ORGS:
        monkeypatch.setenv(key_env(slug), server.sim.world.by_slug(slug).api_key)


def failure_of(result: dg.ExecuteInProcessResult) -> str:
    return " ".join(str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure)


def rows_on(warehouse, table: str, day: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name || '.' || table_name = ?", [table]
        ).fetchone()[0]
        if not exists:
            return 0
        return con.execute(f"SELECT count(*) FROM {table} WHERE usage_date = ?", [day]).fetchone()[0]


@pytest.mark.bad_input
def test_a_report_bucket_outside_the_window_fails_the_run_and_is_not_written(server, tmp_path, monkeypatch):
    real = fetch._report_rows

    def one_stray_bucket(client, path, params, stats, days, headers=None):
        for i, (bucket, result) in enumerate(real(client, path, params, stats, days, headers)):
            yield ({**bucket, "starting_at": f"{STRAY}T00:00:00Z"} if i == 0 else bucket), result

    monkeypatch.setattr(fetch, "_report_rows", one_stray_bucket)
    warehouse = tmp_path / "w.duckdb"
    result = materialize(server.base_url, warehouse, START, END)
    assert not result.success
    message = failure_of(result)
    assert "dated 2026-10-01" in message and "2026-11-10..2026-11-11" in message
    assert "GET /v1/organizations/" in message
    assert rows_on(warehouse, "raw.console_usage", STRAY) == 0
    assert rows_on(warehouse, "raw.console_cost", STRAY) == 0


@pytest.mark.bad_input
def test_a_claude_code_record_of_another_day_is_refused_not_filed_under_the_day_asked(
    server, tmp_path, monkeypatch
):
    real = fetch.claude_code_rows
    monkeypatch.setattr(
        fetch, "claude_code_rows", lambda org, day, r, lineage: real(org, day, {**r, "date": STRAY}, lineage)
    )
    warehouse = tmp_path / "w.duckdb"
    result = materialize(server.base_url, warehouse, START, END)
    assert not result.success
    assert "raw.claude_code_usage" in failure_of(result) and "dated 2026-10-01" in failure_of(result)
    assert rows_on(warehouse, "raw.claude_code_usage", STRAY) == 0
    assert rows_on(warehouse, "raw.claude_code_usage", START.isoformat()) == 0


def test_the_grain_check_sees_a_row_left_on_a_day_no_request_answered_for(server, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert materialize(server.base_url, warehouse, START, END).success
    with duckdb.connect(str(warehouse)) as con:  # a row an older run kept from outside its window
        con.execute(
            f"INSERT INTO raw.console_cost SELECT * REPLACE (DATE '{STRAY}' AS usage_date) "
            "FROM raw.console_cost WHERE org_id = 'acme-console' LIMIT 1"
        )
    result = materialize(server.base_url, warehouse, START, END)
    grain = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    failed = grain[("console_cost", "grain_unique")]
    assert not failed.passed
    assert failed.metadata["rows_on_unrequested_days"].value == {"acme-console": {STRAY: 1}}
    assert grain[("console_usage", "grain_unique")].passed

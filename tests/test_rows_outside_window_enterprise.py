"""The Enterprise reports keep rows only for the days they asked for, like every raw table (the runner
refuses the rest): a per-user row and a beta row dated outside the window fail the run, nothing written."""

from __future__ import annotations

from datetime import date

import pytest

from claude_assets.ingest.enterprise_reports import rows
from tests.test_enterprise_reports import config, connect, materialize, server  # noqa: F401 (fixture)

START, END = date(2026, 11, 10), date(2026, 11, 12)
STRAY = "2026-10-01"


@pytest.mark.bad_input
@pytest.mark.parametrize("table", ["enterprise_user_cost", "analytics_usage"])
def test_a_ranked_report_row_outside_the_window_is_refused(server, tmp_path, monkeypatch, table):  # noqa: F811
    real, seen = rows._ranked_row, []

    def one_stray_row(*args):
        row = real(*args)
        seen.append(row)
        return {**row, "usage_date": STRAY} if len(seen) == 1 else row

    monkeypatch.setattr(rows, "_ranked_row", one_stray_row)
    warehouse = tmp_path / "w.duckdb"
    result = materialize(config(server), warehouse, START, END, select=(table,))
    assert not result.success
    failure = " ".join(str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure)
    assert f"raw.{table}" in failure and f"dated {STRAY}" in failure
    with connect(warehouse) as con:
        present = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = ?", [table]
        ).fetchone()[0]
        assert not present or con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0] == 0

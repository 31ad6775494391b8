"""Retention (claude_assets.privacy.retention and retention_job): exactly the rows older than their family's
limit are deleted and logged in raw.retention_log, current history versions stay, a second run deletes
nothing, and every table the project declares is either dated or kept whole on purpose."""

from __future__ import annotations

from datetime import date

import dagster as dg
import duckdb
import pytest

from claude_assets.config import (
    ConfigError,
    OrgConfig,
    PrivacySettings,
    ProjectConfig,
    RetentionMonths,
    load_file,
)
from claude_assets.privacy.jobs import retention_job, retention_schedule
from claude_assets.privacy.retention import apply_retention, cutoff, dated_tables
from claude_assets.warehouse.resource import Warehouse
from claude_assets.warehouse.writes import ensure
from docgen.privacy import declared_tables

AS_OF = date(2026, 6, 15)  # 3 months back: the first day kept is 2026-03-15
LIMITS = RetentionMonths(raw=3, inventory=3, insights=3)  # facts and exports: kept forever
LOG = (
    "SELECT table_name, family, org_id, usage_date, rows_deleted, months, cutoff FROM raw.retention_log "
    "ORDER BY ALL"
)


def _warehouse(path) -> None:
    """Tables of each kind of dating, with rows on both sides of 2026-03-15."""
    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "inventory", "facts", "insights"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute("CREATE TABLE raw.daily (org_id VARCHAR, usage_date DATE, n INTEGER)")
        con.execute(
            "INSERT INTO raw.daily VALUES ('acme', '2026-03-13', 1), ('acme', '2026-03-13', 2), "
            "('acme', '2026-03-14', 3), ('globex', '2026-03-14', 4), ('globex', '2026-03-14', 5), "
            "('globex', '2026-03-14', 6), ('acme', '2026-03-15', 7), ('globex', '2026-03-16', 8)"
        )
        con.execute(
            "CREATE TABLE inventory.things (org_id VARCHAR, id VARCHAR, valid_from TIMESTAMPTZ, "
            "valid_to TIMESTAMPTZ, is_current BOOLEAN)"
        )
        con.execute(
            "INSERT INTO inventory.things VALUES "
            "('acme', 'closed-long-ago', '2024-01-01 00:00Z', '2025-01-01 00:00Z', false), "
            "('acme', 'closed-last-hour', '2026-01-01 00:00Z', '2026-03-14 23:59:59Z', false), "
            "('acme', 'closed-at-cutoff', '2026-01-01 00:00Z', '2026-03-15 00:00Z', false), "
            "('acme', 'current-and-old', '2020-01-01 00:00Z', NULL, true)"
        )
        con.execute("CREATE TABLE insights.alert_log (alert_key VARCHAR, alert_day DATE)")
        con.execute("INSERT INTO insights.alert_log VALUES ('old', '2026-03-01'), ('new', '2026-05-01')")
        con.execute("CREATE TABLE insights.unit_economics_monthly (org_id VARCHAR, month_start DATE)")
        # February ended before the cutoff; March holds days after it
        con.execute(
            "INSERT INTO insights.unit_economics_monthly VALUES ('acme', '2026-02-01'), ('acme', '2026-03-01')"
        )
        con.execute("CREATE TABLE facts.cost (org_id VARCHAR, usage_date DATE)")
        con.execute("INSERT INTO facts.cost VALUES ('acme', '2020-01-01')")
        con.execute("CREATE TABLE facts.price_book (org_id VARCHAR, model VARCHAR)")
        con.execute("INSERT INTO facts.price_book VALUES (NULL, 'claude-x')")


def test_cutoff_counts_calendar_months_back():
    assert cutoff(date(2026, 6, 15), 3) == date(2026, 3, 15)
    assert cutoff(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert cutoff(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert cutoff(date(2026, 1, 15), 1) == date(2025, 12, 15)
    assert cutoff(date(2026, 1, 15), 25) == date(2023, 12, 15)


def test_exactly_the_older_rows_are_deleted_and_logged_and_a_second_run_deletes_nothing(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    with duckdb.connect(str(path)) as con:
        deleted, whole = apply_retention(con, LIMITS, AS_OF, "run-1")
        assert {d.table: d.rows for d in deleted} == {
            "raw.daily": 6,
            "inventory.things": 2,
            "insights.alert_log": 1,
            "insights.unit_economics_monthly": 1,
        }
        assert whole == []  # facts (price book included) has no limit here
        assert con.execute("SELECT n FROM raw.daily ORDER BY n").fetchall() == [(7,), (8,)]
        assert con.execute("SELECT id FROM inventory.things ORDER BY id").fetchall() == [
            ("closed-at-cutoff",),
            ("current-and-old",),
        ]
        assert con.execute("SELECT alert_key FROM insights.alert_log").fetchall() == [("new",)]
        assert con.execute("SELECT month_start FROM insights.unit_economics_monthly").fetchall() == [
            (date(2026, 3, 1),)
        ]
        assert con.execute("SELECT count(*) FROM facts.cost").fetchone() == (1,)  # no limit on facts
        first = con.execute(LOG).fetchall()
        assert first == [
            ("insights.alert_log", "insights", None, date(2026, 3, 1), 1, 3, date(2026, 3, 15)),
            (
                "insights.unit_economics_monthly",
                "insights",
                "acme",
                date(2026, 2, 28),
                1,
                3,
                date(2026, 3, 15),
            ),
            ("inventory.things", "inventory", "acme", date(2025, 1, 1), 1, 3, date(2026, 3, 15)),
            ("inventory.things", "inventory", "acme", date(2026, 3, 14), 1, 3, date(2026, 3, 15)),
            ("raw.daily", "raw", "acme", date(2026, 3, 13), 2, 3, date(2026, 3, 15)),
            ("raw.daily", "raw", "acme", date(2026, 3, 14), 1, 3, date(2026, 3, 15)),
            ("raw.daily", "raw", "globex", date(2026, 3, 14), 3, 3, date(2026, 3, 15)),
        ]
        again, _ = apply_retention(con, LIMITS, AS_OF, "run-2")
        assert sum(d.rows for d in again) == 0
        assert con.execute(LOG).fetchall() == first
        assert con.execute("SELECT DISTINCT run_id FROM raw.retention_log").fetchall() == [("run-1",)]


def test_a_family_with_a_limit_and_no_day_column_is_kept_whole_and_said_so(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    with duckdb.connect(str(path)) as con:
        deleted, whole = apply_retention(con, RetentionMonths(facts=3), AS_OF, "run-1")
        assert whole == ["facts.price_book"]
        assert {d.table: d.rows for d in deleted} == {"facts.cost": 1}
        assert con.execute("SELECT count(*) FROM facts.price_book").fetchone() == (1,)


def test_every_declared_table_is_dated_except_the_price_book_and_the_organization_pins(tmp_path):
    """A new table with no day column fails here until retention knows how to date it (``DATED_BY``)."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        for table in declared_tables():
            ensure(con, table)
        dated = dated_tables(con)
    assert len(dated) >= 30
    assert [d.table for d in dated if d.day is None] == ["facts.price_book", "raw.organization_identity"]


def _config(**months) -> ProjectConfig:
    return ProjectConfig(
        organizations=(OrgConfig(slug="acme", kind="console", key_env="K"),),
        privacy=PrivacySettings(retention_months=RetentionMonths(**months)),
    )


def test_the_job_logs_its_run_and_reports_what_it_deleted(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    job = retention_job(_config(raw=3, inventory=3, insights=3))
    result = job.execute_in_process(
        run_config={"ops": {"apply_retention": {"config": {"as_of": AS_OF.isoformat()}}}},
        resources={"duckdb": Warehouse(database=str(path))},
    )
    assert result.success
    [output] = [e for e in result.all_node_events if e.is_successful_output]
    meta = output.event_specific_data.metadata
    assert meta["rows_deleted"].value == 10
    assert meta["rows_deleted_by_table"].value["raw.daily"] == 6
    assert "raw.daily" in meta["retention_log"].value
    with duckdb.connect(str(path)) as con:
        assert con.execute("SELECT DISTINCT run_id FROM raw.retention_log").fetchall() == [(result.run_id,)]


def test_retention_is_off_by_default():
    off = _config()
    assert retention_schedule(off, retention_job(off)).default_status == dg.DefaultScheduleStatus.STOPPED
    on = _config(raw=13)
    assert retention_schedule(on, retention_job(on)).default_status == dg.DefaultScheduleStatus.RUNNING


def test_with_no_limit_nothing_is_deleted(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    with duckdb.connect(str(path)) as con:
        deleted, whole = apply_retention(con, RetentionMonths(), AS_OF, "run-1")
        assert (deleted, whole) == ([], [])
        assert con.execute("SELECT count(*) FROM raw.retention_log").fetchone() == (0,)


@pytest.mark.bad_input
def test_a_limit_below_one_month_is_refused_with_its_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "organizations:\n  - {slug: acme, kind: console, key_env: K}\nprivacy:\n  retention_months:\n    raw: 0\n",
        encoding="utf-8",
    )
    with pytest.raises(
        ConfigError, match=r"c\.yaml:5: privacy\.retention_months\.raw: .*greater than or equal to 1"
    ):
        load_file(path)

"""A money field the API sends that is not a decimal number of cents fails the run naming the table, the
request, the field, the value, the organization and the day; nothing of its window is written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from claude_assets.ingest.enterprise_engagement.layout import Field, Layout, parse_record
from claude_assets.ingest.enterprise_engagement.tables import ENTERPRISE_SUMMARY
from claude_assets.ingest.staging import values_of
from claude_assets.warehouse.contract import MONEY, BadValue, cents_to_usd, col
from simulator.routes import console as console_routes
from simulator.routes.reports import per_user as per_user_routes
from simulator.serve import serve_in_thread
from tests import test_e2e_console as console_e2e
from tests import test_enterprise_reports as reports_e2e
from tests.conftest import make_sim

NOT_MONEY = ["12.3.4", "NaN", "", "1e400", "Infinity", "-sNaN", "0.0000000000001", True, [1], {"amount": 1}]


@pytest.mark.parametrize(
    ("cents", "usd"),
    [
        ("1834.52180", "18.3452180"),  # the reference's decimal string of cents
        ("41280.000000", "412.80000000"),
        (312, "3.12"),  # Claude Code's estimated_cost.amount is a number
        (Decimal("12.5"), "0.125"),  # JSON numbers are parsed as Decimal
        ("-5", "-0.05"),
        (None, None),
    ],
)
def test_cents_become_exact_usd(cents, usd):
    assert cents_to_usd(cents) == usd


@pytest.mark.bad_input
@pytest.mark.parametrize("cents", NOT_MONEY)
def test_anything_but_a_decimal_number_of_cents_is_refused_naming_field_and_value(cents):
    with pytest.raises(BadValue) as caught:
        cents_to_usd(cents, "list_amount")
    message = str(caught.value)
    assert f"field list_amount = {cents!r}" in message
    assert f"is not a decimal number of cents that fits {MONEY}" in message
    assert "re-run" in message


@pytest.mark.bad_input
@pytest.mark.parametrize("value", ["12.3.4", "NaN", "Infinity", "1.5", True])
def test_an_engagement_integer_that_is_not_one_is_named_with_its_record(value):
    layout = Layout((Field("core.sessions", col("sessions", "BIGINT"), "int"),))
    with (
        pytest.raises(BadValue) as caught,
        values_of(ENTERPRISE_SUMMARY, "GET /x?date=2026-11-01", "acme", "2026-11-01"),
    ):
        parse_record({"core": {"sessions": value}}, layout)
    assert str(caught.value).startswith(
        f"raw.enterprise_summary: GET /x?date=2026-11-01: organization acme, day 2026-11-01: "
        f"field core.sessions = {value!r} is not an integer"
    )


def _failure(result: dg.ExecuteInProcessResult) -> str:
    return " ".join(str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure)


def _rows(warehouse, table: str) -> int:
    if not warehouse.exists():
        return 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name || '.' || table_name = ?", [table]
        ).fetchone()[0]:
            return 0
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.bad_input
def test_a_console_cost_amount_that_is_not_a_number_fails_the_run_naming_it(tmp_path, monkeypatch):
    monkeypatch.setattr(console_routes, "format_cents", lambda microcents: "12.3.4")
    sim = make_sim()
    for slug in console_e2e.ORGS:
        monkeypatch.setenv(console_e2e.key_env(slug), sim.world.by_slug(slug).api_key)
    warehouse = tmp_path / "w.duckdb"
    with serve_in_thread(sim) as server:
        result = console_e2e.materialize(server.base_url, warehouse, date(2026, 11, 10), date(2026, 11, 11))
    assert not result.success
    message = _failure(result)
    for part in (
        "raw.console_cost: GET /v1/organizations/cost_report?",
        "organization acme-console, day 2026-11-10",
        "field amount = '12.3.4' is not a decimal number of cents",
    ):
        assert part in message, (part, message)
    assert "InvalidOperation" not in message
    assert _rows(warehouse, "raw.console_cost") == 0


@pytest.mark.bad_input
def test_an_enterprise_per_user_amount_that_is_not_a_number_fails_the_run_naming_it(tmp_path, monkeypatch):
    monkeypatch.setattr(per_user_routes, "format_cents", lambda microcents: "NaN")
    with serve_in_thread(make_sim()) as server:
        monkeypatch.setenv(reports_e2e.KEY_ENV, server.sim.world.by_slug(reports_e2e.ORG).api_key)
        warehouse = tmp_path / "w.duckdb"
        result = reports_e2e.materialize(
            reports_e2e.config(server),
            warehouse,
            date(2026, 11, 10),
            date(2026, 11, 11),
            select=("enterprise_user_cost",),
        )
    assert not result.success
    message = _failure(result)
    for part in (
        "raw.enterprise_user_cost: GET /v1/organizations/analytics/user_cost_report?",
        f"organization {reports_e2e.ORG}, day 2026-11-10",
        "field amount = 'NaN' is not a decimal number of cents",
    ):
        assert part in message, (part, message)
    assert _rows(warehouse, "raw.enterprise_user_cost") == 0

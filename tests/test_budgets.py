"""Budgets: the budget file (errors by file, line and field, nothing written), periods, versions, the forecast
and the crossings of insights.budget_status / insights.budget_crossings, on constructed facts."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from checks import budgets as budget_checks
from checks.window import SchemaViolation, validate
from claude_assets.config import OrgConfig, ProjectConfig, load_file
from claude_assets.facts.tables import COST_ALLOCATION, FACTS_COST
from claude_assets.insights.budgets import status
from claude_assets.insights.budgets.assets import budget_assets
from claude_assets.insights.budgets.file import BudgetFileError, load_budgets
from claude_assets.insights.budgets.forecast import forecast
from claude_assets.insights.budgets.periods import period_bounds
from claude_assets.insights.budgets.tables import BUDGET_CROSSINGS, BUDGET_STATUS
from claude_assets.warehouse.writes import INGEST_LOG, ensure, ensure_ingest_log

ORGS = ("acme", "beta")


def _file(tmp_path: Path, body: str, name: str = "budgets.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    return path


def _budgets(tmp_path: Path, body: str):
    return load_budgets(_file(tmp_path, body), ORGS)


def _spend(con, org: str, start: date, end: date, usd, model: str = "claude-opus-4-5", product=None) -> None:
    """Billed facts.cost lines of ``org``: ``usd`` (a number or day -> number) on each day of [start, end]."""
    ensure(con, FACTS_COST)
    d = start
    while d <= end:
        amount = usd(d) if callable(usd) else usd
        con.execute(
            f"""INSERT INTO {FACTS_COST.qualified} (org_id, usage_date, org_kind, source, source_grain,
                charge_kind, model, product, currency, billed_cost_usd, effective_cost_usd, fetched_at,
                source_request)
                VALUES (?, ?, 'console', 'raw.console_cost', 'day', 'billed', ?, ?, 'USD', ?, ?, now(), 'test')""",
            [org, d, model, product, str(amount), str(amount)],
        )
        d += timedelta(days=1)


def _log(con, org: str, start: date, end: date, state: str) -> None:
    """raw.ingest_log rows of raw.console_cost for ``org`` on [start, end], all with status ``state``."""
    ensure_ingest_log(con)
    d = start
    while d <= end:
        con.execute(
            f"""INSERT INTO {INGEST_LOG.qualified} (table_name, org_id, usage_date, row_count, fetched_at,
                provisional, status) VALUES ('raw.console_cost', ?, ?, 1, now(), ?, ?)""",
            [org, d, state == "provisional", state],
        )
        d += timedelta(days=1)


def _run(con, budgets, start: date, end: date) -> None:
    """Judge the days [start, end] and write them, as the asset does."""
    ranges = [(start, end + timedelta(days=1))]
    frame, _ = status.status_frame(con, budgets, ranges)
    status.write(
        con,
        frame,
        ranges,
        lambda f: validate(budget_checks.status_schema(BUDGET_STATUS), BUDGET_STATUS, f),
        lambda f: validate(budget_checks.crossings_schema(BUDGET_CROSSINGS), BUDGET_CROSSINGS, f),
    )


def _row(con, budget: str, day: date, pct: int = 100) -> dict:
    cur = con.execute(
        f"SELECT * FROM {BUDGET_STATUS.qualified} WHERE budget = ? AND usage_date = ? AND threshold_pct = ?",
        [budget, day, pct],
    )
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def _crossings(con) -> list[tuple]:
    return con.execute(
        f"SELECT budget, period_start, threshold_pct, basis, first_crossed_on, crossing_id "
        f"FROM {BUDGET_CROSSINGS.qualified} ORDER BY ALL"
    ).fetchall()


def _all(con, table) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table.qualified} ORDER BY ALL").fetchall()


MONTHLY_1000 = """
budgets:
  - name: team
    scope: {organization: acme}
    period: month
    amount_usd: "1000"
    thresholds_pct: [50, 100]
    effective_from: 2026-01-01
"""


# -- the budget file -------------------------------------------------------------------------------------

BAD_FILES = [
    (  # missing amount: the entry's line
        """
        budgets:
          - name: team
            scope: {organization: acme}
            period: month
            effective_from: 2026-01-01
        """,
        2,
        "budgets[0].amount_usd",
    ),
    (
        """
        budgets:
          - name: team
            scope: {organization: acme}
            period: week
            amount_usd: "10"
            effective_from: 2026-01-01
        """,
        4,
        "budgets[0].period",
    ),
    (
        """
        budgets:
          - name: team
            scope: {organization: acme}
            period: month
            amount_usd: "10"
            thresholds_pct: [80, 50]
            effective_from: 2026-01-01
        """,
        6,
        "budgets[0].thresholds_pct",
    ),
    (
        """
        budgets:
          - name: team
            scope:
              - {model: claude-opus-4*}
              - {organization: nosuch}
            period: month
            amount_usd: "10"
            effective_from: 2026-01-01
        """,
        5,
        "budgets[0].scope[1].organization",
    ),
    (
        """
        budgets:
          - name: team
            scope: {api_key: apikey_01, product: claude_code}
            period: month
            amount_usd: "10"
            effective_from: 2026-01-01
        """,
        3,
        "budgets[0].scope",
    ),
    (
        """
        budgets:
          - name: team
            scope: {organization: acme}
            period: month
            amount_usd: "10"
            effective_from: 2026-01-01
            effective_to: 2026-03-31
          - name: team
            scope: {organization: acme}
            period: month
            amount_usd: "20"
            effective_from: 2026-03-01
        """,
        12,
        "budgets[1].effective_from",
    ),
    (
        """
        budgets:
          - name: team
            scope: {organization: acme}
            period: month
            amount_usd: "1.0000000000001"
            effective_from: 2026-01-01
        """,
        5,
        "budgets[0].amount_usd",
    ),
    (
        """
        budgets:
          - name: team
            scope: {organization: acme}
            period: month
            amount_usd: "10"
            effective_from: 2026-02-30
        """,
        6,
        "budgets[0].effective_from",
    ),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(("body", "line", "field"), BAD_FILES)
def test_a_budget_file_error_names_file_line_and_field(tmp_path, body, line, field):
    path = _file(tmp_path, body)
    with pytest.raises(BudgetFileError) as err:
        load_budgets(path, ORGS)
    assert f"{path}:{line}: {field}:" in str(err.value)
    assert "nothing was written" in str(err.value)


@pytest.mark.bad_input
def test_the_configuration_refuses_a_missing_budget_file(tmp_path):
    config = _file(
        tmp_path,
        """
        organizations:
          - {slug: acme, kind: console, key_env: ACME_KEY}
        budgets_file: nowhere.yaml
        """,
        "config.yaml",
    )
    with pytest.raises(ValueError, match=r"config.yaml:3: budgets_file: .*no such file: .*nowhere.yaml"):
        load_file(config)


def test_the_budgets_file_is_read_relative_to_the_configuration(tmp_path):
    _file(tmp_path, MONTHLY_1000)
    config = _file(
        tmp_path,
        """
        organizations:
          - {slug: acme, kind: console, key_env: ACME_KEY}
        budgets_file: budgets.yaml
        """,
        "config.yaml",
    )
    assert load_file(config).budgets_file == tmp_path / "budgets.yaml"


# -- periods and versions --------------------------------------------------------------------------------


def test_period_bounds_of_months_and_quarters():
    assert period_bounds("month", date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_bounds("month", date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert period_bounds("quarter", date(2026, 3, 31)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert period_bounds("quarter", date(2026, 11, 2)) == (date(2026, 10, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("period", "last", "first", "spend_last", "spend_first"),
    [
        ("month", date(2026, 3, 31), date(2026, 4, 1), Decimal(31 * 10), Decimal(10)),
        ("quarter", date(2026, 3, 31), date(2026, 4, 1), Decimal(90 * 10), Decimal(10)),
    ],
)
def test_spend_to_date_starts_again_at_each_period(tmp_path, period, last, first, spend_last, spend_first):
    budgets = _budgets(
        tmp_path,
        f"""
        budgets:
          - name: team
            scope: {{organization: acme}}
            period: {period}
            amount_usd: "300"
            thresholds_pct: [100]
            effective_from: 2026-01-01
        """,
    )
    con = duckdb.connect()
    _spend(con, "acme", date(2026, 1, 1), date(2026, 4, 30), 10)
    _run(con, budgets, last, first)
    before, after = _row(con, "team", last), _row(con, "team", first)
    assert (before["spend_to_date_usd"], after["spend_to_date_usd"]) == (spend_last, spend_first)
    assert after["period_start"] == date(2026, 4, 1)
    assert before["crossed_actual"] and not after["crossed_actual"]
    assert after["first_crossed_actual_on"] is None  # the new period has not crossed yet
    assert {(c[1], c[3]) for c in _crossings(con) if c[3] == "actual"} == {(before["period_start"], "actual")}


def test_a_budget_changed_mid_period_judges_the_days_from_its_change_and_keeps_the_days_before(tmp_path):
    budgets = _budgets(
        tmp_path,
        """
        budgets:
          - name: team
            scope: {organization: acme}
            period: month
            amount_usd: "1000"
            thresholds_pct: [50]
            effective_from: 2026-01-01
          - name: team
            scope: {organization: acme}
            period: month
            amount_usd: "2000"
            thresholds_pct: [50]
            effective_from: 2026-03-15
        """,
    )
    con = duckdb.connect()
    _spend(con, "acme", date(2026, 3, 1), date(2026, 3, 31), 50)
    _run(con, budgets, date(2026, 3, 1), date(2026, 3, 20))
    day10, day15 = _row(con, "team", date(2026, 3, 10), 50), _row(con, "team", date(2026, 3, 15), 50)
    assert (day10["amount_usd"], day10["crossed_actual"]) == (Decimal(1000), True)  # 500 of 1000
    assert day10["version_effective_from"] == date(2026, 1, 1)
    assert (day15["amount_usd"], day15["spend_to_date_usd"], day15["crossed_actual"]) == (
        Decimal(2000),
        Decimal(750),  # the whole period's spend, against the new amount
        False,
    )
    assert day15["first_crossed_actual_on"] == date(2026, 3, 10)  # what happened stays
    before = _all(con, BUDGET_STATUS)
    _run(con, budgets, date(2026, 3, 10), date(2026, 3, 10))  # the past re-run after the change
    assert _all(con, BUDGET_STATUS) == before
    actual = [c for c in _crossings(con) if c[3] == "actual"]
    assert [(c[4]) for c in actual] == [date(2026, 3, 10)]
    amount = con.execute(
        f"SELECT amount_usd FROM {BUDGET_CROSSINGS.qualified} WHERE basis = 'actual'"
    ).fetchone()
    assert amount == (Decimal(1000),)


# -- the forecast ----------------------------------------------------------------------------------------


def test_the_forecast_follows_the_weekdays():
    # four weeks of 100 USD on weekdays and nothing at weekends, judged on Friday 2026-03-27
    day, end = date(2026, 3, 27), date(2026, 3, 31)
    daily = {
        d: Decimal(100) if d.weekday() < 5 else Decimal(0)
        for d in (day - timedelta(days=i) for i in range(28))
    }
    f = forecast(daily, Decimal(1000), day, end, date(2026, 1, 1))
    # remaining: Sat, Sun (0) and Mon, Tue (100 each); the pattern is exact, so the interval is a point
    assert f.expected_usd == Decimal(1200)
    assert f.low_usd == f.high_usd == Decimal(1200)
    assert "weekday factors" in f.method and "no weekday" not in f.method


def test_the_forecast_interval_widens_with_noise_and_never_drops_below_spend():
    day, end = date(2026, 3, 10), date(2026, 3, 31)
    daily = {day - timedelta(days=i): Decimal(100 + (37 * i) % 60 - 30) for i in range(28)}
    f = forecast(daily, Decimal(500), day, end, date(2026, 1, 1))
    assert Decimal(500) <= f.low_usd < f.expected_usd < f.high_usd
    flat = forecast(dict.fromkeys(daily, Decimal(100)), Decimal(500), day, end, date(2026, 1, 1))
    assert flat.low_usd == flat.expected_usd == flat.high_usd == Decimal(500 + 21 * 100)


def test_the_forecast_crosses_before_the_actual_spend(tmp_path):
    budgets = _budgets(tmp_path, MONTHLY_1000)
    con = duckdb.connect()
    _spend(con, "acme", date(2026, 2, 1), date(2026, 3, 31), 40)  # 1240 a 31-day month
    _run(con, budgets, date(2026, 3, 1), date(2026, 3, 31))
    firsts = {(c[2], c[3]): c[4] for c in _crossings(con) if c[1] == date(2026, 3, 1)}
    assert firsts[(Decimal(100), "actual")] == date(2026, 3, 25)  # 25 x 40 = 1000
    assert firsts[(Decimal(100), "forecast")] == date(2026, 3, 1)  # 40 a day reaches 1240 by the 31st
    assert firsts[(Decimal(100), "forecast")] < firsts[(Decimal(100), "actual")]
    text = con.execute(
        f"SELECT explanation FROM {BUDGET_CROSSINGS.qualified} WHERE basis = 'forecast' AND threshold_pct = 100 "
        "AND period_start = '2026-03-01'"
    ).fetchone()[0]
    assert "forecast $1,240.00" in text and "100% of the $1,000.00 budget" in text


# -- settledness -----------------------------------------------------------------------------------------


def test_spend_on_days_not_yet_settled_is_counted_and_labelled(tmp_path):
    budgets = _budgets(tmp_path, MONTHLY_1000)
    con = duckdb.connect()
    _spend(con, "acme", date(2026, 3, 1), date(2026, 3, 7), 10)
    _log(con, "acme", date(2026, 3, 1), date(2026, 3, 5), "settled")
    _log(con, "acme", date(2026, 3, 6), date(2026, 3, 6), "revisable")
    _log(con, "acme", date(2026, 3, 7), date(2026, 3, 7), "provisional")
    frame, unsettled = status.status_frame(con, budgets, [(date(2026, 3, 7), date(2026, 3, 8))])
    row = frame.iloc[0]
    assert (row["spend_to_date_usd"], row["unsettled_spend_usd"], row["unsettled_days"]) == (
        Decimal(70),
        Decimal(20),
        2,
    )
    assert unsettled == {"acme": [date(2026, 3, 6), date(2026, 3, 7)]}


# -- scopes ----------------------------------------------------------------------------------------------


def test_a_list_scope_counts_spend_matching_two_selectors_once(tmp_path):
    budgets = _budgets(
        tmp_path,
        """
        budgets:
          - name: opus
            scope: [{model: claude-opus-4*}, {organization: acme}]
            period: month
            amount_usd: "1000"
            effective_from: 2026-01-01
        """,
    )
    con = duckdb.connect()
    _spend(con, "acme", date(2026, 3, 1), date(2026, 3, 1), 10, model="claude-opus-4-5")  # both selectors
    _spend(con, "beta", date(2026, 3, 1), date(2026, 3, 1), 5, model="claude-opus-4-1")  # the model only
    _spend(con, "beta", date(2026, 3, 1), date(2026, 3, 1), 7, model="claude-sonnet-4-5")  # neither
    frame, _ = status.status_frame(con, budgets, [(date(2026, 3, 1), date(2026, 3, 2))])
    assert frame.iloc[0]["spend_to_date_usd"] == Decimal(15)


def test_an_api_key_scope_is_summed_from_the_allocation(tmp_path):
    budgets = _budgets(
        tmp_path,
        """
        budgets:
          - name: key
            scope: {organization: acme, api_key: apikey_01}
            period: month
            amount_usd: "100"
            effective_from: 2026-01-01
        """,
    )
    con = duckdb.connect()
    ensure(con, COST_ALLOCATION)
    for key, usd in (("apikey_01", "3.25"), ("apikey_02", "9")):
        con.execute(
            f"""INSERT INTO {COST_ALLOCATION.qualified} (org_id, usage_date, org_kind, parent_line, source,
                parent_billed_cost_usd, allocated_to_kind, api_key_id, share, allocated_cost_usd, basis,
                users_scaled, source_tables, fetched_at, source_request)
                VALUES ('acme', '2026-03-01', 'console', 'line', 'raw.console_cost', 12.25, 'api_key', ?, 0.5,
                        ?, 'tokens', false, 'raw.console_usage', now(), 'test')""",
            [key, usd],
        )
    frame, _ = status.status_frame(con, budgets, [(date(2026, 3, 1), date(2026, 3, 2))])
    assert frame.iloc[0]["spend_to_date_usd"] == Decimal("3.25")
    assert frame.iloc[0]["spend_source"] == "facts.cost_allocation"


# -- re-runs ---------------------------------------------------------------------------------------------


def test_a_re_run_changes_nothing_and_keeps_every_crossing(tmp_path):
    budgets = _budgets(tmp_path, MONTHLY_1000)
    con = duckdb.connect()
    _spend(con, "acme", date(2026, 2, 1), date(2026, 3, 31), 40)
    _run(con, budgets, date(2026, 3, 1), date(2026, 3, 31))
    status_rows, crossings = _all(con, BUDGET_STATUS), _all(con, BUDGET_CROSSINGS)
    assert crossings
    _run(con, budgets, date(2026, 3, 1), date(2026, 3, 31))
    _run(con, budgets, date(2026, 3, 25), date(2026, 3, 25))  # the day of the actual crossing alone
    _run(con, budgets, date(2026, 3, 30), date(2026, 3, 31))  # later days alone
    assert _all(con, BUDGET_STATUS) == status_rows
    assert _all(con, BUDGET_CROSSINGS) == crossings


def test_days_filled_in_later_move_a_first_crossing_to_the_day_it_happened(tmp_path):
    budgets = _budgets(tmp_path, MONTHLY_1000)
    con = duckdb.connect()
    _spend(con, "acme", date(2026, 2, 1), date(2026, 3, 31), 40)
    _run(con, budgets, date(2026, 3, 28), date(2026, 3, 28))  # only a late day judged so far
    first = {(c[2], c[3]): (c[4], c[5]) for c in _crossings(con)}
    assert first[(Decimal(100), "actual")][0] == date(2026, 3, 28)
    _run(con, budgets, date(2026, 3, 1), date(2026, 3, 27))  # the backfill of the days before
    after = {(c[2], c[3]): (c[4], c[5]) for c in _crossings(con)}
    assert after[(Decimal(100), "actual")] == (date(2026, 3, 25), first[(Decimal(100), "actual")][1])
    assert _row(con, "team", date(2026, 3, 28))["first_crossed_actual_on"] == date(2026, 3, 25)


# -- the asset -------------------------------------------------------------------------------------------


def _config(budgets_file: Path) -> ProjectConfig:
    return ProjectConfig(
        organizations=(
            OrgConfig(slug="acme", kind="console", key_env="ACME_KEY", history_start=date(2026, 1, 1)),
        ),
        budgets_file=budgets_file,
    )


def _materialize(config_or_assets, database: Path, first: date, last: date):
    assets = config_or_assets if isinstance(config_or_assets, list) else budget_assets(config_or_assets)
    return dg.materialize(
        assets,
        resources={"duckdb": DuckDBResource(database=str(database))},
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=False,
    )


def test_the_asset_writes_status_and_crossings_once_and_names_the_days_waiting_to_settle(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        _spend(con, "acme", date(2026, 2, 1), date(2026, 3, 31), 40)
        _log(con, "acme", date(2026, 2, 1), date(2026, 3, 29), "settled")
        _log(con, "acme", date(2026, 3, 30), date(2026, 3, 31), "revisable")
    config = _config(_file(tmp_path, MONTHLY_1000))
    runs = [_materialize(config, database, date(2026, 3, 1), date(2026, 3, 31)) for _ in range(2)]
    assert all(r.success for r in runs)
    checks = [e for e in runs[1].get_asset_check_evaluations()]
    assert checks and all(e.passed for e in checks)
    meta = {
        m.asset_key.path[-1]: m.metadata
        for m in runs[1].asset_materializations_for_node("insights_budget_status")
    }
    assert "acme`: 2 day(s), 2026-03-30 → 2026-03-31" in meta["budget_status"]["run_waiting_to_settle"].value
    assert meta["budget_status"]["run_team spend_to_date_usd_exact"].value == "1240.000000000000"
    with duckdb.connect(str(database)) as con:
        assert con.execute(f"SELECT count(*) FROM {BUDGET_CROSSINGS.qualified}").fetchone()[0] == 4
        assert _row(con, "team", date(2026, 3, 31))["unsettled_spend_usd"] == Decimal(80)


@pytest.mark.bad_input
def test_a_budget_file_broken_after_loading_fails_the_run_and_writes_nothing(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        _spend(con, "acme", date(2026, 3, 1), date(2026, 3, 31), 40)
    path = _file(tmp_path, MONTHLY_1000)
    config = _config(path)
    loaded = budget_assets(config)  # the code location loaded while the file was valid
    assert _materialize(loaded, database, date(2026, 3, 1), date(2026, 3, 10)).success
    with duckdb.connect(str(database)) as con:
        before = _all(con, BUDGET_STATUS), _all(con, BUDGET_CROSSINGS)
    path.write_text(MONTHLY_1000.replace('amount_usd: "1000"', "amount_usd: lots"))
    result = _materialize(loaded, database, date(2026, 3, 1), date(2026, 3, 20))
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"{path}:6: budgets[0].amount_usd" in str(failure.event_specific_data.error)
    with duckdb.connect(str(database)) as con:
        assert (_all(con, BUDGET_STATUS), _all(con, BUDGET_CROSSINGS)) == before
    with pytest.raises(BudgetFileError, match=r"budgets\.yaml:6: budgets\[0\]\.amount_usd"):
        budget_assets(config)  # and the code location refuses to load


def test_too_little_history_makes_no_forecast():
    day = date(2026, 3, 3)
    daily = {date(2026, 3, 1): Decimal(500), date(2026, 3, 2): Decimal(500), day: Decimal(500)}
    f = forecast(daily, Decimal(1500), day, date(2026, 3, 31), date(2026, 3, 1))
    assert f.expected_usd == f.low_usd == f.high_usd == Decimal(1500)
    assert "no forecast" in f.method


def test_no_version_judges_the_days_before_the_first_one(tmp_path):
    budgets = _budgets(tmp_path, MONTHLY_1000.replace("2026-01-01", "2026-03-10"))
    con = duckdb.connect()
    _spend(con, "acme", date(2026, 3, 1), date(2026, 3, 31), 50)
    frame, _ = status.status_frame(con, budgets, [(date(2026, 3, 1), date(2026, 3, 13))])
    assert sorted(set(frame["usage_date"])) == [date(2026, 3, d) for d in (10, 11, 12)]
    assert frame.iloc[0]["spend_to_date_usd"] == Decimal(500)  # the period's spend from its first day


@pytest.mark.bad_input
def test_a_status_row_that_breaks_the_schema_writes_nothing(tmp_path):
    budgets = _budgets(tmp_path, MONTHLY_1000)
    con = duckdb.connect()
    _spend(con, "acme", date(2026, 3, 1), date(2026, 3, 31), 40)
    _run(con, budgets, date(2026, 3, 1), date(2026, 3, 10))
    before = _all(con, BUDGET_STATUS), _all(con, BUDGET_CROSSINGS)
    ranges = [(date(2026, 3, 1), date(2026, 3, 21))]
    frame, _ = status.status_frame(con, budgets, ranges)
    frame.loc[frame.index[-1], "unsettled_spend_usd"] = Decimal(10**6)  # more than was spent
    with pytest.raises(SchemaViolation, match="unsettled <= spend to date"):
        status.write(
            con,
            frame,
            ranges,
            lambda f: validate(budget_checks.status_schema(BUDGET_STATUS), BUDGET_STATUS, f),
            lambda f: validate(budget_checks.crossings_schema(BUDGET_CROSSINGS), BUDGET_CROSSINGS, f),
        )
    assert (_all(con, BUDGET_STATUS), _all(con, BUDGET_CROSSINGS)) == before


def test_the_demo_budgets_name_what_the_demo_world_has():
    from demo.settings import world

    w = world()
    budgets = load_budgets(Path("demo/budgets.yaml"), [o.slug for o in w.organizations])
    names = {b.name for b in budgets}
    assert {"acme-console-monthly", "acme-enterprise-quarterly", "eval-key", "support-bot-workspace"} <= names
    ids = {
        *(k.id for o in w.organizations for k in o.api_keys),
        *(x.id for o in w.organizations for x in o.workspaces),
    }
    for budget in budgets:
        for version, _ in budget.versions:
            for selector in version.scope:
                for named in (selector.api_key, selector.workspace):
                    assert named is None or named in ids, f"{budget.name}: {named} is not in the demo world"


def test_the_budget_summary_prints_status_and_crossings(tmp_path):
    from rich.console import Console

    from demo.budget_summary import budget_status

    budgets = _budgets(tmp_path, MONTHLY_1000)
    con = duckdb.connect()
    assert "not built" in str(budget_status(con)[0])
    _spend(con, "acme", date(2026, 2, 1), date(2026, 3, 31), 40)
    _run(con, budgets, date(2026, 3, 1), date(2026, 3, 10))
    out = Console(width=400, record=True)
    for part in budget_status(con):
        out.print(part)
    text = out.export_text()
    assert "$400.00 (40%)" in text  # spend to date on 2026-03-10
    assert "$1,240.00" in text  # the forecast: 40 a day over 31 days
    assert "100% on 2026-03-01" in text  # crossed on forecast since the first

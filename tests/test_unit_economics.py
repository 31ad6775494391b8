"""insights.unit_economics_daily and _monthly on constructed data: every expected figure is computed here from
the rows the test writes (costs, users, seats, Claude Code work), never read back from the code."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import duckdb
import pytest

from checks.window import SchemaViolation, validate
from claude_assets.facts.tables import FACTS_COST
from claude_assets.ingest.console.tables import CLAUDE_CODE_MODELS, CLAUDE_CODE_USAGE, CONSOLE_COST
from claude_assets.ingest.enterprise_engagement.tables import ENTERPRISE_SUMMARY, ENTERPRISE_USER_ACTIVITY
from claude_assets.ingest.enterprise_reports.tables import ENTERPRISE_COST
from claude_assets.insights.unit_economics import checks
from claude_assets.insights.unit_economics.daily import lookback_start, rebuild_daily
from claude_assets.insights.unit_economics.days import usable_days, waiting_days
from claude_assets.insights.unit_economics.frames import frame_of
from claude_assets.insights.unit_economics.monthly import rebuild_monthly
from claude_assets.insights.unit_economics.ratios import per
from claude_assets.insights.unit_economics.schemas import DAILY_SCHEMA
from claude_assets.insights.unit_economics.tables import UNIT_ECONOMICS_DAILY, UNIT_ECONOMICS_MONTHLY
from claude_assets.warehouse.contract import MONEY, Table
from claude_assets.warehouse.writes import INGEST_LOG, ensure, ensure_ingest_log

ENT, CON = "ent", "con"
KINDS = {ENT: "enterprise", CON: "console"}
MARCH = [date(2026, 3, 1) + timedelta(days=i) for i in range(31)]
APRIL_1 = date(2026, 4, 1)
Q = Decimal("0.000000000001")

# -- the constructed world --------------------------------------------------------------------------------------
LINE_2 = Decimal("1.000000000007")
SEATS = 40
WAU = 20
#: Enterprise members and the days of March (1-based) each was active
ACTIVE = {"u1": set(range(1, 32)), "u2": {1, 15}, "u3": {3, 10, 20}, "u4": {2, 9, 16, 23}, "u5": {31}}
CONSOLE_BILLED = Decimal("3.300000000001")
CONSOLE_ESTIMATE = Decimal("1.25")
CONSOLE_ACTORS = {
    "a1": {"sessions": 2, "commits": 1, "edits": 3},
    "a2": {"sessions": 5, "commits": 0, "edits": 4},
}
#: a Console day whose cost report is still revisable: it waits, and every trailing window over it is unknown
CONSOLE_REVISABLE = date(2026, 3, 10)


def line_1(day: date) -> Decimal:
    return Decimal(day.day) + Decimal("0.125")


def ent_cost(day: date) -> Decimal:
    return line_1(day) + LINE_2


def ent_claude_code_cost(day: date) -> Decimal:
    return Decimal("0.5") + LINE_2


def dau(day: date) -> int:
    return 0 if day.day == 2 else 10 + day.day % 3


def mau(day: date) -> int:
    return 25 + day.day % 2


def quantized(x: Decimal) -> Decimal:
    return x.quantize(Q, rounding=ROUND_HALF_EVEN)


def put(con: duckdb.DuckDBPyConnection, table: Table, rows: list[dict]) -> None:
    """Insert rows naming some columns; the NOT NULL columns they leave out get a neutral value."""
    ensure(con, table)
    neutral = {
        "VARCHAR": "x",
        "BIGINT": 0,
        "BOOLEAN": False,
        "TIMESTAMPTZ": "2026-06-01T00:00:00Z",
        MONEY: "0",
    }
    for row in rows:
        values = {c.name: neutral.get(c.type, "0") for c in table.columns if not c.nullable}
        values.update(row)
        names = list(values)
        con.execute(
            f"INSERT INTO {table.qualified} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            [str(v) if isinstance(v, Decimal) else v for v in values.values()],
        )


def log(con, table: Table, org: str, day: date, status: str = "settled") -> None:
    ensure_ingest_log(con)
    put(
        con,
        INGEST_LOG,
        [
            {
                "table_name": table.qualified,
                "org_id": org,
                "usage_date": day,
                "provisional": status == "provisional",
                "status": status,
            }
        ],
    )


@pytest.fixture
def con():
    c = duckdb.connect()
    for day in MARCH:
        # Enterprise: two billed lines, an estimate that is never billed money, the product split of the bill
        put(
            con := c,
            FACTS_COST,
            [
                {
                    "org_id": ENT,
                    "usage_date": day,
                    "org_kind": "enterprise",
                    "source": "raw.enterprise_cost",
                    "charge_kind": "billed",
                    "description": "l1",
                    "currency": "USD",
                    "billed_cost_usd": line_1(day),
                },
                {
                    "org_id": ENT,
                    "usage_date": day,
                    "org_kind": "enterprise",
                    "source": "raw.enterprise_cost",
                    "charge_kind": "billed",
                    "description": "l2",
                    "currency": "USD",
                    "billed_cost_usd": LINE_2,
                },
                {
                    "org_id": CON,
                    "usage_date": day,
                    "org_kind": "console",
                    "source": "raw.console_cost",
                    "charge_kind": "billed",
                    "description": "c1",
                    "currency": "USD",
                    "billed_cost_usd": CONSOLE_BILLED,
                },
                {
                    "org_id": CON,
                    "usage_date": day,
                    "org_kind": "console",
                    "source": "raw.claude_code_model_usage",
                    "charge_kind": "estimate",
                    "description": "cc",
                    "currency": "USD",
                    "product": "claude_code",
                    "estimated_cost_usd": CONSOLE_ESTIMATE,
                },
            ],
        )
        put(
            con,
            ENTERPRISE_COST,
            [
                {
                    "org_id": ENT,
                    "usage_date": day,
                    "grouping": "product_model",
                    "product": "chat",
                    "amount_usd": line_1(day) - Decimal("0.5"),
                },
                {
                    "org_id": ENT,
                    "usage_date": day,
                    "grouping": "product_model",
                    "product": "claude_code",
                    "amount_usd": ent_claude_code_cost(day),
                },
            ],
        )
        put(
            con,
            ENTERPRISE_SUMMARY,
            [
                {
                    "org_id": ENT,
                    "usage_date": day,
                    "starting_at": f"{day}T00:00:00Z",
                    "ending_at": f"{day}T23:59:59Z",
                    "daily_active_user_count": dau(day),
                    "weekly_active_user_count": WAU,
                    "monthly_active_user_count": mau(day),
                    "assigned_seat_count": SEATS,
                    "claude_code_daily_active_user_count": 4,
                    "chat_daily_active_user_count": 8,
                }
            ],
        )
        put(
            con,
            ENTERPRISE_USER_ACTIVITY,
            [
                {
                    "org_id": ENT,
                    "usage_date": day,
                    "user_id": user,
                    "claude_code_distinct_session_count": 1,
                    "claude_code_commit_count": int(user == "u1"),
                    "claude_code_pull_request_count": 0,
                    "claude_code_edit_tool_accepted_count": 2,
                    "claude_code_write_tool_accepted_count": 1,
                }
                for user, days in ACTIVE.items()
                if day.day in days
            ],
        )
        put(
            con,
            CLAUDE_CODE_USAGE,
            [
                {
                    "org_id": CON,
                    "usage_date": day,
                    "actor_type": "user_actor",
                    "actor_id": actor,
                    "num_sessions": a["sessions"],
                    "commits": a["commits"],
                    "pull_requests": 0,
                    "edit_accepted": a["edits"],
                }
                for actor, a in CONSOLE_ACTORS.items()
            ],
        )
        for t in (ENTERPRISE_COST, ENTERPRISE_SUMMARY, ENTERPRISE_USER_ACTIVITY):
            log(con, t, ENT, day)
        for t in (CONSOLE_COST, CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS):
            log(
                con,
                t,
                CON,
                day,
                "revisable" if (t is CONSOLE_COST and day == CONSOLE_REVISABLE) else "settled",
            )
    # 1 April: Enterprise still revisable at the cost report; Console settled but its Claude Code never pulled
    log(con, ENTERPRISE_COST, ENT, APRIL_1, "revisable")
    log(con, ENTERPRISE_SUMMARY, ENT, APRIL_1)
    log(con, ENTERPRISE_USER_ACTIVITY, ENT, APRIL_1)
    log(con, CONSOLE_COST, CON, APRIL_1)
    yield c
    c.close()


def build(con, start=MARCH[0], end=APRIL_1 + timedelta(days=1)) -> dict:
    usable = usable_days(con, KINDS, lookback_start(start), end)
    rebuild_daily(con, KINDS, start, end, usable)
    cursor = con.execute(f"SELECT * FROM {UNIT_ECONOMICS_DAILY.qualified}")
    names = [c[0] for c in cursor.description]
    return {(r[0], r[1], r[3]): dict(zip(names, r, strict=True)) for r in cursor.fetchall()}


# -- the tests -------------------------------------------------------------------------------------------------


def test_a_ratio_is_exact_and_null_without_a_denominator():
    assert per(Decimal("1"), 3) == Decimal("0.333333333333")
    assert per(Decimal("2"), 3) == Decimal("0.666666666667")
    assert per(Decimal("5"), 0) is None and per(None, 3) is None and per(Decimal("5"), None) is None


def test_enterprise_organization_figures_of_a_day(con):
    rows = build(con)
    day = date(2026, 3, 30)
    row = rows[(ENT, day, "all")]
    cost = ent_cost(day)
    week = sum(ent_cost(day - timedelta(days=i)) for i in range(7))
    month = sum(ent_cost(day - timedelta(days=i)) for i in range(30))
    window = {day - timedelta(days=i) for i in range(30)}
    low_use = sum(
        1 for days in ACTIVE.values() if 1 <= len({d for d in days if date(2026, 3, d) in window}) <= 3
    )
    assert row["cost_usd"] == cost and row["cost_basis"] == "billed"
    assert row["cost_7d_usd"] == week and row["cost_30d_usd"] == month
    assert (row["daily_active_users"], row["weekly_active_users"], row["monthly_active_users"]) == (
        dau(day),
        WAU,
        mau(day),
    )
    assert row["seats"] == SEATS and row["idle_seats"] == SEATS - mau(day)
    assert row["low_use_seats"] == low_use == 2
    assert row["cost_per_daily_active_user_usd"] == quantized(cost / dau(day))
    assert row["cost_per_weekly_active_user_usd"] == quantized(week / WAU)
    assert row["cost_per_monthly_active_user_usd"] == quantized(month / mau(day))
    assert row["cost_per_seat_usd"] == quantized(cost / SEATS)
    assert row["claude_code_sessions"] is None and row["cost_per_session_usd"] is None
    assert "facts.cost.billed_cost_usd" in row["cost_source"]
    assert (
        "raw.enterprise_summary" in row["activity_source"]
        and "raw.claude_code_usage" not in row["activity_source"]
    )


def test_enterprise_claude_code_costs_per_session_commit_and_accepted_edit(con):
    rows = build(con)
    day = date(2026, 3, 15)
    active = [u for u, days in ACTIVE.items() if day.day in days]
    row = rows[(ENT, day, "claude_code")]
    cost = ent_claude_code_cost(day)
    commits = int("u1" in active)
    edits = 3 * len(active)  # 2 edit + 1 write accepted per member
    assert row["cost_usd"] == cost and "grouping = 'product_model'" in row["cost_source"]
    assert (row["claude_code_sessions"], row["claude_code_commits"], row["claude_code_pull_requests"]) == (
        len(active),
        commits,
        0,
    )
    assert row["claude_code_accepted_edits"] == edits
    assert row["cost_per_session_usd"] == quantized(cost / len(active))
    assert row["cost_per_commit_usd"] == quantized(cost / commits)
    assert row["cost_per_accepted_edit_usd"] == quantized(cost / edits)
    assert row["cost_per_pull_request_usd"] is None  # no pull request: null, never 0 or infinity
    assert row["daily_active_users"] == 4
    assert "raw.enterprise_user_activity" in row["activity_source"]
    assert "raw.claude_code_usage" not in row["activity_source"]
    chat = rows[(ENT, day, "chat")]
    assert chat["cost_usd"] + row["cost_usd"] == rows[(ENT, day, "all")]["cost_usd"]
    assert chat["claude_code_sessions"] is None


def test_a_zero_denominator_gives_null(con):
    rows = build(con)
    row = rows[(ENT, date(2026, 3, 2), "all")]
    assert row["daily_active_users"] == 0
    assert row["cost_per_daily_active_user_usd"] is None


def test_console_claude_code_is_an_estimate_from_claude_code_analytics_only(con):
    rows = build(con)
    day = date(2026, 3, 20)
    code = rows[(CON, day, "claude_code")]
    sessions = sum(a["sessions"] for a in CONSOLE_ACTORS.values())
    commits = sum(a["commits"] for a in CONSOLE_ACTORS.values())
    assert code["cost_basis"] == "estimate" and code["cost_usd"] == CONSOLE_ESTIMATE
    assert code["daily_active_users"] == len(CONSOLE_ACTORS)
    assert code["claude_code_sessions"] == sessions and code["claude_code_commits"] == commits
    assert code["cost_per_session_usd"] == quantized(CONSOLE_ESTIMATE / sessions)
    assert code["claude_code_accepted_edits"] == sum(a["edits"] for a in CONSOLE_ACTORS.values())
    assert code["activity_source"].startswith("raw.claude_code_usage")
    everything = rows[(CON, day, "all")]
    assert (
        everything["cost_usd"] == CONSOLE_BILLED and everything["cost_basis"] == "billed"
    )  # estimate left out
    assert everything["seats"] is None and everything["cost_per_seat_usd"] is None
    assert {p for (o, d, p) in rows if o == CON and d == day} == {"all", "claude_code"}


def test_only_settled_days_are_computed_and_the_others_are_named(con):
    rows = build(con)
    assert (ENT, APRIL_1, "all") not in rows  # its cost report is still revisable
    assert (CON, CONSOLE_REVISABLE, "all") not in rows
    assert (CON, APRIL_1, "all") not in rows  # Claude Code analytics of the day never pulled
    used = usable_days(con, KINDS, MARCH[0], APRIL_1 + timedelta(days=1))
    waiting = waiting_days(con, KINDS, MARCH[0], APRIL_1 + timedelta(days=1), used)
    assert waiting == {
        ENT: [f"{APRIL_1} (revisable)"],
        CON: [f"{CONSOLE_REVISABLE} (revisable)", f"{APRIL_1} (not pulled)"],
    }


def test_trailing_windows_need_every_day_settled(con):
    rows = build(con)
    assert rows[(ENT, date(2026, 3, 6), "all")]["cost_7d_usd"] is None  # history starts 1 March
    assert rows[(ENT, date(2026, 3, 7), "all")]["cost_7d_usd"] == sum(ent_cost(MARCH[i]) for i in range(7))
    assert rows[(ENT, date(2026, 3, 29), "all")]["cost_30d_usd"] is None
    assert rows[(ENT, date(2026, 3, 29), "all")]["low_use_seats"] is None
    assert rows[(CON, date(2026, 3, 16), "all")]["cost_7d_usd"] is None  # 10 March is not settled
    assert rows[(CON, date(2026, 3, 17), "all")]["cost_7d_usd"] == 7 * CONSOLE_BILLED


def test_a_range_rebuilt_alone_sees_the_days_before_it(con):
    build(con)
    full = con.execute(f"SELECT * FROM {UNIT_ECONOMICS_DAILY.qualified} ORDER BY ALL").fetchall()
    rows = build(con, date(2026, 3, 30), date(2026, 3, 31))  # one day, its 30-day window read from before
    assert rows[(ENT, date(2026, 3, 30), "all")]["cost_30d_usd"] == sum(ent_cost(MARCH[i]) for i in range(30))
    assert con.execute(f"SELECT * FROM {UNIT_ECONOMICS_DAILY.qualified} ORDER BY ALL").fetchall() == full


def test_checks_pass_on_consistent_figures(con):
    build(con)
    ranges = [(MARCH[0], APRIL_1 + timedelta(days=1))]
    assert [r.check_name for r in checks.daily_results(con, ranges) if not r.passed] == []


@pytest.mark.bad_input
def test_claude_code_work_in_both_sources_is_counted_once_and_fails_the_one_source_check(con):
    day = MARCH[3]
    put(
        con,
        ENTERPRISE_USER_ACTIVITY,
        [{"org_id": CON, "usage_date": day, "user_id": "u9", "claude_code_distinct_session_count": 4}],
    )
    put(
        con,
        CLAUDE_CODE_USAGE,
        [{"org_id": ENT, "usage_date": day, "actor_type": "user_actor", "actor_id": "a9", "num_sessions": 6}],
    )
    rows = build(con)
    # each organization's Claude Code work still comes from its own kind's table only
    assert rows[(ENT, day, "claude_code")]["claude_code_sessions"] == sum(
        day.day in d for d in ACTIVE.values()
    )
    assert rows[(CON, day, "claude_code")]["claude_code_sessions"] == sum(
        a["sessions"] for a in CONSOLE_ACTORS.values()
    )
    results = {r.check_name: r for r in checks.daily_results(con, [(MARCH[0], APRIL_1)])}
    assert results[checks.GRAIN].passed  # one Claude Code row per organization and day, not one per source
    assert not results[checks.ONE_SOURCE].passed
    assert set(results[checks.ONE_SOURCE].metadata["organizations"].data) == {CON, ENT}


def test_products_that_do_not_add_up_to_the_bill_are_reported(con):
    put(
        con,
        ENTERPRISE_COST,
        [
            {
                "org_id": ENT,
                "usage_date": MARCH[4],
                "grouping": "product_model",
                "product": "cowork",
                "amount_usd": "0.01",
            }
        ],
    )
    build(con)
    gaps = checks.product_gaps(con, [(MARCH[0], APRIL_1)])
    assert [(o, d) for o, d, *_ in gaps] == [(ENT, MARCH[4])]


@pytest.mark.bad_input
def test_a_negative_cost_is_refused_and_nothing_is_written(con):
    build(con)
    before = con.execute(f"SELECT * FROM {UNIT_ECONOMICS_DAILY.qualified} ORDER BY ALL").fetchall()
    put(
        con,
        FACTS_COST,
        [
            {
                "org_id": ENT,
                "usage_date": MARCH[5],
                "org_kind": "enterprise",
                "source": "raw.enterprise_cost",
                "charge_kind": "billed",
                "description": "refund",
                "currency": "USD",
                "billed_cost_usd": "-100",
            }
        ],
    )
    with pytest.raises(SchemaViolation, match="cost_usd"):
        build(con)
    assert con.execute(f"SELECT * FROM {UNIT_ECONOMICS_DAILY.qualified} ORDER BY ALL").fetchall() == before


def test_rebuilding_the_same_days_gives_the_same_table(con):
    build(con)
    first = con.execute(f"SELECT * FROM {UNIT_ECONOMICS_DAILY.qualified} ORDER BY ALL").fetchall()
    build(con)
    assert con.execute(f"SELECT * FROM {UNIT_ECONOMICS_DAILY.qualified} ORDER BY ALL").fetchall() == first


def _months(con) -> dict:
    cursor = con.execute(f"SELECT * FROM {UNIT_ECONOMICS_MONTHLY.qualified}")
    names = [c[0] for c in cursor.description]
    return {(r[0], r[1], r[3]): dict(zip(names, r, strict=True)) for r in cursor.fetchall()}


def test_a_month_sums_its_settled_days(con):
    build(con)
    rebuild_monthly(con, date(2026, 3, 1), date(2026, 5, 1))
    months = _months(con)
    march = months[(ENT, date(2026, 3, 1), "all")]
    cost = sum(ent_cost(d) for d in MARCH)
    low_use = sum(1 for days in ACTIVE.values() if 1 <= len(days) <= 3)
    assert (march["settled_days"], march["days_in_month"], march["complete"]) == (31, 31, True)
    assert march["as_of"] == MARCH[-1] and march["cost_usd"] == cost
    assert march["monthly_active_users"] == mau(MARCH[-1]) and march["seats"] == SEATS
    assert march["cost_per_monthly_active_user_usd"] == quantized(cost / mau(MARCH[-1]))
    assert march["cost_per_seat_usd"] == quantized(cost / SEATS)
    assert march["low_use_seats"] == low_use == 3
    code = months[(ENT, date(2026, 3, 1), "claude_code")]
    sessions = sum(len(days) for days in ACTIVE.values())
    assert code["claude_code_sessions"] == sessions
    assert code["cost_per_session_usd"] == quantized(sum(ent_claude_code_cost(d) for d in MARCH) / sessions)
    assert code["cost_per_pull_request_usd"] is None
    console = months[(CON, date(2026, 3, 1), "all")]
    assert (console["settled_days"], console["complete"]) == (30, False)  # 10 March waits
    assert console["cost_usd"] == 30 * CONSOLE_BILLED and console["low_use_seats"] is None
    assert not any(m == date(2026, 4, 1) for _, m, _ in months)  # nothing of April is settled
    assert [
        r.check_name for r in checks.monthly_results(con, date(2026, 3, 1), date(2026, 5, 1)) if not r.passed
    ] == []


@pytest.mark.bad_input
@pytest.mark.parametrize("ratio", [Decimal(0), Decimal("1E+20")])
def test_a_ratio_over_a_zero_denominator_is_refused_before_writing(ratio):
    row = {
        "org_id": ENT,
        "usage_date": MARCH[0],
        "org_kind": "enterprise",
        "product": "all",
        "cost_usd": Decimal("5"),
        "cost_basis": "billed",
        "cost_source": "facts.cost",
        "daily_active_users": 0,
        "cost_per_daily_active_user_usd": ratio,
        "activity_source": "raw.enterprise_summary",
    }
    with pytest.raises(SchemaViolation, match="cost_per_daily_active_user_usd"):
        validate(DAILY_SCHEMA, UNIT_ECONOMICS_DAILY, frame_of(UNIT_ECONOMICS_DAILY, [row]))
    row["cost_per_daily_active_user_usd"] = None
    validate(DAILY_SCHEMA, UNIT_ECONOMICS_DAILY, frame_of(UNIT_ECONOMICS_DAILY, [row]))  # null passes


def test_a_month_that_differs_from_its_days_fails_its_check(con):
    build(con)
    rebuild_monthly(con, date(2026, 3, 1), date(2026, 4, 1))
    con.execute(
        f"UPDATE {UNIT_ECONOMICS_MONTHLY.qualified} SET cost_usd = cost_usd + 0.000000000001 "
        "WHERE org_id = ? AND product = 'claude_code'",
        [ENT],
    )
    results = {r.check_name: r for r in checks.monthly_results(con, date(2026, 3, 1), date(2026, 4, 1))}
    assert not results[checks.MONTHS].passed and results[checks.GRAIN].passed

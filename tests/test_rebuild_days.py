"""Derived tables are rebuilt day range by day range, atomically, from a query."""

from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest

from claude_assets.warehouse.contract import MONEY, Table, col
from claude_assets.warehouse.writes import rebuild_days

T = Table(
    "facts",
    "t",
    (col("org_id", "VARCHAR"), col("usage_date", "DATE"), col("v_usd", MONEY)),
    grain=("org_id", "usage_date"),
)


def rows(con):
    return con.execute("SELECT org_id, usage_date, v_usd FROM facts.t ORDER BY usage_date").fetchall()


def test_a_rebuild_replaces_only_its_days_and_is_idempotent():
    con = duckdb.connect()
    q = "SELECT 'a' AS org_id, d::DATE AS usage_date, 1.25::DECIMAL(38, 12) AS v_usd FROM range(DATE '2026-01-01', DATE '2026-01-04', INTERVAL 1 DAY) r(d)"
    assert rebuild_days(con, T, date(2026, 1, 1), date(2026, 1, 4), q) == 3
    again = "SELECT 'a' AS org_id, DATE '2026-01-02' AS usage_date, 7 AS v_usd"
    assert rebuild_days(con, T, date(2026, 1, 2), date(2026, 1, 3), again) == 1
    assert rebuild_days(con, T, date(2026, 1, 2), date(2026, 1, 3), again) == 1
    assert [r[2] for r in rows(con)] == [Decimal("1.25"), Decimal(7), Decimal("1.25")]


def test_a_row_of_another_day_fails_the_rebuild_and_nothing_changes():
    con = duckdb.connect()
    rebuild_days(
        con,
        T,
        date(2026, 1, 1),
        date(2026, 1, 2),
        "SELECT 'a' AS org_id, DATE '2026-01-01' AS usage_date, 1 AS v_usd",
    )
    before = rows(con)
    stray = "SELECT 'a' AS org_id, DATE '2026-01-09' AS usage_date, 2 AS v_usd"
    with pytest.raises(ValueError, match="dated outside"):
        rebuild_days(con, T, date(2026, 1, 1), date(2026, 1, 2), stray)
    assert rows(con) == before


def test_a_long_backfill_is_rebuilt_in_bounded_day_ranges():
    from types import SimpleNamespace

    from claude_assets.partitions import day_ranges

    keys = [(date(2026, 1, 1) + timedelta(days=i)).isoformat() for i in range(70)] + ["2026-04-01"]
    ranges = day_ranges(SimpleNamespace(partition_keys=keys), max_days=31)
    assert ranges == [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 4)),
        (date(2026, 3, 4), date(2026, 3, 12)),
        (date(2026, 4, 1), date(2026, 4, 2)),
    ]

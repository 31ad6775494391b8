"""A window write DuckDB refuses says why (table, column, value, organization, days) and keeps nothing of it."""

from datetime import date

import duckdb
import pytest

from claude_assets.ingest.console.tables import CONSOLE_COST
from claude_assets.ingest.staging import RowBuffer
from claude_assets.warehouse.writes import InsertError, WindowWrite, write_windows

DAY = date(2026, 11, 1)


def _write(con: duckdb.DuckDBPyConnection, **cost: object) -> dict:
    rows = RowBuffer(CONSOLE_COST)
    rows.add(
        {
            "org_id": "acme-console",
            "usage_date": DAY.isoformat(),
            "description": "Claude Sonnet 4.5 Usage - Input Tokens",
            "currency": "USD",
            "amount_usd": "12.34",
            "fetched_at": "2026-11-02T00:00:00+00:00",
            "source_request": "GET /v1/organizations/cost_report",
        }
        | cost
    )
    return write_windows(
        con,
        WindowWrite(
            org_id="acme-console",
            start=DAY,
            end=date(2026, 11, 3),
            frames={CONSOLE_COST: rows.frame()},
            requests={DAY: "GET /v1/organizations/cost_report"},
            fetched_at="2026-11-02T00:00:00+00:00",
        ),
    )


def _stored(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        f"SELECT usage_date, CAST(amount_usd AS VARCHAR) FROM {CONSOLE_COST.qualified}"
    ).fetchall()


@pytest.mark.bad_input
def test_a_value_the_column_cannot_hold_is_named_and_the_window_keeps_its_old_rows():
    con = duckdb.connect()
    _write(con)
    before = _stored(con)
    with pytest.raises(InsertError) as caught:
        _write(con, amount_usd="12.3.4")
    message = str(caught.value)
    for part in (
        "acme-console, days 2026-11-01 to 2026-11-02",
        "raw.console_cost",
        "column amount_usd (DECIMAL(38, 12))",
        "value '12.3.4'",
        "rolled back",
        "re-run",
    ):
        assert part in message, (part, message)
    assert "transaction is aborted" not in message
    assert isinstance(caught.value.__cause__, duckdb.ConversionException)
    # rolled back: the old rows are there, and the connection takes the next write
    assert _stored(con) == before == [(DAY, "12.340000000000")]
    _write(con, amount_usd="1.5")
    assert _stored(con) == [(DAY, "1.500000000000")]


@pytest.mark.bad_input
def test_a_null_where_none_may_be_names_the_column():
    con = duckdb.connect()
    with pytest.raises(InsertError, match=r"raw\.console_cost: .*column currency \(VARCHAR\)") as caught:
        _write(con, currency=None)
    assert "NOT NULL" in str(caught.value)
    assert con.execute(f"SELECT count(*) FROM {CONSOLE_COST.qualified}").fetchall() == [(0,)]

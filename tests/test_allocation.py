"""facts.cost_allocation: billed lines split to API keys, users and remainders, adding up to each line exactly.

Hand-computed cases run on a tiny warehouse written here; the end-to-end tests build the facts of the demo
world's 14 raw days through Dagster and compare with the simulator's ground truth.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from checks import allocation as allocation_checks
from claude_assets.definitions import build_definitions
from claude_assets.facts.allocation import parents_sql, rebuild_allocation
from claude_assets.facts.tables import COST_ALLOCATION, FACTS_COST
from claude_assets.ingest.console.tables import CONSOLE_USAGE
from claude_assets.ingest.enterprise_reports.tables import ENTERPRISE_USER_COST
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.writes import ensure
from demo.backfill import QUIET, backfill
from simulator.truth import truth
from tests.conftest import make_sim

DAY = date(2026, 11, 10)
USD = Decimal


# -- a tiny warehouse -----------------------------------------------------------------------------------


def _insert(con: duckdb.DuckDBPyConnection, table: Table, **values) -> None:
    ensure(con, table)
    row = {c.name: None for c in table.columns} | {
        "org_id": values.pop("org_id", "o"),
        "usage_date": DAY,
        "fetched_at": "2026-11-11T00:00:00Z",
        "source_request": "GET /test",
    }
    row |= values
    names = ", ".join(f'"{n}"' for n in row)
    con.execute(
        f"INSERT INTO {table.qualified} ({names}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
    )


def _console_line(con, billed: str, **dims) -> None:
    _insert(
        con,
        FACTS_COST,
        org_kind="console",
        source="raw.console_cost",
        source_grain="day x workspace x cost line",
        charge_kind="billed",
        currency="USD",
        billed_cost_usd=billed,
        effective_cost_usd=billed,
        **dims,
    )


TOKENS_LINE = {
    "workspace_id": "ws",
    "description": "Claude Opus 4.5 Usage - Output Tokens",
    "model": "claude-opus-4-5",
    "cost_type": "tokens",
    "token_type": "output_tokens",
    "service_tier": "standard",
    "context_window": "0-200k",
    "inference_geo": "global",
    "speed": "standard",
}
ZERO_TOKENS = {c.name: 0 for c in CONSOLE_USAGE.columns if c.type == "BIGINT"}


def _usage(con, api_key_id: str | None, **counts) -> None:
    dims = {k: v for k, v in TOKENS_LINE.items() if k in CONSOLE_USAGE.column_names}
    _insert(con, CONSOLE_USAGE, api_key_id=api_key_id, **dims, **(ZERO_TOKENS | counts))


def _rows(con) -> dict[tuple, tuple]:
    return {
        (r[0], r[1], r[2], r[3]): (r[4], r[5])
        for r in con.execute(
            "SELECT coalesce(description, model, cost_type), allocated_to_kind, "
            "coalesce(api_key_id, user_id), token_type, allocated_cost_usd, share FROM facts.cost_allocation"
        ).fetchall()
    }


def _build(con) -> None:
    for table in (FACTS_COST, CONSOLE_USAGE, ENTERPRISE_USER_COST):
        ensure(con, table)
    rebuild_allocation(con, DAY, DAY + timedelta(days=1))


def test_a_console_line_splits_over_two_keys_by_tokens_with_the_largest_remainder():
    con = duckdb.connect()
    # $0.10 over 1 and 2 output tokens: 1e11 units / 3 = 33333333333 r1 and 66666666666 r2; the one unit
    # left over goes to the larger remainder (key b)
    _console_line(con, "0.100000000000", **TOKENS_LINE)
    _usage(con, "key_a", output_tokens=1, uncached_input_tokens=500)
    _usage(con, "key_b", output_tokens=2)
    _usage(con, "key_b", output_tokens=0, web_search_requests=7)  # no output tokens: claims nothing more
    # code execution has no usage: one whole row
    _console_line(
        con,
        "0.250000000000",
        workspace_id="ws",
        description="Code Execution Usage",
        cost_type="code_execution",
    )
    _build(con)
    rows = _rows(con)
    line = TOKENS_LINE["description"]
    assert rows[(line, "api_key", "key_a", "output_tokens")] == (USD("0.033333333333"), USD("0.333333333333"))
    assert rows[(line, "api_key", "key_b", "output_tokens")] == (USD("0.066666666667"), USD("0.666666666666"))
    assert rows[("Code Execution Usage", "whole_line", None, None)] == (USD("0.25"), USD(1))
    assert len(rows) == 3


def test_web_search_lines_split_by_searches_and_keyless_usage_is_its_own_share():
    con = duckdb.connect()
    _console_line(
        con, "0.070000000000", workspace_id="ws", description="Web Search Usage", cost_type="web_search"
    )
    _usage(con, None, web_search_requests=3)
    _usage(con, "key_a", web_search_requests=4)
    _insert(
        con,
        CONSOLE_USAGE,
        api_key_id="key_b",
        workspace_id="ws",
        model="claude-opus-4-5",
        service_tier="priority",  # billed outside the cost report: not part of the split
        **(ZERO_TOKENS | {"web_search_requests": 100}),
    )
    _build(con)
    rows = _rows(con)
    assert rows == {
        ("Web Search Usage", "keyless", None, None): (USD("0.03"), USD("0.428571428571")),
        ("Web Search Usage", "api_key", "key_a", None): (USD("0.04"), USD("0.571428571428")),
    }


def _enterprise_line(con, model: str, token_type: str, billed: str) -> None:
    _insert(
        con,
        FACTS_COST,
        org_id="e",
        org_kind="enterprise",
        source="raw.enterprise_cost",
        source_grain="day x model x cost type x token type",
        charge_kind="billed",
        currency="USD",
        model=model,
        cost_type="tokens",
        token_type=token_type,
        billed_cost_usd=billed,
        effective_cost_usd=billed,
    )


def _user_cost(con, user_id: str, model: str, amount: str, product: str = "chat") -> None:
    _insert(
        con,
        ENTERPRISE_USER_COST,
        org_id="e",
        user_id=user_id,
        user_deleted=False,
        product=product,
        model=model,
        currency="USD",
        amount_usd=amount,
        list_amount_usd=amount,
        starting_at="2026-11-10T00:00:00Z",
        ending_at="2026-11-11T00:00:00Z",
    )


def test_enterprise_lines_split_over_users_and_the_remainder_keeping_both_totals_exact():
    con = duckdb.connect()
    # model m: lines of $1 (input) and $2 (output); users u1 $1 (two products), u2 $1: $1 is unattributed.
    # Each claim holds 1/3 of each line: floors 0.666666666666 on the output line (2 units left) and
    # 0.333333333333 on the input line (1 unit left), 1 unit short per claim. Dealt in order of line
    # (parent_line: output_tokens before uncached_input_tokens) and of claim (unattributed, u1, u2): the
    # output line's 2 units go to unattributed and u1, the input line's unit to u2.
    _enterprise_line(con, "m", "uncached_input_tokens", "1")
    _enterprise_line(con, "m", "output_tokens", "2")
    _user_cost(con, "u1", "m", "0.4", product="chat")
    _user_cost(con, "u1", "m", "0.6", product="claude_code")
    _user_cost(con, "u2", "m", "1")
    _build(con)
    rows = {k: v[0] for k, v in _rows(con).items()}
    assert rows == {
        ("m", "unattributed", None, "output_tokens"): USD("0.666666666667"),
        ("m", "user", "u1", "output_tokens"): USD("0.666666666667"),
        ("m", "user", "u2", "output_tokens"): USD("0.666666666666"),
        ("m", "unattributed", None, "uncached_input_tokens"): USD("0.333333333333"),
        ("m", "user", "u1", "uncached_input_tokens"): USD("0.333333333333"),
        ("m", "user", "u2", "uncached_input_tokens"): USD("0.333333333334"),
    }


def test_users_above_their_lines_are_scaled_down_flagged_and_warned():
    con = duckdb.connect()
    _enterprise_line(con, "m", "output_tokens", "1")
    _user_cost(con, "u1", "m", "1")
    _user_cost(con, "u2", "m", "3")
    _build(con)
    rows = con.execute(
        "SELECT user_id, allocated_cost_usd, users_scaled FROM facts.cost_allocation ORDER BY ALL"
    ).fetchall()
    assert rows == [("u1", USD("0.25"), True), ("u2", USD("0.75"), True)]
    ranges = [(DAY, DAY + timedelta(days=1))]
    warn = allocation_checks.users_within_parent(con, COST_ALLOCATION, ranges)
    assert (warn.passed, warn.severity, warn.metadata["models_scaled"].value) == (
        False,
        dg.AssetCheckSeverity.WARN,
        1,
    )
    assert allocation_checks.allocated_equals_parent(con, COST_ALLOCATION, parents_sql(), ranges).passed


# -- the demo world's 14 raw days -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def allocated(raw_warehouse, tmp_path_factory):
    """The facts of the raw fixture's days built through Dagster on a copy: (warehouse path, run results)."""
    path = raw_warehouse.copy_to(tmp_path_factory.mktemp("allocation"))
    defs = build_definitions(raw_warehouse.config, str(path))
    keys = [
        dg.AssetKey(["facts", "price_book"]),
        FACTS_COST.asset_key,
        COST_ALLOCATION.asset_key,
    ]
    results = backfill(defs, raw_warehouse.start, raw_warehouse.end, selection=keys, run_config=QUIET)
    assert all(r.success for r in results)
    return path, results


def _checks(results) -> dict[str, bool]:
    return {
        e.check_name: e.passed
        for r in results
        for e in r.get_asset_check_evaluations()
        if e.asset_key == COST_ALLOCATION.asset_key
    }


def test_every_parent_line_of_every_day_is_allocated_exactly(allocated, raw_warehouse):
    path, results = allocated
    assert _checks(results) == {"allocated_equals_parent": True, "schema": True, "users_within_parent": True}
    con = duckdb.connect(str(path), read_only=True)
    # the parents, matched by their dimensions (not by the key under test): billed vs allocated sums
    rows = con.execute(
        """
        WITH a AS (
            SELECT org_id, usage_date, source, description, workspace_id, model, cost_type, token_type,
                   service_tier, context_window, inference_geo, speed,
                   sum(allocated_cost_usd) AS allocated, count(*) AS n
            FROM facts.cost_allocation GROUP BY ALL
        )
        SELECT c.org_id, c.usage_date, c.billed_cost_usd, a.allocated, a.n
        FROM facts.cost AS c LEFT JOIN a
            ON a.org_id = c.org_id AND a.usage_date = c.usage_date AND a.source = c.source
            AND a.description IS NOT DISTINCT FROM c.description AND a.workspace_id IS NOT DISTINCT FROM c.workspace_id
            AND a.model IS NOT DISTINCT FROM c.model AND a.cost_type IS NOT DISTINCT FROM c.cost_type
            AND a.token_type IS NOT DISTINCT FROM c.token_type AND a.service_tier IS NOT DISTINCT FROM c.service_tier
            AND a.context_window IS NOT DISTINCT FROM c.context_window
            AND a.inference_geo IS NOT DISTINCT FROM c.inference_geo AND a.speed IS NOT DISTINCT FROM c.speed
        WHERE c.charge_kind = 'billed'
        """
    ).fetchall()
    raw_lines = con.execute(
        "SELECT (SELECT count(*) FROM raw.console_cost) + "
        "(SELECT count(*) FROM raw.enterprise_cost WHERE grouping = 'token_type')"
    ).fetchone()[0]
    assert len(rows) == raw_lines
    assert [r for r in rows if r[3] != r[2]] == []
    days = (raw_warehouse.end - raw_warehouse.start).days
    orgs = {o.slug for o in raw_warehouse.config.organizations}
    assert {(r[0], r[1]) for r in rows} == {
        (o, raw_warehouse.start + timedelta(days=i)) for o in orgs for i in range(days)
    }
    # and so every Console day adds up to the simulator's billed truth
    sim = make_sim()
    for org in ("acme-console", "globex-console"):
        want = truth(sim, org, "console_cost", raw_warehouse.start, raw_warehouse.end)["days"]
        got = dict(
            con.execute(
                "SELECT usage_date, sum(allocated_cost_usd) FROM facts.cost_allocation WHERE org_id = ? GROUP BY 1",
                [org],
            ).fetchall()
        )
        assert {d.isoformat(): v for d, v in got.items()} == {
            d: USD(v["amount_usd"]) for d, v in want.items()
        }


def test_enterprise_unattributed_is_the_org_total_minus_the_seat_users(allocated, raw_warehouse):
    path, _ = allocated
    sim = make_sim()
    span = (raw_warehouse.start, raw_warehouse.end)
    org_days = {
        d["date"]: USD(d["amount_usd"])
        for d in truth(sim, "acme-enterprise", "enterprise_cost", *span)["days"]
    }
    user_days = {
        d["date"]: USD(d["users_amount_usd"])
        for d in truth(sim, "acme-enterprise", "enterprise_user_cost", *span)["days"]
    }
    con = duckdb.connect(str(path), read_only=True)
    got = {
        (d.isoformat(), kind): usd
        for d, kind, usd in con.execute(
            "SELECT usage_date, allocated_to_kind, sum(allocated_cost_usd) FROM facts.cost_allocation "
            "WHERE org_id = 'acme-enterprise' GROUP BY ALL"
        ).fetchall()
    }
    assert len(org_days) == 14 and sum(org_days.values()) - sum(user_days.values()) > 0
    for day, total in org_days.items():
        assert (
            got.get((day, "unattributed"), USD(0)) + got.get((day, "whole_line"), USD(0))
            == total - user_days[day]
        )
        assert got[(day, "user")] == user_days[day]
    # each seat user's rows add up to the per-user report's amount over the range, exactly
    per_user = {
        u["user_id"]: USD(u["amount_usd"])
        for u in truth(sim, "acme-enterprise", "enterprise_user_cost", *span)["users"]
    }
    allocated_users = dict(
        con.execute(
            "SELECT user_id, sum(allocated_cost_usd) FROM facts.cost_allocation WHERE allocated_to_kind = 'user' "
            "GROUP BY 1"
        ).fetchall()
    )
    assert allocated_users == {u: a for u, a in per_user.items() if a}


def test_the_check_fails_when_an_allocated_row_is_altered(allocated, raw_warehouse, tmp_path):
    path, _ = allocated
    copy = tmp_path / "altered.duckdb"
    copy.write_bytes(path.read_bytes())
    con = duckdb.connect(str(copy))
    ranges = [(raw_warehouse.start, raw_warehouse.end)]
    assert allocation_checks.allocated_equals_parent(con, COST_ALLOCATION, parents_sql(), ranges).passed
    row = con.execute(
        "SELECT usage_date, parent_line, api_key_id FROM facts.cost_allocation WHERE allocated_to_kind = 'api_key' "
        "ORDER BY ALL LIMIT 1"
    ).fetchone()
    con.execute(
        "UPDATE facts.cost_allocation SET allocated_cost_usd = allocated_cost_usd + 0.000000000001 "
        "WHERE usage_date = ? AND parent_line = ? AND api_key_id = ?",
        list(row),
    )
    failed = allocation_checks.allocated_equals_parent(con, COST_ALLOCATION, parents_sql(), ranges)
    assert failed.passed is False
    assert failed.metadata["parents_failing"].value >= 1
    assert row[1] in failed.metadata["first_failures"].value

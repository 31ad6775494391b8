"""facts.cost and facts.usage on the demo world: exact against the simulator's truth and its generators."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from checks import facts as facts_checks
from claude_assets.facts import price_book
from claude_assets.facts.assets import unified_assets
from claude_assets.facts.cost import rebuild_cost
from claude_assets.facts.tables import FACTS_COST, FACTS_USAGE
from simulator.catalog import MICROCENTS_PER_USD, MODELS_BY_ID, TOKEN_TYPES, WEB_SEARCH_MICROCENTS
from simulator.catalog import price_microcents_per_token as sim_price
from simulator.generators.console.records import BILLED_TIERS
from simulator.truth import truth
from tests.conftest import make_sim

CONSOLE_ORGS = ("acme-console", "globex-console")
PRIORITY = ("priority", "priority_on_demand")


@pytest.fixture(scope="module")
def sim():
    return make_sim()


@pytest.fixture(scope="module")
def facts(raw_warehouse, tmp_path_factory):
    """The raw demo layer with the price book, then facts.cost and facts.usage materialized over its 14 days."""
    path = raw_warehouse.copy_to(tmp_path_factory.mktemp("facts"))
    with duckdb.connect(str(path)) as con:
        price_book.write(con, price_book.merged_rows())
    last = (raw_warehouse.end - timedelta(days=1)).isoformat()
    result = dg.materialize(
        unified_assets(raw_warehouse.config),
        resources={"duckdb": DuckDBResource(database=str(path))},
        tags={
            "dagster/asset_partition_range_start": raw_warehouse.start.isoformat(),
            "dagster/asset_partition_range_end": last,
        },
    )
    assert result.success
    checks = {
        (e.asset_check_key.asset_key.path[-1], e.asset_check_key.name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    return path, checks, raw_warehouse


def days(w):
    d = w.start
    while d < w.end:
        yield d
        d += timedelta(days=1)


def per_org_day(con, sql: str) -> dict[tuple[str, str], Decimal]:
    return {(o, d.isoformat()): v for o, d, v in con.execute(sql).fetchall()}


def test_every_check_of_both_tables_passes(facts):
    _, checks, _ = facts
    assert checks == {
        ("cost", "schema"): True,
        ("cost", "billed_equals_record"): True,
        ("cost", "estimates_unbilled"): True,
        ("cost", "unpriced"): True,
        ("usage", "schema"): True,
        ("usage", "tokens_equal_record"): True,
        ("usage", "unpriced"): True,
    }


def test_billed_per_org_and_day_equals_the_simulators_billed_truth(facts, sim):
    path, _, w = facts
    with duckdb.connect(str(path), read_only=True) as con:
        billed = per_org_day(
            con,
            "SELECT org_id, usage_date, sum(billed_cost_usd) FROM facts.cost WHERE charge_kind = 'billed' GROUP BY ALL",
        )
    expected = {}
    for slug in CONSOLE_ORGS:
        for day, t in truth(sim, slug, "console_cost", w.start, w.end)["days"].items():
            expected[(slug, day)] = Decimal(t["amount_usd"])
    for t in truth(sim, "acme-enterprise", "enterprise_cost", w.start, w.end)["days"]:
        expected[("acme-enterprise", t["date"])] = Decimal(t["amount_usd"])
    assert len(expected) == 3 * 14
    assert billed == expected


def test_enterprise_list_cost_equals_the_truths_list_amount(facts, sim):
    path, _, w = facts
    with duckdb.connect(str(path), read_only=True) as con:
        listed = per_org_day(
            con,
            "SELECT org_id, usage_date, sum(list_cost_usd) FROM facts.cost WHERE org_kind = 'enterprise' GROUP BY ALL",
        )
    t = truth(sim, "acme-enterprise", "enterprise_cost", w.start, w.end)["days"]
    assert listed == {("acme-enterprise", d["date"]): Decimal(d["list_amount_usd"]) for d in t}


def _generator_list_usd(sim, slug: str, d: date, tiers) -> Decimal:
    """List price of a Console day's usage in ``tiers`` straight from the generator: tokens x the simulator's
    own unit prices, plus web searches (no discount, no rounding)."""
    data = sim.data(sim.world.by_slug(slug), "console")
    microcents = Decimal(0)
    for rec in data.records(d):
        _, _, _, _, model_id, tier, ctx, geo, speed = rec.dims
        if tier not in tiers:
            continue
        model = MODELS_BY_ID[model_id]
        for i, token_type in enumerate(TOKEN_TYPES):
            unit = sim_price(
                model, token_type, d, service_tier=tier, context_window=ctx, inference_geo=geo, speed=speed
            )
            microcents += rec.metrics[i] * unit
        microcents += rec.metrics[5] * WEB_SEARCH_MICROCENTS
    return microcents / MICROCENTS_PER_USD


def test_console_list_cost_equals_the_generators_usage_at_list_price(facts, sim):
    path, _, w = facts
    with duckdb.connect(str(path), read_only=True) as con:
        listed = per_org_day(
            con,
            "SELECT org_id, usage_date, sum(list_cost_usd) FROM facts.cost WHERE source = 'raw.console_cost' "
            "AND cost_type IN ('tokens', 'web_search') GROUP BY ALL",
        )
        estimated = per_org_day(
            con,
            "SELECT org_id, usage_date, sum(estimated_cost_usd) FROM facts.cost "
            "WHERE source = 'raw.console_usage' GROUP BY ALL",
        )
    for slug in CONSOLE_ORGS:
        for d in days(w):
            assert listed[(slug, d.isoformat())] == _generator_list_usd(sim, slug, d, BILLED_TIERS)
            priority = _generator_list_usd(sim, slug, d, PRIORITY)
            assert estimated.get((slug, d.isoformat()), Decimal(0)) == priority
    assert any(v > 0 for v in estimated.values())


def test_a_hand_priced_console_line(facts):
    """A Sonnet 4.6 batch, long-context, US-inference output line by hand: 15 USD/MTok x 0.5 (batch) x 1.1 (US
    inference); no long-context surcharge on Sonnet 4.6."""
    path, _, _ = facts
    with duckdb.connect(str(path), read_only=True) as con:
        line = con.execute(
            "SELECT org_id, usage_date, workspace_id, list_cost_usd FROM facts.cost WHERE source = 'raw.console_cost' "
            "AND model = 'claude-sonnet-4-6' AND token_type = 'output_tokens' AND service_tier = 'batch' "
            "AND context_window = '200k-1M' AND inference_geo = 'us' ORDER BY ALL LIMIT 1"
        ).fetchone()
        tokens = con.execute(
            "SELECT sum(output_tokens) FROM raw.console_usage WHERE org_id = ? AND usage_date = ? "
            "AND workspace_id IS NOT DISTINCT FROM ? AND model = 'claude-sonnet-4-6' AND service_tier = 'batch' "
            "AND context_window = '200k-1M' AND inference_geo = 'us'",
            list(line[:3]),
        ).fetchone()[0]
    assert tokens > 0
    assert line[3] == Decimal(tokens) * Decimal("15") * Decimal("0.5") * Decimal("1.1") / 1_000_000


def test_code_execution_lines_list_at_their_billed_amount(facts):
    path, _, _ = facts
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE list_cost_usd = billed_cost_usd) FROM facts.cost "
            "WHERE source = 'raw.console_cost' AND cost_type = 'code_execution'"
        ).fetchone()
    assert rows[0] > 0 and rows[0] == rows[1]


def test_estimates_carry_no_billed_money_and_claude_codes_estimate_is_the_truths(facts, sim):
    path, _, w = facts
    with duckdb.connect(str(path), read_only=True) as con:
        estimate_billed = con.execute(
            "SELECT count(*), sum(billed_cost_usd), sum(effective_cost_usd), sum(estimated_cost_usd) "
            "FROM facts.cost WHERE charge_kind = 'estimate'"
        ).fetchone()
        claude_code = per_org_day(
            con,
            "SELECT org_id, usage_date, sum(estimated_cost_usd) FROM facts.cost "
            "WHERE source = 'raw.claude_code_model_usage' GROUP BY ALL",
        )
        billed_with_estimate = con.execute(
            "SELECT count(*) FROM facts.cost WHERE charge_kind = 'billed' AND estimated_cost_usd IS NOT NULL"
        ).fetchone()[0]
    assert estimate_billed[0] > 0 and estimate_billed[1] == 0 and estimate_billed[2] == 0
    assert estimate_billed[3] > 0 and billed_with_estimate == 0
    for slug in CONSOLE_ORGS:
        for day, t in truth(sim, slug, "claude_code", w.start, w.end)["days"].items():
            assert claude_code.get((slug, day), Decimal(0)) == Decimal(t["estimated_cost_usd"])


TOKEN_NAMES = {
    "uncached_input_tokens": "uncached_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens": "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens": "cache_creation.ephemeral_1h_input_tokens",
    "cache_read_input_tokens": "cache_read_input_tokens",
    "output_tokens": "output_tokens",
}


def test_usage_counted_in_totals_equals_the_truth_and_claude_code_is_never_counted_twice(facts, sim):
    path, _, w = facts
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT org_id, usage_date, token_type, sum(coalesce(tokens, web_search_requests)) FROM facts.usage "
            f"WHERE {FACTS_USAGE.totals_where} AND token_type <> 'requests' GROUP BY ALL"
        ).fetchall()
        claude_code = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE included_in = 'raw.console_usage') FROM facts.usage "
            "WHERE source = 'raw.claude_code_model_usage'"
        ).fetchone()
    got: dict = defaultdict(int)
    for org, d, token_type, n in rows:
        got[(org, d.isoformat(), token_type)] += n
    expected: dict = defaultdict(int)
    for slug in CONSOLE_ORGS:
        for day, t in truth(sim, slug, "console_usage", w.start, w.end)["days"].items():
            for k, v in t["totals"].items():
                if v:
                    expected[(slug, day, TOKEN_NAMES.get(k, k))] += v
    for t in truth(sim, "acme-enterprise", "enterprise_usage", w.start, w.end)["days"]:
        for k in (*TOKEN_NAMES, "web_search_requests"):
            if t[k]:
                expected[("acme-enterprise", t["date"], k)] += t[k]
    assert dict(got) == dict(expected)
    assert claude_code[0] > 0 and claude_code[0] == claude_code[1]


def _snapshot(con, table) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table.qualified} ORDER BY ALL").fetchall()


def test_rebuilding_a_day_range_twice_leaves_identical_tables(facts, tmp_path):
    path, _, w = facts
    copy = tmp_path / "again.duckdb"
    copy.write_bytes(path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        before = _snapshot(con, FACTS_COST)
        mid = w.start + timedelta(days=3)
        rebuild_cost(con, mid, mid + timedelta(days=4))
        rebuild_cost(con, mid, mid + timedelta(days=4))
        assert _snapshot(con, FACTS_COST) == before


def test_the_billed_total_check_fails_on_a_lost_line_or_cents_read_as_dollars(facts, tmp_path):
    path, _, w = facts
    copy = tmp_path / "corrupt.duckdb"
    copy.write_bytes(path.read_bytes())
    ranges = [(w.start, w.end)]
    with duckdb.connect(str(copy)) as con:
        assert facts_checks.billed_totals_result(con, FACTS_COST, ranges).passed
        con.execute(
            "DELETE FROM facts.cost WHERE rowid = (SELECT min(rowid) FROM facts.cost WHERE charge_kind = 'billed')"
        )
        lost = facts_checks.billed_totals_result(con, FACTS_COST, ranges)
        assert not lost.passed and lost.metadata["org_days_differing"].value == 1
        con.execute(
            "UPDATE facts.cost SET billed_cost_usd = billed_cost_usd * 100 "
            "WHERE org_id = 'acme-enterprise' AND usage_date = ?",
            [w.start + timedelta(days=5)],
        )
        x100 = facts_checks.billed_totals_result(con, FACTS_COST, ranges)
        assert (
            x100.metadata["org_days_differing"].value == 2
            and x100.metadata["org_days_off_by_100x"].value == 1
        )
        con.execute(
            "UPDATE facts.cost SET billed_cost_usd = 1 WHERE charge_kind = 'estimate' AND rowid = "
            "(SELECT min(rowid) FROM facts.cost WHERE charge_kind = 'estimate')"
        )
        assert not facts_checks.estimates_unbilled_result(con, FACTS_COST, ranges).passed


def test_an_unknown_model_is_unpriced_never_zero_and_named_by_the_warning(facts, tmp_path):
    path, _, w = facts
    copy = tmp_path / "unknown.duckdb"
    copy.write_bytes(path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        for table in ("raw.console_usage", "raw.console_cost"):
            con.execute(
                f"UPDATE {table} SET model = 'claude-unknown-9' "
                "WHERE org_id = 'globex-console' AND model = 'claude-haiku-4-5'"
            )
        rebuild_cost(con, w.start, w.end)
        result = facts_checks.unpriced_result(con, FACTS_COST, [(w.start, w.end)])
        lines = con.execute(
            "SELECT count(*), count(list_cost_usd) FROM facts.cost WHERE model = 'claude-unknown-9'"
        ).fetchone()
        zero = con.execute(
            "SELECT count(*) FROM facts.cost WHERE list_cost_usd = 0 AND org_kind = 'console'"
        ).fetchone()[0]
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["unpriced_models"].value == ["claude-unknown-9"]
    assert lines[0] == result.metadata["unpriced_rows"].value == 187 and lines[1] == 0 and zero == 0

"""facts.cost_reconciliation on the demo world: every known discrepancy lands in its named cause, at the
size the simulator's own generators give; the unexplained residual is zero; removing a cause's handling
moves its money to 'unexplained' (and the blocking check fails)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import dagster as dg
import duckdb
import pytest

from checks import reconciliation as checks
from claude_assets.facts import price_book, reconciliation
from claude_assets.facts.tables import COST_RECONCILIATION
from simulator.catalog import (
    MODELS_BY_ID,
    TOKEN_TYPES,
    WEB_SEARCH_MICROCENTS,
    price_microcents_per_token,
)
from simulator.truth import truth
from tests.conftest import make_sim

D = Decimal
MICROCENTS_PER_USD = Decimal(100_000_000)
TOLERANCE = Decimal("0.01")
CONSOLE_SQL = "console_billed_vs_usage_list"


@pytest.fixture(scope="module")
def sim():
    return make_sim()


@pytest.fixture
def con(raw_warehouse, tmp_path):
    c = duckdb.connect(str(raw_warehouse.copy_to(tmp_path)))
    price_book.write(c, price_book.merged_rows())
    yield c
    c.close()


def build(con, raw_warehouse) -> dict[tuple[str, str, str], Decimal]:
    """Rebuild the fixture's days; (org, comparison, cause) -> exact total."""
    reconciliation.rebuild(con, raw_warehouse.start, raw_warehouse.end)
    rows = con.execute(
        "SELECT org_id, comparison, cause, CAST(sum(amount_usd) AS VARCHAR) FROM facts.cost_reconciliation "
        "GROUP BY ALL"
    ).fetchall()
    return defaultdict(Decimal, {(o, c, k): Decimal(v) for o, c, k, v in rows})


def days(start: date, end: date):
    while start < end:
        yield start
        start += timedelta(days=1)


def console_truth(sim, slug: str, start: date, end: date) -> dict[str, Decimal]:
    """The Console discrepancies straight from the simulator's usage records and billed lines, in USD."""
    org = sim.world.by_slug(slug)
    data = sim.data(org, "console")
    keep = 1 - org.discount
    out = defaultdict(Decimal)
    for d in days(start, end):
        for rec in data.records(d):
            _, key, _, _, model_id, tier, ctx, geo, speed = rec.dims
            priced = [
                rec.metrics[i]
                * price_microcents_per_token(
                    MODELS_BY_ID[model_id],
                    tt,
                    d,
                    service_tier=tier,
                    context_window=ctx,
                    inference_geo=geo,
                    speed=speed,
                )
                for i, tt in enumerate(TOKEN_TYPES)
                if rec.metrics[i]
            ] + ([rec.metrics[5] * WEB_SEARCH_MICROCENTS] if rec.metrics[5] else [])
            for list_microcents in priced:
                if tier.startswith("priority"):
                    out["priority"] += list_microcents
                    continue
                exact = list_microcents * keep
                out["discount"] += list_microcents * org.discount
                out["rounding"] += exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN) - exact
                if key is None:
                    out["keyless_list"] += list_microcents
        for line in data.cost_lines(d):
            if line.fields[2] == "code_execution":
                out["code_execution"] += line.microcents
    return {k: v / MICROCENTS_PER_USD for k, v in out.items()}


@pytest.mark.parametrize("slug", ["acme-console", "globex-console"])
def test_console_causes_match_the_simulator(con, raw_warehouse, sim, slug):
    got = build(con, raw_warehouse)
    want = console_truth(sim, slug, raw_warehouse.start, raw_warehouse.end)
    key = (slug, CONSOLE_SQL)
    assert got[(*key, "negotiated_discount")] == -want["discount"]
    assert got[(*key, "priority_tier_not_in_cost_report")] == -want.get("priority", Decimal(0))
    assert got[(*key, "code_execution_not_in_usage")] == want["code_execution"]
    assert got[(*key, "rounding")] == want["rounding"]
    assert got[(*key, "keyless_workbench_usage")] == 0  # key-less usage is billed like keyed usage
    assert got[(*key, "unexplained")] == 0
    assert got[(*key, "revision_between_pulls")] == 0
    memo = con.execute(
        "SELECT CAST(sum(memo_usd) AS VARCHAR) FROM facts.cost_reconciliation WHERE org_id = ? "
        "AND cause = 'keyless_workbench_usage'",
        [slug],
    ).fetchone()[0]
    assert Decimal(memo) == want["keyless_list"]
    billed = truth(sim, slug, "console_cost", raw_warehouse.start, raw_warehouse.end)["total_usd"]
    to_figure = con.execute(
        "SELECT CAST(sum(to_figure_usd) AS VARCHAR) FROM (SELECT DISTINCT usage_date, cost_type, model, "
        "token_type, to_figure_usd FROM facts.cost_reconciliation WHERE org_id = ? AND comparison = ?)",
        [slug, CONSOLE_SQL],
    ).fetchone()[0]
    assert Decimal(to_figure) == Decimal(billed)


def test_the_demo_priority_and_discount_figures(con, raw_warehouse):
    """Hand-checked anchors: acme-console has priority-tier keys, globex-console has none; both get 5 %."""
    got = build(con, raw_warehouse)
    assert got[("acme-console", CONSOLE_SQL, "priority_tier_not_in_cost_report")] == Decimal("-156.41331886")
    assert got[("globex-console", CONSOLE_SQL, "priority_tier_not_in_cost_report")] == 0


def test_enterprise_amount_vs_list(con, raw_warehouse, sim):
    got = build(con, raw_warehouse)
    t = truth(sim, "acme-enterprise", "enterprise_cost", raw_warehouse.start, raw_warehouse.end)
    discount = Decimal(t["discount"])
    assert discount == sim.world.by_slug("acme-enterprise").discount
    list_usd, amount_usd = Decimal(t["total"]["list_amount_usd"]), Decimal(t["total"]["amount_usd"])
    key = ("acme-enterprise", "enterprise_amount_vs_list")
    assert got[(*key, "negotiated_discount")] == -list_usd * discount
    assert got[(*key, "rounding")] == amount_usd - list_usd * (1 - discount)
    assert got[(*key, "unexplained")] == 0


def test_enterprise_users_vs_org_is_non_seat_traffic(con, raw_warehouse, sim):
    got = build(con, raw_warehouse)
    t = truth(sim, "acme-enterprise", "enterprise_user_cost", raw_warehouse.start, raw_warehouse.end)
    non_seat = sum(Decimal(d["non_user_amount_usd"]) for d in t["days"])
    key = ("acme-enterprise", "enterprise_users_vs_org")
    assert non_seat > 100
    assert got[(*key, "non_seat_traffic")] == non_seat
    assert got[(*key, "revision_between_pulls")] == 0
    assert got[(*key, "unexplained")] == 0


def test_checks_pass_on_the_demo(con, raw_warehouse):
    build(con, raw_warehouse)
    ranges = [(raw_warehouse.start, raw_warehouse.end)]
    results = checks.results(con, COST_RECONCILIATION, ranges, TOLERANCE)
    assert [(r.check_name, r.passed) for r in results] == [
        (checks.UNEXPLAINED_WITHIN_TOLERANCE, True),
        (checks.LEGACY_ANALYTICS_PARITY, True),
        (checks.WATERFALL_CLOSES, True),
        (checks.FIGURES_AT_SCALE, True),
        (checks.SCHEMA, True),
    ]


def test_lineage_names_the_raw_pulls(con, raw_warehouse):
    build(con, raw_warehouse)
    row = con.execute(
        "SELECT source_tables, source_partitions, source_requests FROM facts.cost_reconciliation "
        "WHERE org_id = 'acme-console' AND usage_date = DATE '2026-11-10' AND cause = 'code_execution_not_in_usage' "
        "AND cost_type = 'code_execution'"
    ).fetchone()
    requests = con.execute(
        "SELECT DISTINCT source_request FROM raw.console_cost WHERE org_id = 'acme-console' "
        "AND usage_date = DATE '2026-11-10' AND cost_type = 'code_execution'"
    ).fetchall()
    assert row[0] == "raw.console_usage, raw.console_cost, facts.price_book"
    assert row[1] == "2026-11-10|acme-console"
    assert requests and all(r[0] in row[2] for r in requests)


def _break(monkeypatch, comparison: str, old: str, new: str) -> None:
    sql = reconciliation.SQL[comparison]
    assert old in sql
    monkeypatch.setitem(reconciliation.SQL, comparison, sql.replace(old, new))


def _unexplained_fails(con, raw_warehouse) -> bool:
    ranges = [(raw_warehouse.start, raw_warehouse.end)]
    return not checks.unexplained_within_tolerance(con, COST_RECONCILIATION, ranges, TOLERANCE).passed


def test_without_the_discount_it_is_unexplained(con, raw_warehouse, sim, monkeypatch):
    _break(monkeypatch, CONSOLE_SQL, "CAST(10000 - coalesce(r.kept_basis_points, 10000)", "CAST(0")
    got = build(con, raw_warehouse)
    want = console_truth(sim, "globex-console", raw_warehouse.start, raw_warehouse.end)
    assert got[("globex-console", CONSOLE_SQL, "negotiated_discount")] == 0
    assert got[("globex-console", CONSOLE_SQL, "unexplained")] == -want["discount"]
    assert _unexplained_fails(con, raw_warehouse)


def test_without_the_priority_rule_it_is_unexplained(con, raw_warehouse, monkeypatch):
    _break(monkeypatch, CONSOLE_SQL, "coalesce(service_tier LIKE 'priority%', false)", "false")
    got = build(con, raw_warehouse)
    assert got[("acme-console", CONSOLE_SQL, "priority_tier_not_in_cost_report")] == 0
    assert got[("acme-console", CONSOLE_SQL, "unexplained")] != 0
    assert _unexplained_fails(con, raw_warehouse)


def test_without_code_execution_it_is_unexplained(con, raw_warehouse, sim, monkeypatch):
    _break(
        monkeypatch,
        CONSOLE_SQL,
        "WHEN coalesce(u.cost_type, b.cost_type) = 'code_execution' THEN",
        "WHEN false THEN",
    )
    got = build(con, raw_warehouse)
    want = console_truth(sim, "acme-console", raw_warehouse.start, raw_warehouse.end)
    assert got[("acme-console", CONSOLE_SQL, "unexplained")] == want["code_execution"]
    assert _unexplained_fails(con, raw_warehouse)


def test_without_rounding_it_is_unexplained(con, raw_warehouse, sim, monkeypatch):
    _break(monkeypatch, CONSOLE_SQL, "- rounding_usd AS DECIMAL", "AS DECIMAL")
    _break(monkeypatch, CONSOLE_SQL, "WHEN 'rounding' THEN rounding_usd", "WHEN 'rounding' THEN 0")
    got = build(con, raw_warehouse)
    want = console_truth(sim, "globex-console", raw_warehouse.start, raw_warehouse.end)
    assert got[("globex-console", CONSOLE_SQL, "unexplained")] == want["rounding"] != 0
    # sub-cent: within the tolerance, so rounding alone never blocks a run


def test_without_the_enterprise_discount_it_is_unexplained(con, raw_warehouse, sim, monkeypatch):
    _break(
        monkeypatch,
        "enterprise_amount_vs_list",
        "* CAST(10000 - kept_basis_points AS DECIMAL(6, 0)) / 10000",
        "* 0",
    )
    got = build(con, raw_warehouse)
    t = truth(sim, "acme-enterprise", "enterprise_cost", raw_warehouse.start, raw_warehouse.end)
    discount = Decimal(t["total"]["list_amount_usd"]) * Decimal(t["discount"])
    assert discount > 100  # the discount the broken SQL no longer names is all unexplained
    assert got[("acme-enterprise", "enterprise_amount_vs_list", "unexplained")] <= -discount + 1
    assert _unexplained_fails(con, raw_warehouse)


def test_without_non_seat_traffic_it_is_unexplained(con, raw_warehouse, sim, monkeypatch):
    _break(
        monkeypatch,
        "enterprise_users_vs_org",
        "(g.product IS NULL OR g.product IN",
        "(false AND g.product IN",
    )
    got = build(con, raw_warehouse)
    t = truth(sim, "acme-enterprise", "enterprise_user_cost", raw_warehouse.start, raw_warehouse.end)
    non_seat = sum(Decimal(d["non_user_amount_usd"]) for d in t["days"])
    assert got[("acme-enterprise", "enterprise_users_vs_org", "unexplained")] == non_seat
    assert _unexplained_fails(con, raw_warehouse)


def _revise_one_day(con) -> Decimal:
    """The per-user report of 2026-11-20 as an earlier pull saw it: one seat user's chat row not yet in."""
    row = con.execute(
        "SELECT user_id, model, CAST(amount_usd AS VARCHAR) FROM raw.enterprise_user_cost "
        "WHERE usage_date = DATE '2026-11-20' AND product = 'chat' ORDER BY user_id, model LIMIT 1"
    ).fetchone()
    con.execute(
        "DELETE FROM raw.enterprise_user_cost WHERE usage_date = DATE '2026-11-20' AND product = 'chat' "
        "AND user_id = ? AND model = ?",
        [row[0], row[1]],
    )
    con.execute(
        "UPDATE raw.enterprise_user_cost SET data_refreshed_at = TIMESTAMPTZ '2026-11-21 06:00:00+00' "
        "WHERE usage_date = DATE '2026-11-20'"
    )
    return Decimal(row[2])


def test_a_revision_between_pulls(con, raw_warehouse):
    late = _revise_one_day(con)
    got = build(con, raw_warehouse)
    key = ("acme-enterprise", "enterprise_users_vs_org")
    assert got[(*key, "revision_between_pulls")] == late > 0
    assert got[(*key, "unexplained")] == 0


def test_without_the_revision_rule_it_is_unexplained(con, raw_warehouse, monkeypatch):
    late = _revise_one_day(con)
    _break(
        monkeypatch, "enterprise_users_vs_org", "(up.refreshed_at IS DISTINCT FROM op.refreshed_at)", "false"
    )
    got = build(con, raw_warehouse)
    assert got[("acme-enterprise", "enterprise_users_vs_org", "unexplained")] == late
    assert _unexplained_fails(con, raw_warehouse)


def test_cents_as_dollars_is_caught(con, raw_warehouse):
    con.execute(
        "UPDATE raw.console_cost SET amount_usd = amount_usd * 100 WHERE usage_date = DATE '2026-11-12'"
    )
    build(con, raw_warehouse)
    result = checks.figures_at_scale(con, COST_RECONCILIATION, [(raw_warehouse.start, raw_warehouse.end)])
    assert not result.passed


def test_a_double_counted_grouping_is_caught(con, raw_warehouse, monkeypatch):
    _break(
        monkeypatch,
        "enterprise_amount_vs_list",
        "WHERE grouping = 'token_type' AND",
        "WHERE grouping <> 'total' AND",
    )
    build(con, raw_warehouse)
    result = checks.figures_at_scale(con, COST_RECONCILIATION, [(raw_warehouse.start, raw_warehouse.end)])
    assert not result.passed


def test_the_asset_materializes_with_its_checks(raw_warehouse, tmp_path):
    """Through Dagster: the price book and the reconciliation over two days, every check green."""
    from dagster_duckdb import DuckDBResource

    from claude_assets.facts.assets import price_book_asset, reconciliation_asset

    path = str(raw_warehouse.copy_to(tmp_path))
    assets = [price_book_asset(raw_warehouse.config), reconciliation_asset(raw_warehouse.config)]
    dg.materialize([assets[0]], resources={"duckdb": DuckDBResource(database=path)})
    result = dg.materialize(
        [assets[1]], resources={"duckdb": DuckDBResource(database=path)}, partition_key="2026-11-10"
    )
    assert result.success
    checks_run = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks_run == dict.fromkeys(
        (
            checks.UNEXPLAINED_WITHIN_TOLERANCE,
            checks.LEGACY_ANALYTICS_PARITY,
            checks.WATERFALL_CLOSES,
            checks.FIGURES_AT_SCALE,
            checks.SCHEMA,
        ),
        True,
    )
    meta = result.asset_materializations_for_node(result.all_node_events[0].node_name)[0].metadata
    assert meta["dagster/row_count"].value > 0
    assert "run_console_billed_vs_usage_list.negotiated_discount_exact" in meta


def read_analytics(con, sim, *, consistent: bool = True) -> duckdb.DuckDBPyConnection:
    """The fixture's copy plus the Usage and Cost Analytics pull (raw.analytics_cost) of every demo
    organization, Console and Enterprise, for 2026-11-19..21, read through Dagster from ``sim``.
    ``consistent``: the runs succeed (else the raw checks must have caught the server's inconsistency)."""
    import os

    from claude_assets.definitions import build_definitions
    from demo.backfill import QUIET, backfill
    from simulator.serve import serve_in_thread
    from tests.raw_warehouse import key_env, raw_config

    path = con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal").fetchone()[0]
    con.close()
    with serve_in_thread(sim) as running:
        config = raw_config(sim, running.base_url)
        keys = {key_env(o.slug): sim.world.by_slug(o.slug).api_key for o in config.organizations}
        os.environ.update(keys)
        try:
            defs = build_definitions(config, path)
            runs = backfill(
                defs,
                ANALYTICS_START,
                ANALYTICS_END,
                selection=[dg.AssetKey(["raw", "analytics_cost"])],
                run_config=QUIET,
            )
        finally:
            for k in keys:
                os.environ.pop(k, None)
    if consistent:
        assert all(r.success for r in runs)
    else:  # rows are written, then the blocking check of the groupings fails the run
        failed = {
            e.asset_check_key.name for r in runs for e in r.get_asset_check_evaluations() if not e.passed
        }
        assert "grouped_equals_total" in failed, failed
    return duckdb.connect(path)


@pytest.fixture
def analytics_con(con, sim):
    c = read_analytics(con, sim)
    yield c
    c.close()


ANALYTICS_START, ANALYTICS_END = date(2026, 11, 19), date(2026, 11, 22)
PARITY = "legacy_vs_analytics"


def _parity(con) -> dict[tuple[str, str], Decimal]:
    """(organization, cause) -> the money it moves (in absolute value) on the legacy-vs-analytics lines."""
    reconciliation.rebuild(con, ANALYTICS_START, ANALYTICS_END)
    rows = con.execute(
        "SELECT org_id, cause, CAST(sum(abs(amount_usd)) AS VARCHAR) FROM facts.cost_reconciliation "
        f"WHERE comparison = '{PARITY}' GROUP BY ALL"
    ).fetchall()
    return {(org, cause): Decimal(v) for org, cause, v in rows}


def test_legacy_and_analytics_agree_exactly_for_every_organization(analytics_con, sim):
    """Console and Enterprise organizations alike: per day, model and cost type, the legacy record and the
    Usage and Cost Analytics API are the same money, to the last digit."""
    orgs = [o.slug for o in sim.world.organizations]
    assert _parity(analytics_con) == {
        (org, cause): 0 for org in orgs for cause in ("revision_between_pulls", "unexplained")
    }
    for org in orgs:
        kind = sim.world.by_slug(org).kind
        record = truth(sim, org, f"{kind}_cost", ANALYTICS_START, ANALYTICS_END)
        want = record["total_usd"] if kind == "console" else sum(D(d["amount_usd"]) for d in record["days"])
        lines = analytics_con.execute(
            "SELECT count(*), CAST(sum(from_figure_usd) AS VARCHAR), CAST(sum(to_figure_usd) AS VARCHAR), "
            "count(DISTINCT usage_date), count(DISTINCT cost_type) FROM (SELECT DISTINCT usage_date, model, "
            "cost_type, from_figure_usd, to_figure_usd FROM facts.cost_reconciliation "
            "WHERE org_id = ? AND comparison = ?)",
            [org, PARITY],
        ).fetchone()
        assert lines[0] > 3 and lines[3] == 3 and lines[4] >= 2, (org, lines)  # model x cost type lines
        assert D(lines[1]) == D(lines[2]) == D(str(want)), org
    for check in (checks.legacy_analytics_parity, checks.figures_at_scale):
        assert check(analytics_con, COST_RECONCILIATION, [(ANALYTICS_START, ANALYTICS_END)]).passed


@pytest.mark.bad_input
def test_a_server_at_odds_with_itself_leaves_an_unexplained_row_and_fails_the_parity_check(con):
    """The simulator made to disagree (its analytics cost adds 7 cents to each row naming a model): every
    such line is named 'unexplained', and the parity check fails (WARN while the legacy report is the
    record, ERROR once an organization's record is the analytics API)."""
    skewed = make_sim(analytics_cost_skew_cents=7)
    c = read_analytics(con, skewed, consistent=False)
    try:
        got = _parity(c)
        assert all(got[(o.slug, "unexplained")] > 0 for o in skewed.world.organizations), got
        assert all(got[(o.slug, "revision_between_pulls")] == 0 for o in skewed.world.organizations)
        worst = c.execute(
            "SELECT CAST(to_figure_usd - from_figure_usd AS VARCHAR), CAST(amount_usd AS VARCHAR), explanation "
            f"FROM facts.cost_reconciliation WHERE comparison = '{PARITY}' AND cause = 'unexplained' "
            "AND org_id = 'acme-console' AND amount_usd <> 0 ORDER BY usage_date, model, cost_type LIMIT 1"
        ).fetchone()
        assert D(worst[0]) == D(worst[1]) > 0 and D(worst[1]) % D("0.07") == 0
        assert "no documented cause" in worst[2]
        ranges = [(ANALYTICS_START, ANALYTICS_END)]
        warned = checks.legacy_analytics_parity(c, COST_RECONCILIATION, ranges)
        assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
        assert "acme-console" in warned.description and warned.metadata["failures"].value > 0
        failed = checks.legacy_analytics_parity(c, COST_RECONCILIATION, ranges, ["acme-enterprise"])
        assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
        # the other waterfalls are not blamed for it
        assert checks.unexplained_within_tolerance(c, COST_RECONCILIATION, ranges, TOLERANCE).passed
    finally:
        c.close()


def test_facts_cost_reads_the_record_each_organization_names(analytics_con, sim):
    """cost_record: analytics puts an organization's billed lines on raw.analytics_cost for the days that API
    was read for it (the same money, by parity); other days and other organizations keep the legacy lines."""
    from claude_assets.facts.cost import rebuild_cost

    first = ANALYTICS_START - timedelta(days=2)  # two days read from the legacy reports only
    rebuild_cost(
        analytics_con,
        first,
        ANALYTICS_END,
        analytics_record={"acme-console": "console", "acme-enterprise": "enterprise"},
    )
    got = analytics_con.execute(
        "SELECT org_id, usage_date, source, org_kind, CAST(sum(billed_cost_usd) AS VARCHAR) FROM facts.cost "
        "WHERE charge_kind = 'billed' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    by = {(org, day): (source, kind, D(total)) for org, day, source, kind, total in got}
    assert len(by) == len(got)  # one source per organization-day: never both records
    for o in sim.world.organizations:
        record = truth(sim, o.slug, f"{o.kind}_cost", first, ANALYTICS_END)["days"]
        want = (
            {date.fromisoformat(d): D(v["amount_usd"]) for d, v in record.items()}
            if o.kind == "console"
            else {date.fromisoformat(d["date"]): D(d["amount_usd"]) for d in record}
        )
        for day, amount in want.items():
            on_analytics = o.slug != "globex-console" and day >= ANALYTICS_START
            source = "raw.analytics_cost" if on_analytics else f"raw.{o.kind}_cost"
            assert by[(o.slug, day)] == (source, o.kind, amount), (o.slug, day)

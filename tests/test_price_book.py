"""The price book and list pricing: every rule of shared/pricing.md against figures computed by hand, the
override file, and agreement with the simulator's own price list."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from claude_assets.config import ProjectConfig
from claude_assets.facts import price_book
from claude_assets.facts.assets import price_book_asset
from claude_assets.facts.pricing import priced_sql, unpriced_models_sql
from simulator import catalog

D = Decimal
DAY = date(2026, 11, 10)
HEADER = ",".join(price_book.COLUMNS)
PAGE = "https://example.test/pricing"
USAGE_COLUMNS = [
    *("n", "usage_date", "model", "token_type", "service_tier", "context_window", "inference_geo", "speed"),
    "quantity",
]


@pytest.fixture(scope="module")
def book() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    price_book.write(con, price_book.merged_rows())
    return con


def usage(
    model: str | None,
    token_type: str,
    quantity: int,
    *,
    on: date = DAY,
    tier: str | None = "standard",
    context: str | None = "0-200k",
    geo: str | None = "global",
    speed: str | None = "standard",
) -> tuple:
    return (on, model, token_type, tier, context, geo, speed, quantity)


def price(con: duckdb.DuckDBPyConnection, *rows: tuple) -> list[tuple[Decimal | None, str]]:
    """(list_cost_usd, price_rule) of each usage row, in order; asserts the cost's type is exact."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE usage_rows (n INTEGER, usage_date DATE, model VARCHAR, token_type VARCHAR, "
        "service_tier VARCHAR, context_window VARCHAR, inference_geo VARCHAR, speed VARCHAR, quantity BIGINT)"
    )
    con.register("staged", pd.DataFrame([(i, *r) for i, r in enumerate(rows)], columns=USAGE_COLUMNS))
    con.execute("INSERT INTO usage_rows SELECT * FROM staged")
    con.unregister("staged")
    out = con.execute(
        f"SELECT list_cost_usd, price_rule, typeof(list_cost_usd) FROM ({priced_sql('usage_rows')}) ORDER BY n"
    ).fetchall()
    assert len(out) == len(rows) and {t for _, _, t in out} == {"DECIMAL(38,12)"}
    return [(cost, rule) for cost, rule, _ in out]


def costs(con: duckdb.DuckDBPyConnection, *rows: tuple) -> list[Decimal | None]:
    return [cost for cost, _ in price(con, *rows)]


# -- each rule -------------------------------------------------------------------------------------------
def test_base_price_per_token_type(book):
    q = 1_234_567  # Sonnet 4.5: 3 / 3.75 / 6 / 0.30 / 15 USD per million tokens
    assert costs(
        book,
        usage("claude-sonnet-4-5", "uncached_input_tokens", q),
        usage("claude-sonnet-4-5", "cache_creation.ephemeral_5m_input_tokens", q),
        usage("claude-sonnet-4-5", "cache_creation.ephemeral_1h_input_tokens", q),
        usage("claude-sonnet-4-5", "cache_read_input_tokens", q),
        usage("claude-sonnet-4-5", "output_tokens", q),
        usage("claude-3-haiku", "output_tokens", 3),  # 1.25 / MTok: 3.75e-6
    ) == [D("3.703701"), D("4.62962625"), D("7.407402"), D("0.3703701"), D("18.518505"), D("0.00000375")]


def test_batch_halves_every_token_price_but_not_web_search(book):
    assert costs(
        book,
        usage("claude-haiku-4-5", "output_tokens", 2_000_000, tier="batch"),  # 5 x 2 x 0.5
        usage("claude-haiku-4-5", "cache_read_input_tokens", 1_000_000, tier="batch"),  # 0.10 x 0.5
        usage("claude-haiku-4-5", "output_tokens", 2_000_000, tier="standard"),
        usage("claude-haiku-4-5", "web_search_requests", 3, tier="batch"),  # 10 / 1,000 each
    ) == [D("5"), D("0.05"), D("10"), D("0.03")]


def test_long_context_on_sonnet_4_5_but_not_on_sonnet_4_6(book):
    lc = {"context": "200k-1M"}
    assert costs(
        book,
        usage("claude-sonnet-4-5", "uncached_input_tokens", 1_000_000, **lc),  # 3 x 2
        usage("claude-sonnet-4-5", "cache_read_input_tokens", 1_000_000, **lc),  # 0.30 x 2
        usage("claude-sonnet-4-5", "output_tokens", 1_000_000, **lc),  # 15 x 1.5
        usage("claude-sonnet-4-0", "output_tokens", 1_000_000, **lc),  # Sonnet 4: same rule
        usage("claude-sonnet-4-6", "uncached_input_tokens", 1_000_000, **lc),  # no surcharge
        usage("claude-sonnet-4-6", "output_tokens", 1_000_000, **lc),
        usage("claude-opus-4-6", "output_tokens", 1_000_000, **lc),
    ) == [D("6"), D("0.6"), D("22.5"), D("22.5"), D("3"), D("15"), D("25")]


def test_fast_mode_6x_on_opus_4_6_and_4_7_2x_on_opus_4_8_and_5(book):
    fast = {"speed": "fast"}
    assert costs(
        book,
        usage("claude-opus-4-6", "output_tokens", 1_000_000, **fast),  # 25 x 6
        usage("claude-opus-4-7", "uncached_input_tokens", 1_000_000, **fast),  # 5 x 6
        usage("claude-opus-4-8", "uncached_input_tokens", 1_000_000, **fast),  # 5 x 2
        usage("claude-opus-5", "output_tokens", 1_000_000, **fast),  # 25 x 2
        usage("claude-opus-5-5", "output_tokens", 1_000_000, **fast),  # no fast rule: the stem is opus-5-5
        usage("claude-opus-4-6", "output_tokens", 1_000_000),  # standard speed
    ) == [D("150"), D("30"), D("10"), D("50"), D("20"), D("25")]


def test_us_inference_1_1x_only_on_opus_4_6_and_later(book):
    us = {"geo": "us"}
    assert costs(
        book,
        usage("claude-opus-4-6", "uncached_input_tokens", 1_000_000, **us),  # 5 x 1.1
        usage("claude-sonnet-4-6", "output_tokens", 1_000_000, **us),  # 15 x 1.1
        usage("claude-haiku-5-5", "cache_read_input_tokens", 1_000_000, **us),  # 0.01 x 1.1
        usage("claude-opus-4-5", "uncached_input_tokens", 1_000_000, **us),  # earlier: no surcharge
        usage("claude-haiku-4-5", "uncached_input_tokens", 1_000_000, **us),
        usage("claude-opus-4-6", "uncached_input_tokens", 1_000_000, geo="global"),
        usage(
            "claude-opus-4-6", "output_tokens", 1_000_000, geo="us", speed="fast", tier="batch"
        ),  # 25x1.1x6x0.5
    ) == [D("5.5"), D("16.5"), D("0.011"), D("5"), D("1"), D("5"), D("82.5")]


def test_web_search_is_10_usd_per_1000_searches_for_any_model(book):
    assert costs(
        book,
        usage("claude-sonnet-4-5", "web_search_requests", 7),
        usage("claude-not-a-model", "web_search_requests", 1_000),
        usage(None, "web_search_requests", 1, tier=None, context=None, geo=None, speed=None),
    ) == [D("0.07"), D("10"), D("0.01")]


def test_code_execution_per_container_hour_in_millionths_of_an_hour(book):
    assert costs(book, usage(None, "code_execution_hours", 1_500_000, tier=None)) == [D("0.075")]


def test_sonnet_5_5_cache_read_changes_on_2026_10_07(book):
    assert costs(
        book,
        usage("claude-sonnet-5-5", "cache_read_input_tokens", 1_000_000, on=date(2026, 10, 6)),
        usage("claude-sonnet-5-5", "cache_read_input_tokens", 1_000_000, on=date(2026, 10, 7)),
        usage("claude-sonnet-5-5", "uncached_input_tokens", 1_000_000, on=date(2026, 10, 7)),  # unchanged
    ) == [D("0.2"), D("0.1"), D("2")]
    assert book.execute(
        "SELECT effective_from, effective_to, usd_per_unit FROM facts.price_book "
        "WHERE model = 'claude-sonnet-5-5' AND token_type = 'cache_read_input_tokens' ORDER BY 1"
    ).fetchall() == [(date(2024, 1, 1), date(2026, 10, 6), D("0.2")), (date(2026, 10, 7), None, D("0.1"))]


def test_haiku_5_5_long_prompt_tier_is_recorded_but_the_short_prompt_price_applies(book):
    assert costs(book, usage("claude-haiku-5-5", "uncached_input_tokens", 1_000_000)) == [D("0.1")]
    assert book.execute(
        "SELECT usd_per_unit FROM facts.price_book WHERE model = 'claude-haiku-5-5' "
        "AND token_type = 'output_tokens' AND condition = 'prompt_tokens=over-100k'"
    ).fetchall() == [(D("2.5"),)]


def test_a_model_id_matches_the_longest_stem_it_starts_with(book):
    on = date(2026, 11, 1)
    assert price(
        book,
        usage("claude-sonnet-4-5-20250929", "output_tokens", 1_000_000),
        usage(
            "claude-sonnet-5-5-20260915", "cache_read_input_tokens", 1_000_000, on=on
        ),  # not sonnet-5 (0.20)
        usage("claude-opus-5-5-20261201", "output_tokens", 1_000_000),  # not opus-5 (25)
        usage("claude-opus-4-10", "output_tokens", 1_000_000),  # a stem ends at a dash: not opus-4-1
    ) == [
        (D("15"), "claude-sonnet-4-5 output_tokens 15 USD/MTok from 2024-01-01 (default)"),
        (D("0.1"), "claude-sonnet-5-5 cache_read_input_tokens 0.1 USD/MTok from 2026-10-07 (default)"),
        (D("20"), "claude-opus-5-5 output_tokens 20 USD/MTok from 2024-01-01 (default)"),
        (None, "unpriced: no price for claude-opus-4-10 output_tokens on 2026-11-10"),
    ]


def test_unknown_model_is_unpriced_never_zero_and_named(book):
    rows = [
        usage("claude-unknown-9", "output_tokens", 1_000_000),
        usage("claude-unknown-9", "uncached_input_tokens", 0),
        usage("claude-sonnet-4-5", "output_tokens", 1_000_000, tier="batch"),
        usage(None, "output_tokens", 5),
    ]
    assert price(book, *rows)[:2] == [
        (None, "unpriced: no price for claude-unknown-9 output_tokens on 2026-11-10"),
        (None, "unpriced: no price for claude-unknown-9 uncached_input_tokens on 2026-11-10"),
    ]
    assert price(book, *rows)[2][1] == (
        "claude-sonnet-4-5 output_tokens 15 USD/MTok from 2024-01-01 (default) x 0.5 (service_tier=batch)"
    )
    unpriced = book.execute(unpriced_models_sql(f"({priced_sql('usage_rows')})")).fetchall()
    assert [(m, t, n) for m, t, n, _, _ in unpriced] == [
        ("(no model)", "output_tokens", 1),
        ("claude-unknown-9", "output_tokens, uncached_input_tokens", 2),
    ]


def test_every_column_of_the_relation_is_kept(book):
    book.execute(
        "CREATE OR REPLACE TEMP TABLE wide AS SELECT DATE '2026-11-10' AS usage_date, 'acme' AS org_id, "
        "'claude-haiku-4-5' AS model, 'output_tokens' AS token_type, 'standard' AS service_tier, "
        "NULL AS context_window, NULL AS inference_geo, NULL AS speed, 10::BIGINT AS quantity"
    )
    cur = book.execute(f"SELECT * FROM ({priced_sql('(SELECT * FROM wide)')})")
    assert [c[0] for c in cur.description] == [
        *("usage_date", "org_id", "model", "token_type", "service_tier", "context_window", "inference_geo"),
        *("speed", "quantity", "list_cost_usd", "price_rule"),
    ]
    assert cur.fetchall()[0][-2] == D("0.00005")


# -- overrides ---------------------------------------------------------------------------------------------------
def write_csv(path: Path, *lines: str) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def test_overrides_replace_and_add(tmp_path):
    path = write_csv(
        tmp_path / "our-prices.csv",
        f"claude-haiku-4-5,output_tokens,,4,MTok,,2024-01-01,false,{PAGE},negotiated list",  # replaces
        f"claude-test-1,uncached_input_tokens,,7,MTok,,2026-01-01,false,{PAGE},",  # a new model
        f"claude-sonnet-4-5,uncached_input_tokens,,3.5,MTok,,2026-11-15,false,{PAGE},",  # a new price from a day
        f"claude-test-1,*_tokens,speed=fast,,,,2026-01-01,false,{PAGE},",  # (bad: no multiplier) replaced below
    )
    with pytest.raises(price_book.PriceBookError, match=r"our-prices.csv:5: multiplier: required"):
        price_book.merged_rows(path)
    path = write_csv(path, *path.read_text().splitlines()[1:4])
    rows = price_book.merged_rows(path)
    assert len(rows) == len(price_book.merged_rows()) + 2
    con = duckdb.connect()
    price_book.write(con, rows)
    assert costs(
        con,
        usage("claude-haiku-4-5", "output_tokens", 1_000_000),
        usage("claude-haiku-4-5", "uncached_input_tokens", 1_000_000),  # untouched default
        usage("claude-test-1-20260101", "uncached_input_tokens", 1_000_000),
        usage(
            "claude-test-1", "uncached_input_tokens", 1_000_000, on=date(2025, 12, 31)
        ),  # before it applies
        usage("claude-sonnet-4-5", "uncached_input_tokens", 1_000_000, on=date(2026, 11, 14)),
        usage("claude-sonnet-4-5", "uncached_input_tokens", 1_000_000, on=date(2026, 11, 15)),
    ) == [D("4"), D("1"), D("7"), None, D("3"), D("3.5")]
    assert con.execute(
        "SELECT origin, count(*) FROM facts.price_book GROUP BY ALL ORDER BY ALL"
    ).fetchall() == [("default", len(rows) - 3), ("our-prices.csv", 3)]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            f"claude-x,output_tokens,,abc,MTok,,2026-01-01,false,{PAGE},",
            "usd_per_unit: 'abc' is not a decimal",
        ),
        (
            f"claude-x,output_tokens,,1.0000001,MTok,,2026-01-01,false,{PAGE},",
            "usd_per_unit: '1.0000001' has more",
        ),
        (f"claude-x,output_tokens,,,MTok,,2026-01-01,false,{PAGE},", "usd_per_unit: required"),
        (
            f"claude-x,output_tokens,,1,MTok,,2026-13-01,false,{PAGE},",
            "effective_from: '2026-13-01' is not a date",
        ),
        (
            f"claude-x,output_token,,1,MTok,,2026-01-01,false,{PAGE},",
            "token_type: 'output_token' must be one of",
        ),
        (
            f"claude-x,output_tokens,,1,1K searches,,2026-01-01,false,{PAGE},",
            "unit: '1K searches' does not price",
        ),
        (
            f"Claude X,output_tokens,,1,MTok,,2026-01-01,false,{PAGE},",
            "model: 'Claude X' is not a model id stem",
        ),
        (
            f"claude-x,*_tokens,tier=batch,,,0.5,2026-01-01,false,{PAGE},",
            "condition: 'tier=batch' must be key=value",
        ),
        (
            f"claude-x,*_tokens,speed=fast,,,1.125,2026-01-01,false,{PAGE},",
            "multiplier: '1.125' has more than 2",
        ),
        (f"claude-x,output_tokens,,1,MTok,,2026-01-01,yes,{PAGE},", "derived: 'yes' must be true or false"),
        ("claude-x,output_tokens,,1,MTok,,2026-01-01,false,,", "source: required"),
        ("claude-x,output_tokens,,1,MTok", "(row): 5 fields, expected 10"),
    ],
)
def test_a_malformed_override_file_names_file_line_and_field(tmp_path, line, says):
    path = write_csv(
        tmp_path / "prices.csv", f"claude-y,output_tokens,,1,MTok,,2026-01-01,false,{PAGE},", line
    )
    with pytest.raises(price_book.PriceBookError) as info:
        price_book.merged_rows(path)
    assert f"{path}:3: {says}" in str(info.value)


def test_override_file_header_and_duplicates(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("model,token_type,price\n")
    with pytest.raises(price_book.PriceBookError, match=rf"{path}:1: \(header\): the columns must be model,"):
        price_book.merged_rows(path)
    row = f"claude-y,output_tokens,,1,MTok,,2026-01-01,false,{PAGE},"
    write_csv(path, row, "", row)
    with pytest.raises(price_book.PriceBookError, match=rf"{path}:4: effective_from: the same .* as line 2"):
        price_book.merged_rows(path)


def test_asset_reports_origins_and_blocks_a_rule_no_price_reaches(tmp_path):
    good = write_csv(tmp_path / "ours.csv", f"claude-test-1,output_tokens,,7,MTok,,2026-01-01,false,{PAGE},")
    warehouse = DuckDBResource(database=str(tmp_path / "w.duckdb"))
    result = dg.materialize(
        [price_book_asset(ProjectConfig(price_book_file=good))], resources={"duckdb": warehouse}
    )
    (event,) = result.get_asset_materialization_events()
    meta = {k: v.value for k, v in event.materialization.metadata.items()}
    assert (meta["rows"], meta["origin/default"], meta["origin/ours.csv"]) == (146, 145, 1)
    assert meta["models"] == 24 and meta["dagster/row_count"] == 146
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"grain_unique": True, "rules_reach_a_price": True, "models_fully_priced": False}

    stray = write_csv(
        tmp_path / "typo.csv", f"claude-opus-4-66,*_tokens,speed=fast,,,6,2026-01-01,false,{PAGE},"
    )
    result = dg.materialize(
        [price_book_asset(ProjectConfig(price_book_file=stray))],
        resources={"duckdb": warehouse},
        raise_on_error=False,
    )
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["rules_reach_a_price"] is False


# -- the simulator's price list ------------------------------------------------------------------------------
def test_price_book_agrees_with_the_simulators_price_list(book):
    """The simulator follows pricing.md independently: every model it knows, token type, tier, context,
    geo and speed it bills, on dates around the 2026-10-07 change, priced alike to the last digit."""
    days = (date(2026, 3, 1), date(2026, 10, 6), date(2026, 10, 7), date(2026, 11, 20))
    names = {
        t: t for t in catalog.TOKEN_TYPES
    }  # the price book speaks the cost report's token types, as the simulator
    cases, expected = [], []
    for model, on, token_type, tier, ctx, geo, speed in itertools.product(
        catalog.MODELS,
        days,
        catalog.TOKEN_TYPES,
        ("standard", "batch"),
        ("0-200k", "200k-1M"),
        ("global", "us", "not_available"),
        ("standard", "fast"),
    ):
        cases.append(
            usage(model.id, names[token_type], 1_000_000, on=on, tier=tier, context=ctx, geo=geo, speed=speed)
        )
        unit = catalog.price_microcents_per_token(
            model, token_type, on, service_tier=tier, context_window=ctx, inference_geo=geo, speed=speed
        )
        expected.append(unit * 1_000_000 / catalog.MICROCENTS_PER_USD)
    cases += [
        usage("claude-sonnet-4-5", "web_search_requests", 1),
        usage(None, "code_execution_hours", 1_000_000),
    ]
    expected += [
        D(catalog.WEB_SEARCH_MICROCENTS) / catalog.MICROCENTS_PER_USD,
        D(catalog.CODE_EXECUTION_MICROCENTS_PER_HOUR) / catalog.MICROCENTS_PER_USD,
    ]
    got = costs(book, *cases)
    disagreements = [(c, g, e) for c, g, e in zip(cases, got, expected, strict=True) if g != e]
    assert not disagreements, disagreements[:5]
    assert len(cases) == len(catalog.MODELS) * 4 * 5 * 24 + 2

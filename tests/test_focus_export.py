"""The FOCUS 1.2 export (``exports.focus_cost`` and its monthly files), checked with the FinOps Foundation's
focus-validator (``tests/focus_validator.py``) and against facts.cost's billed totals to the last digit.

The export is built here from a facts.cost written by hand, row by row as its contract says, with exact
amounts whose totals the test sums itself; two organizations, two months, estimate rows (never exported),
an unpriced line, a named workspace, a renamed one and the default workspace.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.exports import focus
from claude_assets.exports.assets import LIST_PRICED, MATCHES_FACTS, exports_assets
from claude_assets.exports.tables import FILE_COLUMNS, FOCUS_COLUMNS
from claude_assets.inventory.tables import ORGANIZATION, WORKSPACES_TABLE
from claude_assets.warehouse.writes import ensure
from tests import focus_validator

#: the facts.cost contract, column by column
FACTS_COST_DDL = """
CREATE SCHEMA IF NOT EXISTS facts;
CREATE TABLE facts.cost (
  org_id VARCHAR NOT NULL, usage_date DATE NOT NULL, org_kind VARCHAR NOT NULL, source VARCHAR NOT NULL,
  source_grain VARCHAR NOT NULL, charge_kind VARCHAR NOT NULL, description VARCHAR, workspace_id VARCHAR,
  api_key_id VARCHAR, user_id VARCHAR, product VARCHAR, model VARCHAR, service_tier VARCHAR,
  context_window VARCHAR, inference_geo VARCHAR, speed VARCHAR, cost_type VARCHAR, token_type VARCHAR,
  currency VARCHAR NOT NULL, billed_cost_usd DECIMAL(38, 12) NOT NULL, list_cost_usd DECIMAL(38, 12),
  effective_cost_usd DECIMAL(38, 12) NOT NULL, estimated_cost_usd DECIMAL(38, 12),
  data_refreshed_at TIMESTAMPTZ, fetched_at TIMESTAMPTZ NOT NULL, source_request VARCHAR NOT NULL
)
"""
FOCUS_NAMES = {c.name for c in FOCUS_COLUMNS}
FACTS_COLUMNS = [
    *("org_id", "usage_date", "org_kind", "source", "source_grain", "charge_kind", "description"),
    *("workspace_id", "api_key_id", "user_id", "product", "model", "service_tier", "context_window"),
    *("inference_geo", "speed", "cost_type", "token_type", "currency", "billed_cost_usd", "list_cost_usd"),
    *("effective_cost_usd", "estimated_cost_usd", "data_refreshed_at", "fetched_at", "source_request"),
]

START, END = date(2026, 10, 20), date(2026, 11, 10)  # crosses a month end
CONSOLE, ENTERPRISE = "acme-console", "acme-enterprise"
ORG_UUID = "8a6c2b1e-0000-4000-8000-000000000001"
WORKSPACES = {"wrkspc_01": "Research", "wrkspc_02": "Support bots", None: None}
MODELS = ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5")
TOKEN_TYPES = ("uncached_input_tokens", "output_tokens", "cache_read_input_tokens")
FETCHED = datetime(2026, 11, 12, 3, 0, tzinfo=UTC)


def _console_rows(rng: random.Random) -> list[dict]:
    rows = []
    day = START
    while day < END:
        for ws in WORKSPACES:
            for model in MODELS:
                for token_type in TOKEN_TYPES:
                    for tier in ("standard", "batch"):
                        billed = Decimal(rng.randrange(1, 10**7)).scaleb(-6)  # micro-dollars, exact
                        priced = not (model == "claude-haiku-4-5" and day == date(2026, 11, 3))
                        rows.append(
                            {
                                "org_id": CONSOLE,
                                "usage_date": day,
                                "org_kind": "console",
                                "source": "raw.console_cost",
                                "source_grain": "day x workspace x cost line",
                                "charge_kind": "billed",
                                "description": f"{model} Usage - {token_type} ({tier})",
                                "workspace_id": ws,
                                "model": model,
                                "service_tier": tier,
                                "context_window": "0-200k",
                                "inference_geo": "global",
                                "speed": "standard",
                                "cost_type": "tokens",
                                "token_type": token_type,
                                "currency": "USD",
                                "billed_cost_usd": billed,
                                "list_cost_usd": billed * Decimal("1.25") if priced else None,
                                "effective_cost_usd": billed,
                                "fetched_at": FETCHED,
                                "source_request": f"GET /v1/organizations/cost_report?starting_at={day}",
                            }
                        )
        # priority tier at list price: an estimate, never a billed charge
        rows.append(
            {
                **rows[-1],
                "charge_kind": "estimate",
                "description": "priority tier usage at list price",
                "service_tier": "priority",
                "billed_cost_usd": Decimal(0),
                "effective_cost_usd": Decimal(0),
                "list_cost_usd": Decimal("7.5"),
                "estimated_cost_usd": Decimal("7.5"),
                "source": "raw.console_usage",
            }
        )
        day += timedelta(days=1)
    return rows


def _enterprise_rows(rng: random.Random) -> list[dict]:
    rows = []
    day = START
    while day < END:
        for model in MODELS:
            for token_type in (*TOKEN_TYPES, "cache_creation_input_tokens"):
                billed = Decimal(rng.randrange(1, 10**9)).scaleb(-8)
                rows.append(
                    {
                        "org_id": ENTERPRISE,
                        "usage_date": day,
                        "org_kind": "enterprise",
                        "source": "raw.enterprise_cost",
                        "source_grain": "day x model x cost type x token type",
                        "charge_kind": "billed",
                        "description": None,
                        "model": model,
                        "cost_type": "tokens",
                        "token_type": token_type,
                        "currency": "USD",
                        "billed_cost_usd": billed,
                        "list_cost_usd": billed * 2,
                        "effective_cost_usd": billed,
                        "data_refreshed_at": datetime.combine(day, datetime.min.time(), UTC)
                        + timedelta(days=1),
                        "fetched_at": FETCHED,
                        "source_request": f"GET /v1/organizations/analytics/cost_report?date={day}",
                    }
                )
        rows.append(
            {
                **rows[-1],
                "charge_kind": "estimate",
                "source": "raw.claude_code_model_usage",
                "product": "claude_code",
                "billed_cost_usd": Decimal(0),
                "effective_cost_usd": Decimal(0),
                "estimated_cost_usd": Decimal("3.14"),
            }
        )
        day += timedelta(days=1)
    return rows


FACTS_ROWS = _console_rows(random.Random(7)) + _enterprise_rows(random.Random(8))
BILLED = [r for r in FACTS_ROWS if r["charge_kind"] == "billed"]


def _expected(rows: list[dict], key) -> dict:
    totals: dict = defaultdict(Decimal)
    for r in rows:
        totals[key(r)] += r["billed_cost_usd"]
    return dict(totals)


def write_facts(path: Path) -> None:
    """facts.cost as its contract says, and the inventory names the export reads, in a new warehouse."""
    with duckdb.connect(str(path)) as con:
        con.execute(FACTS_COST_DDL)
        marks = ", ".join("?" for _ in FACTS_COLUMNS)
        con.executemany(
            f"INSERT INTO facts.cost VALUES ({marks})",
            [[r.get(c) for c in FACTS_COLUMNS] for r in FACTS_ROWS],
        )
        for table in (ORGANIZATION, WORKSPACES_TABLE):
            ensure(con, table)
        snapshot = "GET /v1/organizations/me"
        con.execute(
            "INSERT INTO inventory.organization (org_id, organization_id, type, name, row_hash, valid_from, "
            "is_current, fetched_at, source_request) VALUES (?, ?, 'organization', 'Acme Corp', 'h', ?, true, ?, ?)",
            [CONSOLE, ORG_UUID, datetime(2026, 1, 1, tzinfo=UTC), FETCHED, snapshot],
        )
        versions = [  # wrkspc_02 was renamed on 2026-11-01 at noon: the day's end sees the new name
            ("wrkspc_01", "Research", datetime(2025, 6, 1, tzinfo=UTC), None),
            ("wrkspc_02", "Bots", datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 11, 1, 12, tzinfo=UTC)),
            ("wrkspc_02", "Support bots", datetime(2026, 11, 1, 12, tzinfo=UTC), None),
        ]
        for ws, name, valid_from, valid_to in versions:
            con.execute(
                "INSERT INTO inventory.workspaces (org_id, workspace_id, type, name, row_hash, valid_from, "
                "valid_to, is_current, fetched_at, source_request, is_default) "
                "VALUES (?, ?, 'workspace', ?, 'h', ?, ?, ?, ?, ?, false)",
                [CONSOLE, ws, name, valid_from, valid_to, valid_to is None, FETCHED, snapshot],
            )


def config() -> ProjectConfig:
    return ProjectConfig(
        organizations=(
            OrgConfig(slug=CONSOLE, kind="console", key_env="FOCUS_TEST_CONSOLE_KEY"),
            OrgConfig(slug=ENTERPRISE, kind="enterprise", key_env="FOCUS_TEST_ENTERPRISE_KEY"),
        )
    )


def materialize(warehouse: Path, start: date, end: date) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        exports_assets(config()),
        resources={"duckdb": DuckDBResource(database=str(warehouse))},
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": (end - timedelta(days=1)).isoformat(),
        },
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:
    folder = tmp_path_factory.mktemp("focus")
    warehouse = folder / "warehouse.duckdb"
    write_facts(warehouse)
    return warehouse, materialize(warehouse, START, END)


#: FOCUS 1.2's 21 mandatory columns and the validator's rule that each is present (CostAndUsage-D-nnn-M)
MANDATORY_PRESENCE = {
    column: f"CostAndUsage-D-{n:03d}-M"
    for column, n in {
        "BillingAccountName": 5,
        "BilledCost": 6,
        "ChargeCategory": 8,
        "BillingPeriodStart": 9,
        "BillingPeriodEnd": 10,
        "PublisherName": 21,
        "InvoiceIssuerName": 23,
        "BillingAccountId": 24,
        "ChargeDescription": 25,
        "ChargeClass": 26,
        "ChargePeriodEnd": 28,
        "ContractedCost": 30,
        "EffectiveCost": 31,
        "ListCost": 32,
        "BillingCurrency": 35,
        "PricingQuantity": 36,
        "ChargePeriodStart": 37,
        "ProviderName": 38,
        "ServiceCategory": 40,
        "ServiceName": 41,
        "PricingUnit": 68,
    }.items()
}


def test_the_export_has_the_21_mandatory_focus_columns():
    assert len(MANDATORY_PRESENCE) == 21
    assert set(MANDATORY_PRESENCE) <= set(FILE_COLUMNS)
    assert all(c.startswith("x_") or c in FOCUS_NAMES for c in FILE_COLUMNS)


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_the_export_holds_every_billed_line_and_its_exact_totals(exported):
    warehouse, result = exported
    assert result.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT org_id, strftime(usage_date, '%Y-%m'), count(*), sum(\"BilledCost\")::VARCHAR, "
            'typeof(sum("BilledCost")) FROM exports.focus_cost GROUP BY ALL'
        ).fetchall()
    by_month = _expected(BILLED, lambda r: (r["org_id"], f"{r['usage_date']:%Y-%m}"))
    counts = defaultdict(int)
    for r in BILLED:
        counts[(r["org_id"], f"{r['usage_date']:%Y-%m}")] += 1
    assert {(org, month): (n, Decimal(total)) for org, month, n, total, _ in rows} == {
        k: (counts[k], v) for k, v in by_month.items()
    }
    assert {t for *_, t in rows} == {"DECIMAL(38,12)"}
    assert _checks(result)[MATCHES_FACTS].passed
    # the Haiku lines of 2026-11-03 have no list price: a warning, and ListCost stands at BilledCost
    unpriced = _checks(result)[LIST_PRICED]
    assert not unpriced.passed and unpriced.severity == dg.AssetCheckSeverity.WARN
    assert unpriced.metadata["unpriced_rows_by_model"].value == {"claude-haiku-4-5": 18}


def test_columns_carry_the_focus_values_names_and_periods(exported):
    warehouse, _ = exported
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        picked = con.execute(
            'SELECT "BillingAccountId", "BillingAccountName", "SubAccountId", "SubAccountName", '
            '"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", '
            '"ChargeDescription", "ListCost"::VARCHAR, "ContractedCost" = "BilledCost", usage_date '
            "FROM exports.focus_cost WHERE usage_date IN ('2026-10-31', '2026-11-01') "
            "AND x_Model = 'claude-opus-4-1' AND x_TokenType = 'output_tokens' "
            "AND (x_ServiceTier = 'batch' OR x_ServiceTier IS NULL) ORDER BY usage_date, org_id, SubAccountId"
        ).fetchall()
        kinds = con.execute("SELECT DISTINCT x_Source FROM exports.focus_cost ORDER BY 1").fetchall()
    utc = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    oct_, nov, dec = utc(2026, 10, 1), utc(2026, 11, 1), utc(2026, 12, 1)
    by_key = {(p[11], p[2] if p[0] == ORG_UUID else p[0]): p for p in picked}
    research = by_key[(date(2026, 10, 31), "wrkspc_01")]
    assert research[:4] == (ORG_UUID, "Acme Corp", "wrkspc_01", "Research")
    assert research[4:8] == (oct_, nov, utc(2026, 10, 31), nov)
    assert research[10] is True
    assert by_key[(date(2026, 10, 31), "wrkspc_02")][3] == "Bots"
    assert by_key[(date(2026, 11, 1), "wrkspc_02")][3] == "Support bots"  # renamed that day
    default = by_key[(date(2026, 11, 1), None)]
    assert default[2:4] == (None, None) and default[4:8] == (nov, dec, nov, utc(2026, 11, 2))
    enterprise = by_key[(date(2026, 11, 1), ENTERPRISE)]
    assert enterprise[:4] == (ENTERPRISE, ENTERPRISE, None, None)
    assert enterprise[8] == "claude-opus-4-1 - tokens - output_tokens"  # no description: its dimensions
    source = next(
        r
        for r in BILLED
        if r["org_id"] == ENTERPRISE
        and r["usage_date"] == date(2026, 11, 1)
        and r["model"] == "claude-opus-4-1"
        and r["token_type"] == "output_tokens"
    )
    assert Decimal(enterprise[9]) == source["billed_cost_usd"] * 2
    assert kinds == [("raw.console_cost",), ("raw.enterprise_cost",)]  # estimates stay out


def test_monthly_files_are_exact_and_only_the_months_touched_are_rewritten(exported, tmp_path):
    warehouse, _ = exported
    root = warehouse.parent / "exports" / "focus"
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert names == [
        f"{folder}/{month}.{suffix}"
        for folder in ("acme-console", "acme-enterprise", "all")
        for month in ("2026-10", "2026-11")
        for suffix in ("csv", "parquet")
    ]
    expected = _expected(BILLED, lambda r: (r["org_id"], f"{r['usage_date']:%Y-%m}"))
    for org in (CONSOLE, ENTERPRISE):
        for month in ("2026-10", "2026-11"):
            with (root / org / f"{month}.csv").open() as f:
                reader = csv.DictReader(f)
                assert tuple(reader.fieldnames) == FILE_COLUMNS
                rows = list(reader)
            assert all(r["ChargePeriodStart"].endswith("T00:00:00Z") for r in rows)
            parquet = duckdb.sql(
                f'SELECT typeof("BilledCost"), "BilledCost" FROM \'{root / org / month}.parquet\''
            )
            values = parquet.fetchall()
            assert {t for t, _ in values} == {"DECIMAL(38,12)"}
            assert (
                sum(v for _, v in values)
                == expected[(org, month)]
                == sum(Decimal(r["BilledCost"]) for r in rows)
            )
    # a run over one November day rewrites November's files only
    october = {p: p.stat().st_mtime_ns for p in root.rglob("2026-10.*")}
    november = {p: p.stat().st_mtime_ns for p in root.rglob("2026-11.*")}
    assert materialize(warehouse, date(2026, 11, 4), date(2026, 11, 5)).success
    assert {p: p.stat().st_mtime_ns for p in root.rglob("2026-10.*")} == october
    assert all(p.stat().st_mtime_ns > t for p, t in november.items())
    assert not list(root.rglob(".*.partial"))


def test_the_export_passes_focus_validator(exported, tmp_path):
    warehouse, _ = exported
    for suffix in ("csv", "parquet"):
        results = focus_validator.run(
            warehouse.parent / "exports" / "focus" / "all" / f"2026-11.{suffix}", tmp_path / f"{suffix}.xml"
        )
        assert results.unexcused == [], (suffix, results.unexcused)
        assert results.mandatory(results.failed) == []
        # InvoiceId is null (no invoice is known): the "not null" alternative fails, the OR rule passes
        assert results.failed == ["InvoiceId-C-005-C"]
        assert results.status["InvoiceId-C-003-C"] == focus_validator.PASSED
        ran = results.ran
        # every mandatory column was looked for and found, and its own rules ran and passed
        presence = {r for r in ran if r.startswith("CostAndUsage-D-") and r.endswith("-M")}
        assert presence == set(MANDATORY_PRESENCE.values())
        assert all(results.status[r] == focus_validator.PASSED for r in presence)
        for column in (
            "BilledCost",
            "ChargeCategory",
            "BillingPeriodStart",
            "PricingQuantity",
            "PricingUnit",
        ):
            assert any(r.startswith(f"{column}-C-") for r in ran), column
        # the conditional rules of named accounts and sub accounts ran too
        assert "SubAccountName-C-005-C" in ran and "BillingAccountName-C-003-C" in ran
        assert len(results.with_status(focus_validator.PASSED)) > 100


@pytest.mark.parametrize(
    ("broken", "rule"),
    [
        # one day's BilledCost missing
        (
            'CASE WHEN "ChargePeriodStart" LIKE \'2026-11-05%\' THEN NULL ELSE "BilledCost" END AS "BilledCost"',
            "BilledCost-C-003-M",
        ),
        # a category FOCUS does not know (this validator flags it only when no row has an allowed value;
        # the asset's own schema check refuses a single one)
        ("'Spend' AS \"ChargeCategory\"", "ChargeCategory-C-003-M"),
    ],
)
def test_focus_validator_catches_a_broken_export(exported, tmp_path, broken, rule):
    warehouse, _ = exported
    path = tmp_path / "broken.csv"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(
            f"COPY (SELECT * REPLACE ({broken}) FROM ({focus.file_query('csv')})) TO '{path}' (FORMAT csv, HEADER)",
            [date(2026, 11, 1), date(2026, 12, 1), [CONSOLE, ENTERPRISE]],
        )
    results = focus_validator.run(path, tmp_path / "broken.xml")
    # the rule, and the column's composite rule above it (…-C-000-M), and nothing else
    assert results.mandatory(results.unexcused) == sorted([rule, rule.replace(rule[-5:-2], "000")])


def test_months_touched_by_day_ranges():
    assert focus.months(
        [(date(2026, 10, 31), date(2026, 11, 2)), (date(2026, 12, 31), date(2027, 1, 1))]
    ) == [
        date(2026, 10, 1),
        date(2026, 11, 1),
        date(2026, 12, 1),
    ]
    assert focus.months([(date(2026, 11, 1), date(2026, 12, 1))]) == [date(2026, 11, 1)]


def test_a_row_outside_focus_values_fails_the_blocking_schema_check(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    write_facts(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "UPDATE facts.cost SET currency = 'EUR' WHERE usage_date = '2026-11-02' AND org_id = ?",
            [ENTERPRISE],
        )
    result = materialize(warehouse, date(2026, 11, 1), date(2026, 11, 3))
    schema = _checks(result)["schema"]
    assert not schema.passed
    assert schema.metadata["failures"].value == 12  # 3 models x 4 token types, one organization, one day
    assert not result.success  # the blocking check stops the run: nothing downstream reads the bad rows

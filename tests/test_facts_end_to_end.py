"""Every facts and exports asset over the demo world's raw layer, through the code location's own definitions,
in one single-run backfill: every check passes, the FOCUS export of the real facts passes focus-validator,
and billed money is the same figure in the raw record, facts.cost, its allocation and the export."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from claude_assets.definitions import build_definitions
from demo.backfill import QUIET, backfill
from tests import focus_validator

DERIVED = ("facts", "exports")


@pytest.fixture(scope="module")
def built(raw_warehouse, tmp_path_factory):
    path = raw_warehouse.copy_to(tmp_path_factory.mktemp("facts_e2e"))
    defs = build_definitions(raw_warehouse.config, str(path))
    selection = [
        k
        for a in defs.assets or []
        if isinstance(a, dg.AssetsDefinition)
        for k, group in a.group_names_by_key.items()
        if group in DERIVED
    ]
    results = backfill(defs, raw_warehouse.start, raw_warehouse.end, selection=selection, run_config=QUIET)
    return path, results, raw_warehouse


def test_one_run_builds_every_derived_table_and_every_check_passes(built):
    _, results, _ = built
    assert len(results) == 2  # the price book (unpartitioned), then the daily facts and exports in one run
    assert all(r.success for r in results)
    evaluations = [e for r in results for e in r.get_asset_check_evaluations()]
    assets = {e.asset_key.to_user_string() for e in evaluations}
    assert {
        "facts/price_book",
        "facts/cost",
        "facts/usage",
        "facts/cost_allocation",
        "facts/cost_reconciliation",
        "exports/focus_cost",
    } <= assets
    assert [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed] == []


def test_billed_money_is_one_figure_from_the_raw_record_to_the_export(built):
    path, _, _ = built
    with duckdb.connect(str(path), read_only=True) as con:
        record = dict(
            con.execute(
                """SELECT org_id, sum(amount_usd) FROM raw.console_cost GROUP BY ALL
                   UNION ALL
                   SELECT org_id, sum(amount_usd) FROM raw.enterprise_cost WHERE grouping = 'total' GROUP BY ALL"""
            ).fetchall()
        )
        facts = dict(
            con.execute(
                "SELECT org_id, sum(billed_cost_usd) FROM facts.cost WHERE charge_kind = 'billed' GROUP BY ALL"
            ).fetchall()
        )
        allocated = dict(
            con.execute(
                "SELECT org_id, sum(allocated_cost_usd) FROM facts.cost_allocation GROUP BY ALL"
            ).fetchall()
        )
        exported = dict(
            con.execute('SELECT org_id, sum("BilledCost") FROM exports.focus_cost GROUP BY ALL').fetchall()
        )
    assert set(record) == {"acme-console", "globex-console", "acme-enterprise"}
    assert all(isinstance(v, Decimal) for v in record.values())
    assert facts == record
    assert allocated == record
    assert exported == record


def test_the_export_of_the_demo_facts_passes_focus_validator(built, tmp_path):
    path, _, _ = built
    results = focus_validator.run(
        path.parent / "exports" / "focus" / "all" / "2026-11.csv", tmp_path / "report.xml"
    )
    assert results.unexcused == []
    assert results.mandatory(results.failed) == []
    assert len(results.with_status(focus_validator.PASSED)) > 100

"""The named jobs of the code location (``claude_assets.jobs``) and a quiet code-location load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from claude_assets.partitions import RANGE_END, RANGE_START, daily_by_org, windows_by_org
from demo import settings as demo_config

ROOT = Path(__file__).resolve().parent.parent


def _jobs(config: ProjectConfig, tmp_path) -> dict[str, dg.JobDefinition]:
    defs = build_definitions(config, str(tmp_path / "warehouse.duckdb"))
    repo = defs.get_repository_def()
    return {j.name: j for j in repo.get_all_jobs() if not j.name.startswith("__")}


def _keys(job: dg.JobDefinition) -> set[str]:
    return {k.to_user_string() for k in job.asset_layer.selected_asset_keys}


def test_every_named_job_has_a_description_one_partitioning_and_the_assets_of_its_family(tmp_path):
    jobs = _jobs(demo_config.project_config(), tmp_path)
    assert jobs.pop("retention_job").description  # an op job of its own (claude_assets.privacy), not of assets
    assert set(jobs) == {
        "daily_refresh_console",
        "daily_refresh_enterprise_reports",
        "daily_refresh_engagement",
        "backfill_console",
        "backfill_engagement",
        "backfill_enterprise_reports",
        "backfill_analytics",
        "backfill_inventory",
        "rebuild_facts",
        "rebuild_unit_economics_daily",
        "rebuild_monthly_insights",
    }
    for job in jobs.values():
        assert job.description and len(job.description) > 60, job.name
        assert job.partitions_def is not None, job.name  # a range can be picked at launch
        assert job.backfill_policy == dg.BackfillPolicy.single_run(), job.name  # one run per backfill
    console = {
        "raw/console_usage",
        "raw/console_cost",
        "raw/claude_code_usage",
        "raw/claude_code_model_usage",
    }
    assert _keys(jobs["backfill_console"]) == console
    assert _keys(jobs["daily_refresh_console"]) == console
    engagement = _keys(jobs["backfill_engagement"])
    assert "raw/enterprise_summary" in engagement and len(engagement) == 7
    assert all(k.startswith("raw/enterprise_") for k in engagement)
    reports = _keys(jobs["backfill_enterprise_reports"])
    assert {"raw/enterprise_cost", "raw/enterprise_usage", "raw/enterprise_user_cost"} <= reports
    assert not reports & engagement
    assert _keys(jobs["daily_refresh_enterprise_reports"]) == reports
    assert _keys(jobs["daily_refresh_engagement"]) == engagement
    assert _keys(jobs["backfill_analytics"]) == {"raw/analytics_usage", "raw/analytics_cost"}
    assert not _keys(jobs["backfill_analytics"]) & reports
    assert all(k.startswith("inventory/") for k in _keys(jobs["backfill_inventory"]))
    facts = _keys(jobs["rebuild_facts"])
    assert {
        "facts/cost",
        "facts/usage",
        "facts/price_book",
        "exports/focus_cost",
        "insights/cost_anomalies",
    } <= facts
    assert not any(k.startswith(("raw/", "inventory/")) for k in facts)  # rebuilds ask the APIs nothing
    assert _keys(jobs["rebuild_unit_economics_daily"]) == {"insights/unit_economics_daily"}
    assert _keys(jobs["rebuild_monthly_insights"]) == {"insights/unit_economics_monthly"}
    # every executable asset can be run by some named job
    defs = build_definitions(demo_config.project_config(), str(tmp_path / "warehouse.duckdb"))
    every = {
        k.to_user_string()
        for a in defs.assets
        if isinstance(a, dg.AssetsDefinition) and a.is_executable
        for k in a.keys
    }
    assert every == set().union(*(_keys(j) for j in jobs.values()))


def test_jobs_of_an_organization_kind_nobody_configured_are_not_defined(tmp_path):
    console_only = ProjectConfig(
        organizations=(
            OrgConfig(slug="acme", kind="console", key_env="ACME_KEY", history_start=date(2026, 1, 1)),
        )
    )
    jobs = _jobs(console_only, tmp_path)
    assert {"backfill_console", "backfill_analytics", "rebuild_facts"} <= set(jobs)
    assert not {
        "daily_refresh_enterprise_reports",
        "daily_refresh_engagement",
        "backfill_engagement",
        "backfill_enterprise_reports",
    } & set(jobs)


#: loads the code location as the webserver, the daemon and every run do, and lists Dagster's beta and
#: preview warnings that reach the process (the filters pytest applies to the tests are not in force here)
LOAD = """
import json, warnings
import dagster as dg
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import claude_assets.definitions
print(json.dumps([f"{w.category.__name__}: {w.message}" for w in caught
                  if issubclass(w.category, (dg.BetaWarning, dg.PreviewWarning, DeprecationWarning))]))
"""


def test_loading_the_code_location_prints_no_beta_or_deprecation_warning(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CLAUDE_ASSETS_CONFIG": str(
            demo_config.write_config_file(demo_config.project_config(), tmp_path / "c.yaml")
        ),
        "CLAUDE_ASSETS_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
    }
    done = subprocess.run(
        [sys.executable, "-c", LOAD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [], done.stdout


@pytest.mark.bad_input
def test_a_run_dagster_narrowed_to_one_partition_of_its_range_is_refused_before_any_request(tmp_path):
    """The runs of a job backfill of a date x organization job (dagster-io/dagster#28861): the range's tags
    and one partition's dimension tags. Asset backfills (and ``make demo``) give the range's tags only."""
    config = demo_config.project_config()
    asked: list = []

    @dg.asset(partitions_def=daily_by_org(config, "console"), backfill_policy=dg.BackfillPolicy.single_run())
    def pulls(context) -> None:
        asked.append(windows_by_org(context))

    whole_range = {RANGE_START: "2026-11-19|acme-console", RANGE_END: "2026-11-21|globex-console"}
    narrowed = {
        **whole_range,
        "dagster/partition/date": "2026-11-19",
        "dagster/partition/org": "globex-console",
    }
    result = dg.materialize([pulls], tags=narrowed, raise_on_error=False)
    assert not result.success and asked == []
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    message = failure.event_specific_data.error.message
    assert "2026-11-19|acme-console to 2026-11-21|globex-console" in message and "#28861" in message
    assert "asset backfill" in message
    # the same range as an asset backfill runs it: every day of both organizations
    assert dg.materialize([pulls], tags=whole_range).success
    assert asked == [
        {
            "acme-console": [(date(2026, 11, 19), date(2026, 11, 22))],
            "globex-console": [(date(2026, 11, 19), date(2026, 11, 22))],
        }
    ]

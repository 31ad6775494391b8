"""The demo: its shared configuration, its backfill ranges, and a short run of ``make demo``."""

import contextlib
import io
import os
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import pytest
import yaml
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.execution.plan.resume_retry import ReexecutionStrategy
from dagster._core.workspace.load_target import WorkspaceFileTarget

from claude_assets.config import load_file
from claude_assets.jobs import REBUILD_FACTS
from claude_assets.partitions import daily_by_org, organizations
from demo import run as demo
from demo import settings as demo_config
from demo.backfill import RANGE_END, RANGE_START, partition_range
from demo.job_backfills import JOB_TAG, backfiller


def test_the_demo_configuration_names_variables_and_never_holds_a_key(tmp_path):
    world = demo_config.world()
    config = demo_config.project_config(world)
    path = demo_config.write_config_file(config, tmp_path / "demo.yaml")
    text = path.read_text()
    assert "sk-ant" not in text
    assert all(o.api_key not in text for o in world.organizations)
    assert load_file(path) == config
    assert [o["key_env"] for o in yaml.safe_load(text)["organizations"]] == [
        demo_config.key_env(o.slug) for o in world.organizations
    ]
    env = demo_config.environment(world, "http://127.0.0.1:8787")
    assert {env[o.key_env] for o in config.organizations} == {o.api_key for o in world.organizations}
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:8787"
    assert {o.slug: o.rate_limit for o in config.organizations} == {
        o.slug: o.rate_limit for o in world.organizations
    }
    assert config.get("acme-console").history_start == date(
        2025, 9, 1
    )  # the simulated organization's creation


def test_partition_ranges_cover_every_org_and_stay_inside_the_partitions():
    config = demo_config.project_config()
    both = daily_by_org(config, "console")
    assert partition_range(both, date(2026, 11, 1), date(2026, 11, 8)) == (
        "2026-11-01|acme-console",
        "2026-11-07|globex-console",
    )
    # clipped to the first partition (history_start), empty before it
    assert partition_range(both, date(2025, 1, 1), date(2025, 9, 3))[0] == "2025-09-01|acme-console"
    assert partition_range(both, date(2025, 1, 1), date(2025, 2, 1)) is None
    assert partition_range(organizations(config, "console"), date(2026, 1, 1), date(2026, 2, 1)) == (
        "acme-console",
        "globex-console",
    )
    assert partition_range(None, date(2026, 1, 1), date(2026, 2, 1)) == ("", "")


@pytest.fixture
def scratch_demo(tmp_path, monkeypatch):
    """``make demo``'s files in a temporary directory, and the environment restored afterwards."""
    monkeypatch.setattr(demo_config, "WAREHOUSE", tmp_path / "data" / "warehouse.duckdb")
    monkeypatch.setattr(demo_config, "CONFIG_FILE", tmp_path / "data" / "demo.yaml")
    monkeypatch.setattr(demo_config, "DAGSTER_HOME", tmp_path / "dagster_home")
    saved = dict(os.environ)
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """``make demo`` over three days, with its files in a temporary directory: (directory, printed output).
    The environment is restored afterwards."""
    scratch = tmp_path_factory.mktemp("demo")
    saved = dict(os.environ)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_config, "WAREHOUSE", scratch / "data" / "warehouse.duckdb")
        patch.setattr(demo_config, "CONFIG_FILE", scratch / "data" / "demo.yaml")
        patch.setattr(demo_config, "DAGSTER_HOME", scratch / "dagster_home")
        printed = io.StringIO()
        # noon: Enterprise engagement has published yesterday (10:00 UTC), whose cost reports are provisional
        with contextlib.redirect_stdout(printed):
            code = demo.main(["--days", "3", "--now", "2026-11-22T12:00:00Z"])
        yield scratch, code, printed.getvalue()
    os.environ.clear()
    os.environ.update(saved)


def test_demo_backfills_summarizes_and_leaves_no_key_behind(demo_run):
    scratch_demo, code, out = demo_run
    assert code == 0, out[-3000:]
    for text in (
        "raw.console_cost",
        "Billed cost by organization and model",
        "Top workspaces",
        "Checks: ",
        "make ui",
    ):
        assert text in out
    with duckdb.connect(str(scratch_demo / "data" / "warehouse.duckdb"), read_only=True) as con:
        days = con.execute(
            "SELECT org_id, count(DISTINCT usage_date) FROM raw.console_cost GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        provisional = con.execute(
            "SELECT DISTINCT table_name FROM raw.ingest_log WHERE provisional"
        ).fetchall()
    assert days == [("acme-console", 3), ("globex-console", 3)]
    # the partitions start on the first backfilled day: the demo fills the range it defines
    assert load_file(demo_config.CONFIG_FILE).history_start == date(2026, 11, 19)
    # the Enterprise reports hold yesterday only 24 hours after it ends: the summary says so, table by table
    assert provisional and "Provisional days" in out
    assert all(name in out for (name,) in provisional)
    assert (scratch_demo / "dagster_home" / "dagster.yaml").exists()
    keys = [o.api_key for o in demo_config.world().organizations]
    for path in scratch_demo.rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".db", ".duckdb", ".log", ".txt", ".json"):
            content = path.read_bytes()
            assert not any(k.encode() in content for k in keys), path
    assert not any(k in out for k in keys)


def test_make_ui_keeps_the_partitions_the_last_demo_started(scratch_demo):
    _, config, _ = demo_config.prepare("http://127.0.0.1:8787", date(2026, 11, 1))
    assert {o.history_start for o in config.organizations} == {date(2026, 11, 1)}
    _, again, _ = demo_config.prepare("http://127.0.0.1:8787")  # make ui: no start given
    assert again == config and load_file(demo_config.CONFIG_FILE) == config
    demo_config.CONFIG_FILE.unlink()  # no demo yet: the range make demo fills by default
    _, fresh, _ = demo_config.prepare("http://127.0.0.1:8787")
    first = datetime.now(UTC).date() - timedelta(days=demo_config.DAYS)
    assert {o.history_start for o in fresh.organizations} == {first}


def test_the_demo_runs_each_named_job_as_a_backfill_of_the_instance_make_ui_reads(demo_run):
    scratch, code, out = demo_run
    assert code == 0, out[-3000:]
    with dg.DagsterInstance.from_config(str(scratch / "dagster_home")) as instance:
        backfills = instance.get_backfills()
        # three days from the 19th: no month starts in them, so no monthly rebuild
        assert sorted(b.title for b in backfills) == sorted(
            [
                "backfill_console",
                "backfill_inventory",
                "backfill_engagement",
                "backfill_enterprise_reports",
                "backfill_analytics",
                REBUILD_FACTS,
                "rebuild_unit_economics_daily",
            ]
        )
        location = (
            WorkspaceFileTarget([str(demo_config.ROOT / "workspace.yaml")]).create_origins()[0].location_name
        )
        for backfill in backfills:
            assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS, backfill.title
            assert backfill.is_asset_backfill and backfill.tags[JOB_TAG] == backfill.title
            assert backfill.title in out  # the demo names each backfill
            runs = instance.get_runs(
                dg.RunsFilter(tags=dg.DagsterRun.tags_for_backfill_id(backfill.backfill_id))
            )
            assert runs, backfill.title
            for run in runs:
                assert run.status == dg.DagsterRunStatus.SUCCESS, (backfill.title, run.run_id)
                # a run of the code location `make ui` loads, not an ephemeral job: the UI can re-execute it
                assert run.remote_job_origin is not None
                assert run.remote_job_origin.repository_origin.code_location_origin.location_name == location
        console = instance.get_runs(dg.RunsFilter(tags={JOB_TAG: "backfill_console"}))
        # one run per organization over the whole range (the assets' single-run backfill policy)
        ranges = sorted((r.tags[RANGE_START], r.tags[RANGE_END]) for r in console)
        assert ranges == [
            ("2026-11-19|acme-console", "2026-11-21|acme-console"),
            ("2026-11-19|globex-console", "2026-11-21|globex-console"),
        ]


def test_a_demo_run_re_executed_reads_the_simulator_of_its_own_environment(demo_run, demo_server):
    """What the UI's "Re-execute" does, in the environment of ``make ui``: the demo's simulator is gone, the
    run finds the one ``ANTHROPIC_BASE_URL`` names (nothing of the demo's address was kept with the run)."""
    scratch, code, out = demo_run
    assert code == 0, out[-3000:]
    with pytest.MonkeyPatch.context() as patch:
        world = demo_config.world()
        for name, value in demo_config.environment(world, demo_server.base_url).items():
            patch.setenv(name, value)
        patch.setenv("CLAUDE_ASSETS_CONFIG", str(scratch / "data" / "demo.yaml"))
        patch.setenv("CLAUDE_ASSETS_WAREHOUSE", str(scratch / "data" / "warehouse.duckdb"))
        patch.setenv("DAGSTER_HOME", str(scratch / "dagster_home"))
        with backfiller(scratch / "dagster_home", demo_config.ROOT / "workspace.yaml") as jobs:
            instance = jobs.instance
            parent = instance.get_runs(dg.RunsFilter(tags={JOB_TAG: "backfill_console"}))[0]
            context = jobs.workspace.create_request_context()
            location = context.get_code_location(jobs.location_name)
            remote_job = location.get_job(
                JobSubsetSelector(
                    location_name=jobs.location_name,
                    repository_name=parent.remote_job_origin.repository_origin.repository_name,
                    job_name=parent.job_name,
                    op_selection=None,
                    asset_selection=parent.asset_selection,
                )
            )
            child = instance.create_reexecuted_run(
                parent_run=parent,
                request_context=context,
                code_location=location,
                remote_job=remote_job,
                strategy=ReexecutionStrategy.ALL_STEPS,
                use_parent_run_tags=True,
            )
            instance.submit_run(child.run_id, context)
            jobs.execute_launched()
            assert instance.get_run_by_id(child.run_id).status == dg.DagsterRunStatus.SUCCESS
            assert instance.get_run_by_id(child.run_id).parent_run_id == parent.run_id


def test_the_demo_instance_logs_runs_at_info_also_when_its_settings_predate_it(tmp_path):
    fresh, older = tmp_path / "fresh", tmp_path / "older"
    older.mkdir()
    (older / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # written before python_logs was
    for home in (fresh, older):
        demo_config.prepare_dagster_home(home)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert instance.python_log_level == "INFO", home  # no DEBUG event in the terminal of `make ui`

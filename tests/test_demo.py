"""The demo: its shared configuration, its backfill ranges, and a short run of ``make demo``."""

import os
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
import yaml

from claude_assets.config import load_file
from claude_assets.partitions import daily_by_org, organizations
from demo import run as demo
from demo import settings as demo_config
from demo.backfill import partition_range


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


def test_demo_backfills_summarizes_and_leaves_no_key_behind(scratch_demo, capsys):
    # noon: Enterprise engagement has published yesterday (10:00 UTC), whose cost reports are provisional
    assert demo.main(["--days", "3", "--now", "2026-11-22T12:00:00Z"]) == 0
    out = capsys.readouterr().out
    for text in (
        "raw.console_cost",
        "Billed cost by organization and model",
        "Top workspaces",
        "Checks: ",
        "make ui",
    ):
        assert text in out
    with duckdb.connect(str(demo_config.WAREHOUSE), read_only=True) as con:
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

"""Partitions that match the data: every date dimension starts on the configured history start and ends on
the newest day its source answers for (at a pinned clock), every dependency maps to partitions that exist,
and a demo-style backfill fills every partition it defines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from claude_assets.config import OrgConfig, ProjectConfig, load_file
from claude_assets.definitions import build_definitions
from claude_assets.ingest.console.tables import CONSOLE_COST
from claude_assets.partitions import DATE, end_offset
from demo import settings as demo_config
from demo.backfill import backfill
from simulator.freshness import last_completed_day, latest_engagement_day
from simulator.serve import serve_in_thread
from tests.conftest import FIXED_NOW, make_sim

FIRST = date(2026, 9, 1)
CONFIG = ProjectConfig(
    organizations=(
        OrgConfig(slug="acme-console", kind="console", key_env="PARTS_CONSOLE_KEY", history_start=FIRST),
        OrgConfig(
            slug="acme-enterprise",
            kind="enterprise",
            key_env="PARTS_ENT_KEY",
            history_start=date(2026, 10, 1),
        ),
        OrgConfig(
            slug="beta-enterprise",
            kind="enterprise",
            key_env="PARTS_BETA_KEY",
            analytics_beta=True,
            history_start=date(2026, 11, 1),
        ),
    )
)
ENGAGEMENT = {
    "enterprise_summary",
    "enterprise_user_activity",
    "enterprise_project_activity",
    "enterprise_skill_activity",
    "enterprise_connector_activity",
    "enterprise_artifact_activity",
    "enterprise_plugin_activity",
}
#: instants around the engagement publication (10:00 UTC) and the day's end
CLOCKS = [
    datetime(2026, 11, 22, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 22, 9, 59, tzinfo=UTC),
    datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
    datetime(2026, 11, 22, 23, 59, tzinfo=UTC),
]


def days(partitions_def: dg.PartitionsDefinition) -> dg.TimeWindowPartitionsDefinition:
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return next(d.partitions_def for d in partitions_def.partitions_defs if d.name == DATE)
    return partitions_def


def daily_assets(graph: dg.AssetGraph) -> dict[str, dg.TimeWindowPartitionsDefinition]:
    out = {}
    for key in graph.materializable_asset_keys:
        pd = graph.get(key).partitions_def
        if pd is not None and not isinstance(pd, dg.StaticPartitionsDefinition):
            out[key.to_user_string()] = days(pd)
    return out


def test_the_offset_never_selects_a_day_before_its_source_publishes_it():
    assert end_offset(timedelta(0)) == 0
    assert end_offset(timedelta(hours=10)) == -1
    assert end_offset(timedelta(hours=24)) == -1
    assert end_offset(timedelta(hours=25)) == -2


@pytest.mark.parametrize("now", CLOCKS, ids=lambda t: f"{t:%H%M}")
def test_every_asset_starts_on_the_history_start_and_ends_on_the_newest_day_its_source_answers(now):
    graph = build_definitions(CONFIG, ":memory:").resolve_asset_graph()
    with dg.partition_loading_context(effective_dt=now):
        found = {
            key: (pd.get_first_partition_key(), pd.get_last_partition_key())
            for key, pd in daily_assets(graph).items()
            if not key.endswith("monthly")
        }
    assert {first for first, _ in found.values()} == {
        FIRST.isoformat()
    }  # config.history_start, for every asset
    completed = last_completed_day(now)  # what the cost and usage reports serve: completed UTC days
    published = latest_engagement_day(now)  # the newest day the engagement endpoints answer for
    for key, (_, last) in found.items():
        last = date.fromisoformat(last)
        if key.removeprefix("raw/") in ENGAGEMENT or key == "insights/unit_economics_daily":
            # never a day the API would refuse with a 400; at most one day behind what it has published
            assert published - timedelta(days=1) <= last <= published, (key, now)
        else:
            assert last == completed, (key, now)
    assert found["raw/console_cost"][1] == "2026-11-21"
    assert found["raw/enterprise_summary"][1] == "2026-11-20"


def test_every_dependency_maps_each_partition_to_partitions_that_exist():
    """A day of a date-only asset reads the same day of every raw table: never a partition that does not exist
    (the UI refuses such a backfill: 'depends on non-existent partitions')."""
    graph = build_definitions(CONFIG, ":memory:").resolve_asset_graph()
    with dg.partition_loading_context(effective_dt=FIXED_NOW):
        for key in graph.materializable_asset_keys:
            node = graph.get(key)
            if node.partitions_def is None:
                continue
            subset = node.partitions_def.subset_with_all_partitions()
            for parent in node.parent_keys:
                upstream = graph.get(parent).partitions_def
                if upstream is None:
                    continue
                mapping = graph.get_partition_mapping(key, parent)
                result = mapping.get_upstream_mapped_partitions_result_for_partitions(
                    subset, node.partitions_def, upstream
                )
                missing = result.required_but_nonexistent_subset
                assert missing.is_empty, (key.to_user_string(), parent.to_user_string(), missing)


def test_a_demo_style_backfill_fills_every_partition_of_raw_console_cost(tmp_path, monkeypatch):
    """``make demo --days 3`` at a fixed instant: the partitions start on the first backfilled day and end
    on the last complete one, so the backfill fills 100% of them (not 3 days of a history since 2025)."""
    sim = make_sim(now=FIXED_NOW, rate_limits=demo_config.RATE_LIMITS)
    end = FIXED_NOW.date()
    start = end - timedelta(days=3)
    config = demo_config.project_config(sim.world, start)
    assert config.history_start == start
    key = CONSOLE_COST.asset_key
    with serve_in_thread(sim) as running:
        for name, value in demo_config.environment(sim.world, running.base_url).items():
            monkeypatch.setenv(name, value)
        defs = build_definitions(config, str(tmp_path / "warehouse.duckdb"))
        with dg.partition_loading_context(effective_dt=FIXED_NOW), dg.DagsterInstance.ephemeral() as instance:
            results = backfill(defs, start, end, instance=instance, selection=[key])
            assert results and all(r.success for r in results)
            partitions = defs.resolve_asset_graph().get(key).partitions_def
            every = set(partitions.get_partition_keys())
            filled = instance.get_materialized_partitions(key)
    assert len(every) == 3 * len(config.of_kind("console"))
    assert filled == every  # 100 % filled


def test_a_configured_publication_delay_moves_where_the_engagement_days_end(tmp_path):
    """The earlier docs' lag (a day published at 10:00 UTC four days after it): set in the file, the
    engagement partitions end four days back, never on a day the API would refuse."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "organizations:\n"
        "  - {slug: acme-enterprise, kind: enterprise, key_env: PARTS_ENT_KEY, history_start: 2026-09-01}\n"
        "day_published_after:\n"
        "  enterprise_engagement: P3DT10H\n"
    )
    graph = build_definitions(load_file(path), ":memory:").resolve_asset_graph()
    engagement = days(graph.get(dg.AssetKey(["raw", "enterprise_summary"])).partitions_def)
    reports = days(graph.get(dg.AssetKey(["raw", "enterprise_cost"])).partitions_def)
    for now in CLOCKS:
        with dg.partition_loading_context(effective_dt=now):
            last = date.fromisoformat(engagement.get_last_partition_key())
            published = latest_engagement_day(now, lag_days=4)
            assert published - timedelta(days=1) <= last <= published, now
            assert reports.get_last_partition_key() == last_completed_day(now).isoformat()

"""Declarative automation downstream of the raw days: a raw (day, organization) updated with its blocking checks
passing requests that day of the facts, then of the exports, and nothing else; a failed blocking check holds
the day until a good pull; a fresh warehouse and days older than the lookback are not requested."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from claude_assets.automation.downstream import (
    LOOKBACK,
    REVISION_WINDOW,
    SENSOR_NAME,
    settled_days_only,
    when_upstream_days_change,
)
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from claude_assets.exports.tables import FOCUS_COST
from claude_assets.facts.tables import COST_ALLOCATION, FACTS_COST, FACTS_USAGE, PRICE_BOOK
from claude_assets.insights.unit_economics.tables import UNIT_ECONOMICS_DAILY
from claude_assets.partitions import DATE, ORG

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)  # the latest complete day is 2026-11-24
DAY, OTHER_DAY = "2026-11-22", "2026-11-21"
CONSOLE, ENTERPRISE = "acme-console", "acme-enterprise"
FACTS_FROM_RAW = {FACTS_COST.asset_key, FACTS_USAGE.asset_key}
#: reads facts.cost too (its check holds facts.cost's billed total to the record): built after it
RECONCILIATION = dg.AssetKey(["facts", "cost_reconciliation"])


def config() -> ProjectConfig:
    common = {"base_url": "http://127.0.0.1:9", "history_start": date(2026, 9, 1)}
    return ProjectConfig(
        organizations=(
            OrgConfig(slug=CONSOLE, kind="console", key_env="UNUSED_CONSOLE_KEY", **common),
            OrgConfig(
                slug=ENTERPRISE,
                kind="enterprise",
                key_env="UNUSED_ENTERPRISE_KEY",
                analytics_beta=True,
                **common,
            ),
        )
    )


def facts_from_raw(day: str) -> dict[dg.AssetKey, set[str]]:
    """The request of ``day`` of every facts table read straight from the raw tables."""
    return {key: {day} for key in FACTS_FROM_RAW}


class World:
    """The definitions, an instance, and the events a run would record; ``tick`` evaluates the conditions."""

    def __init__(self) -> None:
        self.defs = build_definitions(config(), ":memory:")
        self.graph = self.defs.resolve_asset_graph()
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor = None
        self.raw = [k for k in self.graph.get_all_asset_keys() if k.path[0] == "raw"]

    def tick(self) -> dict[dg.AssetKey, set[str | None]]:
        result = dg.evaluate_automation_conditions(
            self.defs, self.instance, evaluation_time=NOW, cursor=self.cursor
        )
        self.cursor = result.cursor
        return {
            k: set(result.get_requested_partitions(k))
            for k in self.graph.get_all_asset_keys()
            if result.get_num_requested(k)
        }

    def materialized(
        self, key: dg.AssetKey, partition: str | None = None, *, checks_pass: bool = True
    ) -> None:
        """A materialization of ``key`` and, beside it, its checks' results (as the asset's step yields them)."""
        self.instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=partition))
        for check in self.graph.get(key).check_keys:
            self.instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(asset_key=key, check_name=check.name, passed=checks_pass)
            )

    def raw_day(self, day: str, *, failing_org: str | None = None) -> None:
        """Every raw table of every organization pulled for ``day``; ``failing_org``'s blocking checks fail."""
        for key in self.raw:
            orgs = self.graph.get(key).partitions_def.get_partitions_def_for_dimension(ORG)
            for org in orgs.get_partition_keys():
                partition = str(dg.MultiPartitionKey({DATE: day, ORG: org}))
                self.materialized(key, partition, checks_pass=org != failing_org)


@pytest.fixture
def world() -> World:
    w = World()
    assert w.tick() == {PRICE_BOOK.asset_key: {None}}  # a fresh warehouse: only the price book, no day
    w.materialized(PRICE_BOOK.asset_key)
    assert w.tick() == {}
    return w


def test_a_raw_day_pulled_with_its_checks_passing_requests_that_day_of_the_facts_only(world):
    world.raw_day(DAY)
    assert world.tick() == facts_from_raw(DAY)
    assert world.tick() == {}  # requested once


def test_the_facts_built_from_a_day_request_the_same_day_of_the_allocation_reconciliation_and_export(world):
    world.raw_day(DAY)
    world.tick()
    for key in FACTS_FROM_RAW:
        world.materialized(key, DAY)
    assert world.tick() == {
        COST_ALLOCATION.asset_key: {DAY},
        FOCUS_COST.asset_key: {DAY},
        RECONCILIATION: {DAY},
        UNIT_ECONOMICS_DAILY.asset_key: {DAY},  # reads facts.cost and raw days only
    }


def test_a_day_pulled_again_rebuilds_facts_cost_with_its_reconciliation_in_one_run_never_after_it(world):
    world.raw_day(DAY)
    world.tick()
    for key in FACTS_FROM_RAW:
        world.materialized(key, DAY)
    world.tick()
    world.materialized(RECONCILIATION, DAY)
    assert world.tick() == {}
    world.raw_day(DAY)  # a revision: facts.cost is stale until it is rebuilt, and the check reads it
    requested = world.tick()
    assert requested[FACTS_COST.asset_key] == requested[RECONCILIATION] == {DAY}
    # requested together with the same partitions, they are launched as one run, facts.cost first
    assert (
        world.graph.get(RECONCILIATION).partitions_def == world.graph.get(FACTS_COST.asset_key).partitions_def
    )
    assert FACTS_COST.asset_key in world.graph.get(RECONCILIATION).parent_keys


def test_a_day_whose_blocking_check_failed_waits_for_a_good_pull(world):
    world.raw_day(DAY, failing_org=CONSOLE)
    assert world.tick() == {}
    world.raw_day(OTHER_DAY)  # another day passing does not release it
    assert world.tick() == facts_from_raw(OTHER_DAY)
    world.raw_day(DAY)  # the day pulled again, its checks passing
    assert world.tick() == facts_from_raw(DAY)


def test_a_day_older_than_the_lookback_is_left_to_backfills(world):
    old = (NOW - LOOKBACK).date().replace(day=1).isoformat()
    world.raw_day(old)
    assert world.tick() == {}


def test_the_automation_sensor_runs_by_default_over_the_facts_exports_and_insights(world):
    sensor = world.defs.resolve_sensor_def(SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    targeted = sensor.asset_selection.resolve(world.graph)
    assert {k.path[0] for k in targeted} == {"facts", "exports", "insights"}
    assert FOCUS_COST.asset_key in targeted and FACTS_COST.asset_key in targeted


def test_a_layer_on_settled_days_sees_a_day_once_it_leaves_the_revision_window_and_not_before():
    days = dg.DailyPartitionsDefinition(start_date="2026-09-01", timezone="UTC")

    @dg.asset(partitions_def=days)
    def upstream(): ...

    @dg.asset(
        partitions_def=days,
        deps=[upstream],
        automation_condition=settled_days_only(when_upstream_days_change(LOOKBACK + REVISION_WINDOW)),
    )
    def settled_layer(): ...

    instance = dg.DagsterInstance.ephemeral()
    first_unsettled = (NOW - REVISION_WINDOW).date().isoformat()  # 2026-10-26: revised until tomorrow
    settled = "2026-10-10"

    def tick(at: datetime, cursor=None):
        result = dg.evaluate_automation_conditions(
            [upstream, settled_layer], instance, evaluation_time=at, cursor=cursor
        )
        return set(result.get_requested_partitions(settled_layer.key)), result.cursor

    def pulled(day: str) -> None:
        instance.report_runless_asset_event(dg.AssetMaterialization(upstream.key, partition=day))

    pulled(first_unsettled)  # before the layer's first evaluation: only leaving the window can request it
    requested, cursor = tick(NOW)
    assert requested == set()  # nothing on the first evaluation, however much history is settled
    pulled("2026-11-20")
    pulled(settled)
    requested, cursor = tick(NOW, cursor)
    assert requested == {settled}  # a settled day changed upstream; the days still revisable wait
    requested, cursor = tick(NOW + timedelta(days=1), cursor)
    assert requested == {first_unsettled}  # it has just left the revision window
    requested, cursor = tick(NOW + timedelta(days=1), cursor)
    assert requested == set()

"""The Usage and Cost Analytics API (``raw.analytics_usage``, ``raw.analytics_cost``) for Console and Enterprise
organizations alike, against the simulator over loopback HTTP, into temporary DuckDB files; and an organization
the API refuses (HIPAA readiness: 400 ``organization_not_eligible``) skipped with the API's reason.

Expected values come from the simulator's ground truth (``simulator.truth``), never from the code under test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.ingest.enterprise_reports import assets as er_assets
from claude_assets.ingest.enterprise_reports.groupings import ANALYTICS_GROUPINGS
from claude_assets.ingest.enterprise_reports.tables import V2_DIMS
from resources.apis import ConsoleAdminApi, EnterpriseAnalyticsApi
from simulator.app import Simulator
from simulator.clock import SimClock
from simulator.serve import Running, serve_in_thread
from simulator.truth import truth
from simulator.world import World
from tests.conftest import FIXED_NOW, UNLIMITED

START, END = date(2026, 11, 18), date(2026, 11, 21)  # three complete days before the simulator's clock
ORGS = ("acme-console", "globex-console", "acme-enterprise")
D = Decimal


def key_env(slug: str) -> str:
    return f"ANALYTICS_API_TEST_{slug.upper().replace('-', '_')}_KEY"


def simulator(**world) -> Simulator:
    return Simulator(
        World.build("demo", 7, UNLIMITED, **world), clock=SimClock(FIXED_NOW), strict_params=True
    )


def serve(sim: Simulator) -> Iterator[Running]:
    keys = {key_env(o.slug): o.api_key for o in sim.world.organizations}
    with mock.patch.dict(os.environ, keys), serve_in_thread(sim) as running:
        yield running


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    yield from serve(simulator())


@pytest.fixture(scope="module")
def hipaa_server() -> Iterator[Running]:
    """The demo world where globex-console has HIPAA readiness enabled (its data otherwise the same)."""
    yield from serve(simulator(hipaa_ready=["globex-console"]))


def config(server: Running, **overrides) -> ProjectConfig:
    return ProjectConfig(
        organizations=tuple(
            OrgConfig(
                slug=o.slug,
                kind=o.kind,
                key_env=key_env(o.slug),
                base_url=server.base_url,
                rate_limit_per_minute=100_000,
                **overrides.get(o.slug, {}),
            )
            for o in server.sim.world.organizations
        )
    )


def materialize(
    cfg: ProjectConfig, warehouse: Path, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    slugs = [o.slug for o in cfg.organizations]
    return dg.materialize(
        [er_assets.analytics_api_asset(cfg)],
        instance=instance,
        raise_on_error=False,
        resources={
            "analytics_api": EnterpriseAnalyticsApi(),
            "console_api": ConsoleAdminApi(),
            "duckdb": DuckDBResource(database=str(warehouse)),
        },
        tags={
            "dagster/asset_partition_range_start": f"{START}|{slugs[0]}",
            "dagster/asset_partition_range_end": f"{END - timedelta(days=1)}|{slugs[-1]}",
        },
    )


def metadata_of(result: dg.ExecuteInProcessResult, table: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(["raw", table]):  # the run's figures are on every partition's event
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"no materialization of raw.{table}")


def legacy_cost_by_day(sim: Simulator, slug: str) -> dict[date, Decimal]:
    """The day's billed cost by the legacy report of the organization's kind (the simulator's truth)."""
    kind = sim.world.by_slug(slug).kind
    days = truth(sim, slug, f"{kind}_cost", START, END)["days"]
    if kind == "console":  # {day: {amount_usd, by_...}}
        return {date.fromisoformat(d): D(v["amount_usd"]) for d, v in days.items()}
    return {date.fromisoformat(d["date"]): D(d["amount_usd"]) for d in days}


@pytest.fixture(scope="module")
def pulled(server, tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:
    warehouse = tmp_path_factory.mktemp("analytics") / "w.duckdb"
    result = materialize(config(server), warehouse)
    assert result.success, [e.event_specific_data for e in result.all_events if e.is_failure]
    return warehouse, result


def test_every_console_and_enterprise_organization_reads_the_api_under_every_grouping(server, pulled):
    warehouse, result = pulled
    assert all(c.passed for c in result.get_asset_check_evaluations()), [
        (c.asset_key.path[-1], c.check_name) for c in result.get_asset_check_evaluations() if not c.passed
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        seen = con.execute(
            "SELECT org_id, list(DISTINCT grouping ORDER BY grouping) FROM raw.analytics_cost GROUP BY 1"
        ).fetchall()
        requested = " ".join(
            r[0] for r in con.execute("SELECT DISTINCT source_request FROM raw.analytics_usage").fetchall()
        )
        billed = {
            (org, day): amount
            for org, day, amount in con.execute(
                "SELECT org_id, usage_date, sum(amount_usd) FROM raw.analytics_cost WHERE grouping = 'billing' "
                "GROUP BY ALL"
            ).fetchall()
        }
        console_dims = con.execute(
            "SELECT count(DISTINCT workspace_id), count(DISTINCT api_key_id), count(DISTINCT service_tier) "
            "FROM raw.analytics_usage WHERE org_id = 'acme-console'"
        ).fetchone()
    # the organizations of both kinds, and only the groupings declared (the ungrouped total among them)
    assert {org: groupings for org, groupings in seen} == {
        org: sorted(g.name for g in ANALYTICS_GROUPINGS) for org in ORGS
    }
    # every dimension the API documents is asked for, in some grouping
    for dim in V2_DIMS:
        assert f"group_by[]={dim}" in requested, dim
    assert console_dims[0] > 1 and console_dims[1] > 1 and console_dims[2] >= 2
    # each day's billed money is the legacy report's, for Console and Enterprise alike
    for org in ORGS:
        want = legacy_cost_by_day(server.sim, org)
        assert {d: billed[(org, d)] for d in want} == want, org


@pytest.mark.bad_input
def test_an_organization_the_api_refuses_is_skipped_with_the_apis_reason(hipaa_server, server, tmp_path):
    """globex-console has HIPAA readiness: the API answers 400 organization_not_eligible. The run succeeds,
    globex-console's days are skipped (materialization, each partition and the run's log say why), and the
    other organizations are written in full."""
    warehouse = tmp_path / "w.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(config(hipaa_server), warehouse, instance)
    assert result.success
    meta = metadata_of(result, "analytics_cost")
    ((reason, orgs),) = meta["run_skipped_days"].items()
    assert orgs == {"globex-console": 3}
    assert "organization_not_eligible" in reason and "HIPAA readiness" in reason and "400" in reason
    assert "/v1/organizations/analytics/" in reason
    partitions = {
        e.partition: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["raw", "analytics_cost"]) and e.partition
    }
    refused = {p: m for p, m in partitions.items() if p.endswith("globex-console")}
    assert len(refused) == 3 and all(m["skipped_reason"] == reason for m in refused.values())
    logged = [
        e.user_message
        for e in instance.all_logs(result.run_id)
        if e.user_message and "organization_not_eligible" in e.user_message
    ]
    assert any("globex-console" in m and "skipped" in m for m in logged), logged
    assert all(c.passed for c in result.get_asset_check_evaluations())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        written = dict(
            con.execute(
                "SELECT org_id, sum(amount_usd) FROM raw.analytics_cost WHERE grouping = 'total' GROUP BY 1"
            ).fetchall()
        )
        logged_days = con.execute(
            "SELECT count(*) FROM raw.ingest_log WHERE org_id = 'globex-console'"
        ).fetchone()[0]
    assert set(written) == {"acme-console", "acme-enterprise"} and logged_days == 0
    for org in written:
        assert written[org] == sum(legacy_cost_by_day(server.sim, org).values())


@pytest.mark.bad_input
def test_the_readiness_probe_leaves_out_an_organization_the_api_refuses(hipaa_server, caplog):
    """The analytics family is probed for Console and Enterprise organizations, each through its own key; a
    refused organization is neither ready nor a failed probe (its asset skips it with the API's reason)."""
    import logging
    from types import SimpleNamespace

    from claude_assets.automation.families import FAMILIES
    from claude_assets.automation.readiness import probe_all

    (family,) = [f for f in FAMILIES if f.name == "analytics_beta"]
    apis = SimpleNamespace(console_api=ConsoleAdminApi(), analytics_api=EnterpriseAnalyticsApi())
    with caplog.at_level(logging.INFO):
        found, failed = probe_all(family, config(hipaa_server), apis, logging.getLogger(__name__))
    assert set(found) == {"acme-console", "acme-enterprise"} and not failed
    assert all(p.watermark is not None for p in found.values())
    assert any(
        "globex-console" in r.message and "organization_not_eligible" in r.message for r in caplog.records
    )


class FakeAnalytics:
    """Answers every query with one daily row; the export watermark of each answer comes from ``refreshes``
    (the last one repeats)."""

    def __init__(self, refreshes: list[str]) -> None:
        self.refreshes, self.calls = list(refreshes), []

    def iter_pages(self, path, params, *, stats, restart, headers=None):
        self.calls.append(params)
        refreshed = self.refreshes.pop(0) if len(self.refreshes) > 1 else self.refreshes[0]
        usage = {
            "uncached_input_tokens": 5,
            "output_tokens": 1,
            "cache_read_input_tokens": 0,
            "total_tokens": 6,
        }
        row = {
            "starting_at": "2026-03-02T00:00:00Z",
            "ending_at": "2026-03-03T00:00:00Z",
            "group": {},
            "usage": usage,
        }
        yield {"data": [row], "data_refreshed_at": refreshed, "has_more": False, "next_page": None}


def test_a_refresh_between_groupings_pulls_the_endpoint_again():
    """The groupings are separate queries: one read under another data_refreshed_at than the others could
    not be compared with the total, so the endpoint's groupings are read again, all under one export."""
    from claude_assets.ingest.enterprise_reports import bucketed, fetch, tables

    fake = FakeAnalytics(["2026-11-22T08:00:00Z", "2026-11-22T12:00:00Z"])
    plan = bucketed.PlanLog()
    org = OrgConfig(slug="c", kind="console", key_env="K")
    frames, _, requests = fetch.PARTS[tables.ANALYTICS_USAGE](
        fake, org, date(2026, 3, 2), date(2026, 3, 3), None, set(), plan
    )
    n = len(ANALYTICS_GROUPINGS)
    assert len(fake.calls) == 2 * n and len(requests) == n
    frame = frames[tables.ANALYTICS_USAGE]
    assert set(frame.data_refreshed_at) == {"2026-11-22T12:00:00Z"} and len(frame) == n
    assert sorted(frame.grouping) == sorted(g.name for g in ANALYTICS_GROUPINGS)
    assert "pulled again" in plan.markdown()

"""The lineage the UI draws: the Anthropic APIs as external sources, then raw, facts, insights and exports,
every edge real; and only the assets some configured organization uses."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import dagster as dg
import pytest

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from claude_assets.facts.tables import PRICE_BOOK
from demo import settings as demo_config

CONSOLE = OrgConfig(slug="acme-console", kind="console", key_env="GRAPH_CONSOLE_KEY", analytics_api=False)
ENTERPRISE = OrgConfig(
    slug="acme-enterprise", kind="enterprise", key_env="GRAPH_ENTERPRISE_KEY", analytics_api=False
)
BETA = OrgConfig(slug="beta-enterprise", kind="enterprise", key_env="GRAPH_BETA_KEY", analytics_api=True)
ANALYTICS = {"raw/analytics_usage", "raw/analytics_cost", "anthropic/enterprise/usage_cost_analytics"}
#: the layers of the graph, top to bottom: a group's assets read only its own group or the groups above
LAYERS = (
    ("sources",),
    ("console", "enterprise", "analytics", "inventory"),
    ("facts",),
    ("insights", "exports"),
)


def graph(*orgs: OrgConfig) -> dg.AssetGraph:
    return build_definitions(ProjectConfig(organizations=orgs), ":memory:").resolve_asset_graph()


def names(keys) -> set[str]:
    return {k.to_user_string() for k in keys}


def parents(g, key: str) -> set[str]:
    return names(g.get(dg.AssetKey.from_user_string(key)).parent_keys)


def children(g, key: str) -> set[str]:
    return names(g.get(dg.AssetKey.from_user_string(key)).child_keys)


def test_the_lineage_runs_from_the_api_through_raw_and_facts_to_insights_and_exports():
    g = graph(CONSOLE, ENTERPRISE)
    assert {
        "raw/console_cost",
        "raw/enterprise_cost",
        "raw/console_usage",
        "raw/enterprise_usage",
        "facts/price_book",
    } <= parents(g, "facts/cost")
    assert {"raw/console_usage", "raw/enterprise_usage", "raw/claude_code_model_usage"} <= parents(
        g, "facts/usage"
    )
    assert "facts/cost" in parents(g, "exports/focus_cost")
    assert {"facts/cost", "facts/cost_allocation"} <= parents(g, "insights/budget_status")
    assert {"facts/usage", "facts/cost_allocation"} <= parents(g, "insights/cost_anomalies")
    assert "facts/cost" in parents(g, "insights/unit_economics_daily")
    # the API endpoint families at the top, one per family and kind of organization
    assert parents(g, "raw/console_cost") == {"anthropic/console/cost_report"}
    assert parents(g, "raw/console_usage") == {"anthropic/console/usage_report"}
    assert children(g, "anthropic/console/claude_code") == {
        "raw/claude_code_usage",
        "raw/claude_code_model_usage",
    }
    assert parents(g, "raw/enterprise_cost") == {"anthropic/enterprise/usage_cost_reports"}
    assert parents(g, "raw/enterprise_summary") == {"anthropic/enterprise/engagement"}
    assert "inventory/workspaces" in children(g, "anthropic/console/inventory")


def test_every_asset_is_connected_and_reads_only_its_own_layer_or_those_above():
    g = graph(CONSOLE, BETA)
    layer = {group: i for i, groups in enumerate(LAYERS) for group in groups}
    for key in g.get_all_asset_keys():
        node = g.get(key)
        assert node.parent_keys or node.child_keys, f"{key.to_user_string()} has no edge"
        if node.group_name == "sources":
            assert not node.is_materializable and not node.parent_keys  # external: nothing materializes them
            assert "GET /v1/organizations/" in (node.description or "")  # names the endpoints
        elif key != PRICE_BOOK.asset_key:  # the price book reads the project's price file, not an asset
            assert node.parent_keys, f"{key.to_user_string()} reads nothing"
        for parent in node.parent_keys:
            assert layer[g.get(parent).group_name] <= layer[node.group_name], (key, parent)
    raw = [k for k in g.get_all_asset_keys() if k.path[0] == "raw" or k.path[0] == "inventory"]
    assert all(g.get(p).group_name == "sources" for k in raw for p in g.get(k).parent_keys)


def test_the_beta_analytics_exist_only_for_the_organizations_that_read_them():
    without = graph(CONSOLE, ENTERPRISE)
    assert not ANALYTICS & names(without.get_all_asset_keys())
    assert "raw/analytics_cost" not in parents(without, "facts/cost_reconciliation")

    with_beta = graph(CONSOLE, ENTERPRISE, BETA)
    assert names(with_beta.get_all_asset_keys()) >= ANALYTICS
    assert "raw/analytics_cost" in parents(with_beta, "facts/cost_reconciliation")
    beta_orgs = with_beta.get(dg.AssetKey(["raw", "analytics_cost"])).partitions_def
    assert {k.keys_by_dimension["org"] for k in beta_orgs.get_partition_keys()} == {BETA.slug}
    reports = with_beta.get(dg.AssetKey(["raw", "enterprise_cost"])).partitions_def
    assert {k.keys_by_dimension["org"] for k in reports.get_partition_keys()} == {ENTERPRISE.slug, BETA.slug}


@pytest.mark.parametrize(
    ("orgs", "absent"),
    [
        ((CONSOLE,), ("raw/enterprise_", "anthropic/enterprise/", "raw/analytics_")),
        (
            (ENTERPRISE,),
            ("raw/console_", "raw/claude_code", "inventory/", "anthropic/console/", "raw/analytics_"),
        ),
    ],
)
def test_one_kind_of_organization_defines_its_family_only_and_the_later_layers_still_load(orgs, absent):
    defs = build_definitions(ProjectConfig(organizations=orgs), ":memory:")
    dg.Definitions.validate_loadable(defs)
    keys = names(defs.resolve_asset_graph().get_all_asset_keys())
    assert not [k for k in keys if k.startswith(absent)]
    assert {"facts/cost", "facts/usage", "insights/budget_status", "exports/focus_cost"} <= keys
    sensors = {s.name for s in defs.sensors}
    assert "analytics_beta_ready" not in sensors
    assert ("console_cost_ready" in sensors) == (orgs == (CONSOLE,))


def test_the_demo_lineage_link_expands_every_group_the_demo_defines():
    groups = {
        node.group_name
        for node in build_definitions(demo_config.project_config(), ":memory:")
        .resolve_asset_graph()
        .asset_nodes
    }
    assert set(demo_config.GRAPH_GROUPS) == groups
    url = demo_config.lineage_url(3000)
    assert url.startswith("http://127.0.0.1:3000/asset-groups?expanded=")
    assert parse_qs(urlsplit(url).query)["expanded"] == [
        ",".join(f"global@global:{g}" for g in demo_config.GRAPH_GROUPS)
    ]

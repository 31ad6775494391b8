"""Every declared table is in the catalog, every column of it is described, and the descriptions reach Dagster."""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg
import pytest

import claude_assets
from claude_assets.catalog import declared_tables
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from claude_assets.warehouse.contract import Table

EVERY_SOURCE = ProjectConfig(
    organizations=(
        OrgConfig(slug="acme-console", kind="console", key_env="ACME_ADMIN_KEY"),
        OrgConfig(
            slug="acme-enterprise", kind="enterprise", key_env="ACME_ANALYTICS_KEY", analytics_beta=True
        ),
    )
)


def tables_defined_in_the_product() -> dict[str, Table]:
    """Every Table a module of the product holds at its top level (alone or in a tuple), by qualified name."""
    found: dict[str, Table] = {}
    for info in pkgutil.walk_packages(claude_assets.__path__, "claude_assets."):
        if info.name == "claude_assets.definitions":
            continue  # builds the code location on import; it declares no table
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            for item in value if type(value) is tuple else (value,):
                if isinstance(item, Table):
                    found[item.qualified] = item
    return found


def test_the_catalog_lists_every_table_the_product_declares():
    listed = {t.qualified for t in declared_tables()}
    missing = sorted(set(tables_defined_in_the_product()) - listed)
    assert not missing, f"declared but not in claude_assets.catalog.declared_tables: {missing}"
    assert len(listed) == len(declared_tables()), "a table is listed twice"


def test_every_column_of_every_table_is_described():
    undescribed = [
        f"{t.qualified}.{c.name}" for t in declared_tables() for c in t.columns if not c.description.strip()
    ]
    assert not undescribed, f"{len(undescribed)} columns have no description: {undescribed}"
    assert all(t.description.strip() for t in declared_tables())


@pytest.fixture(scope="module")
def specs() -> dict[dg.AssetKey, dg.AssetSpec]:
    defs = build_definitions(EVERY_SOURCE, warehouse=":memory:")
    return {
        s.key: s for a in defs.assets or () for s in (a.specs if isinstance(a, dg.AssetsDefinition) else [a])
    }


def test_every_table_asset_shows_its_described_columns_in_dagster(specs):
    checked = 0
    for table in declared_tables():
        spec = specs.get(table.asset_key)
        if spec is None:
            continue  # a log written by other assets' runs (raw.ingest_log, ...), or named by dagster/table_name
        schema = spec.metadata.get("dagster/column_schema")
        assert schema is not None, f"{table.qualified}: no column schema in its asset definition"
        shown = {c.name: c.description for c in getattr(schema, "schema", schema).columns}
        assert shown == {c.name: c.description for c in table.columns}, table.qualified
        checked += 1
    assert checked >= 30  # the raw, inventory, facts, insights and exports tables

"""``docs/data-dictionary.md``: every table of the warehouse and every column, from the table declarations
(``claude_assets.catalog.declared_tables``) and the asset definitions that write them."""

from __future__ import annotations

import warnings

import dagster as dg

from claude_assets.catalog import SCHEMA_ORDER, declared_tables
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from claude_assets.warehouse.contract import MONEY, Table
from docgen.markdown import code, document, table

#: a configuration with every kind of organization and every optional source, so every asset is defined
EVERY_SOURCE = ProjectConfig(
    organizations=(
        OrgConfig(slug="console", kind="console", key_env="ANTHROPIC_ADMIN_API_KEY"),
        OrgConfig(
            slug="enterprise", kind="enterprise", key_env="ANTHROPIC_ANALYTICS_API_KEY", analytics_beta=True
        ),
    )
)
SCHEMA_TEXT = {
    "raw": "What the APIs answered, one table per endpoint and grain, plus the logs of the pulls",
    "inventory": "The Console organization's users, workspaces, invites and API keys as history (SCD type 2)",
    "facts": "The price book, unified usage and cost of every organization, their allocation and reconciliation",
    "insights": "Anomalies, budgets, unit economics and the alerts posted about them",
    "exports": "Open-format datasets built from the facts (FOCUS)",
}


def _assets_by_table() -> dict[str, dg.AssetSpec]:
    """The asset spec that writes each table: the asset of the same key, or the one naming it in
    ``dagster/table_name``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        defs = build_definitions(EVERY_SOURCE, warehouse=":memory:")
    out: dict[str, dg.AssetSpec] = {}
    for asset in defs.assets or ():
        for spec in asset.specs if isinstance(asset, dg.AssetsDefinition) else [asset]:
            named = spec.metadata.get("dagster/table_name")
            out.setdefault(".".join(spec.key.path), spec)
            if named is not None:
                out[str(getattr(named, "value", named))] = spec
    return out


def _dimension(partitions: dg.PartitionsDefinition) -> str:
    if isinstance(partitions, dg.TimeWindowPartitionsDefinition):
        unit = {"0 0 * * *": "UTC day", "0 0 1 * *": "UTC month"}.get(partitions.cron_schedule)
        return unit or f"time window ({partitions.cron_schedule}, {partitions.timezone})"
    slugs = {o.slug for o in EVERY_SOURCE.organizations}
    if (
        isinstance(partitions, dg.StaticPartitionsDefinition)
        and set(partitions.get_partition_keys()) <= slugs
    ):
        return "organization"
    return type(partitions).__name__


def partitioning(spec: dg.AssetSpec | None) -> str:
    if spec is None:
        return "not an asset of its own: written by the runs of the raw assets, in the transactions of their writes"
    p = spec.partitions_def
    if p is None:
        return "unpartitioned"
    if isinstance(p, dg.MultiPartitionsDefinition):
        return "partitioned by " + " x ".join(
            f"{_dimension(d.partitions_def)} ({d.name})" for d in p.partitions_defs
        )
    return f"partitioned by {_dimension(p)}"


def _mark(t: Table, column: str, type_: str) -> str:
    if column in t.money:
        return "money (USD); its total is reported per materialization"
    if column in t.counts:
        return "count; its total is reported per materialization"
    if type_ == MONEY:
        return "money (USD)"
    return ""


def _table_section(t: Table, spec: dg.AssetSpec | None) -> str:
    asset = f"asset {code(spec.key.to_user_string())}, group {code(spec.group_name)}" if spec else "no asset"
    head = [
        f"### {code(t.qualified)}",
        t.description or "(no description)",
        f"- **Grain** (one row per): {', '.join(code(c) for c in t.grain)}",
        f"- **Partitioning**: {partitioning(spec)}",
        f"- **Dagster**: {asset}",
    ]
    if t.totals_where:
        head.append(f"- **Totals** are summed over the rows where {code(t.totals_where)}")
    rows = [
        (code(c.name), code(c.type), "yes" if c.nullable else "no", c.description, _mark(t, c.name, c.type))
        for c in t.columns
    ]
    return (
        "\n\n".join(head[:2])
        + "\n\n"
        + "\n".join(head[2:])
        + "\n\n"
        + table(("column", "type", "null", "description", "measure"), rows)
    )


def render() -> str:
    tables = declared_tables()
    specs = _assets_by_table()
    sections = []
    for schema in SCHEMA_ORDER:
        of_schema = [t for t in tables if t.schema == schema]
        listing = "\n".join(f"- {code(t.qualified)}" for t in of_schema)
        sections.append(f"## Schema `{schema}`\n\n{SCHEMA_TEXT[schema]}.\n\n{listing}")
        sections += [_table_section(t, specs.get(t.qualified)) for t in of_schema]
    intro = (
        f"Every table of the DuckDB warehouse ({len(tables)} tables, "
        f"{sum(len(t.columns) for t in tables)} columns), from the declarations in each package's "
        "`tables.py` (`claude_assets.catalog.declared_tables`). Money is exact USD (`DECIMAL(38, 12)`, the "
        "unit in the column name); times are UTC. A table's asset key is its `schema.name`; the Dagster "
        "UI shows the same column descriptions (the asset's column schema)."
    )
    return document("Data dictionary", intro, sections)

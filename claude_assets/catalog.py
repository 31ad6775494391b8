"""Every table the warehouse declares, in one list: the data dictionary and its tests read it from here.

A new ``Table(...)`` is added to ``declared_tables``; ``tests/test_catalog.py`` finds every ``Table`` a
module of the product defines and fails when one is missing here.
"""

from __future__ import annotations

from claude_assets.exports import tables as exports
from claude_assets.facts import tables as facts
from claude_assets.ingest.console import tables as console
from claude_assets.ingest.enterprise_engagement import tables as engagement
from claude_assets.ingest.enterprise_reports import tables as reports
from claude_assets.insights.alerts import tables as alerts
from claude_assets.insights.anomalies import tables as anomalies
from claude_assets.insights.budgets import tables as budgets
from claude_assets.insights.unit_economics import tables as unit_economics
from claude_assets.inventory import tables as inventory
from claude_assets.privacy.retention import RETENTION_LOG
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.identity import ORGANIZATION_IDENTITY
from claude_assets.warehouse.restatements import RESTATEMENTS
from claude_assets.warehouse.writes import INGEST_LOG

#: the warehouse's schemas in the order data flows through them
SCHEMA_ORDER = ("raw", "inventory", "facts", "insights", "exports")


def declared_tables() -> tuple[Table, ...]:
    """Every declared table, by schema (``SCHEMA_ORDER``) and then in the order its package declares it."""
    tables = (
        console.CONSOLE_USAGE,
        console.CONSOLE_COST,
        console.CLAUDE_CODE_USAGE,
        console.CLAUDE_CODE_MODELS,
        *engagement.TABLES,
        *reports.LEGACY_TABLES,
        *reports.BETA_TABLES,
        INGEST_LOG,
        RESTATEMENTS,
        ORGANIZATION_IDENTITY,
        RETENTION_LOG,
        *inventory.TABLES,
        facts.PRICE_BOOK,
        facts.FACTS_COST,
        facts.FACTS_USAGE,
        facts.COST_ALLOCATION,
        facts.COST_RECONCILIATION,
        anomalies.COST_ANOMALIES,
        budgets.BUDGET_STATUS,
        budgets.BUDGET_CROSSINGS,
        unit_economics.UNIT_ECONOMICS_DAILY,
        unit_economics.UNIT_ECONOMICS_MONTHLY,
        alerts.ALERT_LOG,
        exports.FOCUS_COST,
    )
    return tuple(sorted(tables, key=lambda t: SCHEMA_ORDER.index(t.schema)))

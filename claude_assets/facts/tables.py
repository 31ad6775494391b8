"""The facts tables (schema ``facts``), declared once: DDL, Dagster column schema and pandera schema come
from these declarations. Each part of the layer declares its tables here, in dependency order."""

from claude_assets.warehouse.contract import LINEAGE, MONEY, ORG_ID, Table, col  # noqa: F401

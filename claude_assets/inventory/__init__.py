"""Inventory snapshots kept as history (schema ``inventory``): who and what existed, and when."""

from claude_assets.inventory.console import inventory_assets

__all__ = ["inventory_assets"]

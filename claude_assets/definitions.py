"""The Dagster code location: ``dagster dev -m claude_assets.definitions``.

Assets arrive with the ingest issues; this module already loads so the UI and CI can start.
"""

from __future__ import annotations

import dagster as dg

defs = dg.Definitions(assets=[])

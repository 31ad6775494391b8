"""A raw layer of the demo world, built once per test session, for the tests of the layers above it.

``build_raw_warehouse`` backfills the Console reports, the Enterprise usage and cost reports and the
inventory of every demo organization over ``RAW_DAYS`` into a DuckDB file, through Dagster against
the simulator over loopback; tests copy that file and build their layer on the copy.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import dagster as dg

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from demo.backfill import QUIET, backfill
from simulator.app import Simulator
from simulator.serve import serve_in_thread

#: the raw range: the 14 complete days before the simulator's clock (tests.conftest.FIXED_NOW)
RAW_END = date(2026, 11, 22)
RAW_START = RAW_END - timedelta(days=14)
RAW_GROUPS = ("console", "inventory")
RAW_REPORT_TABLES = ("enterprise_usage", "enterprise_cost", "enterprise_user_usage", "enterprise_user_cost")


def key_env(slug: str) -> str:
    return f"RAW_{slug.upper().replace('-', '_')}_KEY"


def raw_config(sim: Simulator, base_url: str) -> ProjectConfig:
    return ProjectConfig(
        organizations=tuple(
            OrgConfig(
                slug=o.slug,
                kind=o.kind,
                key_env=key_env(o.slug),
                base_url=base_url,
                rate_limit_per_minute=100_000,
                history_start=date(2026, 1, 1),
            )
            for o in sim.world.organizations
        )
    )


@dataclass(frozen=True)
class RawWarehouse:
    path: Path  # the DuckDB file; copy it before writing (see ``copy_to``)
    config: ProjectConfig
    start: date
    end: date

    def copy_to(self, folder: Path) -> Path:
        target = folder / "warehouse.duckdb"
        shutil.copy(self.path, target)
        return target


def build_raw_warehouse(
    sim: Simulator, folder: Path, start: date = RAW_START, end: date = RAW_END
) -> RawWarehouse:
    """Backfill the raw tables the facts read, for every organization of ``sim``, over [start, end)."""
    path = folder / "raw_layer.duckdb"  # not raw.duckdb: a catalog named raw would shadow the schema
    with serve_in_thread(sim) as running:
        config = raw_config(sim, running.base_url)
        keys = {key_env(o.slug): sim.world.by_slug(o.slug).api_key for o in config.organizations}
        with mock.patch.dict(os.environ, keys):
            defs = build_definitions(config, str(path))
            wanted = [
                k
                for a in defs.assets or []
                if isinstance(a, dg.AssetsDefinition)
                for k, group in a.group_names_by_key.items()
                if group in RAW_GROUPS or k.path[-1] in RAW_REPORT_TABLES
            ]
            results = backfill(defs, start, end, selection=wanted, run_config=QUIET)
    failed = [r.run_id for r in results if not r.success]
    if failed:
        raise RuntimeError(f"the raw demo backfill failed (runs {failed})")
    return RawWarehouse(path, config, start, end)

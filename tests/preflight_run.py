"""Run by ``tests/test_warehouse_preflight.py`` in a process of its own (one that may not override file
permissions): materialize the Console cost report and the Console inventory into each warehouse given,
and print one JSON line per run (warehouse, asset, success, failure message).

``python -m tests.preflight_run BASE_URL WAREHOUSE...`` (the keys are in the environment).
"""

from __future__ import annotations

import json
import sys
import warnings
from datetime import date

import dagster as dg

from claude_assets.definitions import build_definitions
from claude_assets.warehouse import preflight
from tests.test_e2e_console import ORGS, config_for

DAY = date(2026, 11, 10)
#: the lock another process holds is waited for briefly here (a run waits about 100 s)
preflight.LOCK_RETRIES = 2


def runs(base_url: str, warehouse: str) -> list[dict]:
    defs = build_definitions(config_for(base_url), warehouse)
    assets = list(defs.assets)
    out = []
    inventory = [k for a in assets for k in a.keys if k.path[0] == "inventory"]
    for name, selection, start, end in (
        ("raw/console_cost", [dg.AssetKey(["raw", "console_cost"])], f"{DAY}|{ORGS[0]}", f"{DAY}|{ORGS[-1]}"),
        ("inventory", inventory, ORGS[0], ORGS[-1]),
    ):
        result = dg.materialize(
            assets,
            selection=selection,
            resources=defs.resources,
            tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
            raise_on_error=False,
        )
        failure = " ".join(str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure)
        out.append(
            {
                "warehouse": warehouse,
                "asset": name,
                "success": result.success,
                "failure": failure,
            }
        )
    return out


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    base_url, *warehouses = sys.argv[1:]
    for path in warehouses:
        for line in runs(base_url, path):
            print(json.dumps(line), flush=True)

"""The run process of a chaos test: ``python -m tests.chaos.run_process SPEC.json``.

It is what a scheduler's run worker would be: it builds the code location from the configuration file
the spec names (the keys are in its environment only), then materializes each phase of the spec (asset
groups over a day range) with ``demo.backfill.backfill`` on the Dagster instance of ``$DAGSTER_HOME``,
raw groups before the layers built from them. Every Python log goes to stderr at DEBUG level, and
Dagster's console logger too, so the secrets scan reads everything the process could print. One JSON line
per phase on stdout says what it did; the exit code is 0 when every run succeeded.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from datetime import date
from pathlib import Path

VERBOSE = {"loggers": {"console": {"config": {"log_level": "DEBUG"}}}}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    warnings.filterwarnings("ignore")
    import dagster as dg

    from claude_assets.config import load_file
    from claude_assets.definitions import build_definitions
    from demo.backfill import backfill
    from resources.apis import ConsoleAdminApi, EnterpriseAnalyticsApi

    defs = build_definitions(load_file(spec["config"]), spec["warehouse"])
    client = spec.get("client", {})
    resources = {"console_api": ConsoleAdminApi(**client), "analytics_api": EnterpriseAnalyticsApi(**client)}
    group_of = {
        key: group
        for a in defs.assets or []
        if isinstance(a, dg.AssetsDefinition)
        for key, group in a.group_names_by_key.items()
    }
    ok = True
    with dg.DagsterInstance.get() as instance:
        for phase in spec["phases"]:
            selection = [k for k, g in group_of.items() if g in phase["groups"]]
            results = backfill(
                defs,
                date.fromisoformat(phase["start"]),
                date.fromisoformat(phase["end"]),
                instance=instance,
                selection=selection,
                resources=resources,
                run_config=VERBOSE,
                tags={"chaos/phase": phase["name"]},
            )
            calls: dict[
                str, dict[str, int]
            ] = {}  # step -> its API figures (a multi-asset reports them per asset)
            for result in results:
                for event in result.get_asset_materialization_events():
                    meta = event.event_specific_data.materialization.metadata
                    calls[event.step_key] = {
                        k.removeprefix("run_"): int(v.value)
                        for k, v in meta.items()
                        if k in ("run_requests", "run_retries", "run_restarts")
                    }
            report = {
                "phase": phase["name"],
                "runs": [r.run_id for r in results],
                "success": all(r.success for r in results),
                **{
                    figure: sum(c.get(figure, 0) for c in calls.values())
                    for figure in ("requests", "retries", "restarts")
                },
            }
            print(json.dumps(report), flush=True)
            ok = ok and report["success"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""The demo's one configuration, shared by ``make demo`` and ``make ui``.

Both point the project at the ``demo`` world of the simulator on loopback. The configuration file
(``data/demo.yaml``) only *names* the variables that hold the keys; the simulated keys themselves
are put in the environment of the process (and of the ``dg dev`` it starts), never in a file.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import yaml

from claude_assets.config import (
    DEFAULT_HISTORY_START,
    AlertsConfig,
    ConfigError,
    OrgConfig,
    ProjectConfig,
    Webhook,
    load_file,
)
from simulator.serve import LOOPBACK
from simulator.world import World

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
WAREHOUSE = DATA / "warehouse.duckdb"
CONFIG_FILE = DATA / "demo.yaml"
#: the demo budgets (insights.budget_status), one per kind of scope
BUDGETS_FILE = ROOT / "demo" / "budgets.yaml"
#: set to a Slack-compatible webhook URL, the demo posts its new anomalies and budget crossings there (once)
ALERTS_WEBHOOK_ENV = "DEMO_ALERTS_WEBHOOK_URL"
DAGSTER_HOME = ROOT / ".dagster_home"
WORLD, SEED = "demo", 7
#: the days `make demo` backfills by default, ending yesterday; the partitions start on the first of them
DAYS = 90
#: Requests per minute per organization in the demo. The real Enterprise Analytics API allows 60; the
#: demo simulator allows more so that `make demo` backfills 90 days of Enterprise data in minutes.
RATE_LIMITS = {"console": 120, "enterprise": 600}
UI_SIMULATOR_PORT = 8787
UI_PORT = 3000
#: the asset groups as the lineage graph lays them out, from the API to the exports
GRAPH_GROUPS = ("sources", "console", "enterprise", "analytics", "inventory", "facts", "insights", "exports")
RUN_MONITORING_YAML = """\
# a run stuck starting or canceling is ended by the daemon of `make ui`; a run whose whole process was
# killed is marked failed when `make demo` or `make ui` starts again (demo.dead_runs)
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0  # the default run launcher cannot resume a run
  poll_interval_seconds: 60
"""
CONCURRENCY_YAML = """\
# DuckDB allows one writing process: every asset that writes the warehouse is in the pool
# duckdb_warehouse (claude_assets.asset_defaults.WAREHOUSE_POOL), one step at a time; a run whose step finds
# the pool busy waits for it (queued in the UI, "blocked by pool") instead of failing on the file's lock
concurrency:
  pools:
    default_limit: 1
    granularity: op
"""
PYTHON_LOGS_YAML = """\
# a run's console log at INFO (Dagster's default prints every DEBUG event to the terminal of `make ui`);
# every event is still stored and shown in the UI
python_logs:
  python_log_level: INFO
"""
DAGSTER_YAML = (
    """\
# written by demo.settings: the demo runs with no network, so no telemetry
telemetry:
  enabled: false
"""
    + RUN_MONITORING_YAML
    + CONCURRENCY_YAML
    + PYTHON_LOGS_YAML
)


def world(hipaa_ready: tuple[str, ...] = ()) -> World:
    """The demo's world; ``hipaa_ready``: organizations with HIPAA readiness enabled, which the Usage and Cost
    Analytics API refuses (400 ``organization_not_eligible``) while every other endpoint serves them."""
    return World.build(WORLD, SEED, RATE_LIMITS, hipaa_ready=hipaa_ready)


def rate_limit_flag() -> str:
    """The same limits for ``python -m simulator --rate-limit``."""
    return ",".join(f"{k}={v}" for k, v in RATE_LIMITS.items())


def key_env(slug: str) -> str:
    """The variable holding an organization's (simulated) key, e.g. ``DEMO_ACME_CONSOLE_API_KEY``."""
    return f"DEMO_{slug.upper().replace('-', '_')}_API_KEY"


def history_start(org, start: date | None = None) -> date:
    """The first day of an organization's partitions: ``start`` (the first day the demo backfills), never
    before its data begins (Console: its creation; Enterprise: also never before 2026-01-01)."""
    floor = org.created if org.kind == "console" else max(org.created, DEFAULT_HISTORY_START)
    return max(floor, start) if start else floor


def project_config(w: World | None = None, start: date | None = None) -> ProjectConfig:
    """Every organization of the demo world, at the simulator's own per-organization rate limits, its
    partitions starting on ``start`` (the demo's first day) or, without it, where its data begins."""
    w = w or world()
    return ProjectConfig(
        organizations=tuple(
            OrgConfig(
                slug=o.slug,
                kind=o.kind,
                key_env=key_env(o.slug),
                rate_limit_per_minute=o.rate_limit,
                history_start=history_start(o, start),
            )
            for o in w.organizations
        ),
        budgets_file=BUDGETS_FILE,
        alerts=_alerts(),
    )


def _alerts() -> AlertsConfig:
    """The demo's alert destination: the webhook whose URL ``DEMO_ALERTS_WEBHOOK_URL`` holds, if it is set."""
    if not os.environ.get(ALERTS_WEBHOOK_ENV):
        return AlertsConfig()
    return AlertsConfig(webhooks=(Webhook(name="demo-webhook", url_env=ALERTS_WEBHOOK_ENV),))


def write_config_file(config: ProjectConfig, path: Path | None = None) -> Path:
    """Write the YAML ``CLAUDE_ASSETS_CONFIG`` points at (variable names only, never a key)."""
    path = path or CONFIG_FILE
    body: dict = {
        "organizations": [o.model_dump(mode="json", exclude_none=True) for o in config.organizations]
    }
    if config.budgets_file is not None:
        body["budgets_file"] = str(config.budgets_file)
    if config.alerts.webhooks:
        body["alerts"] = config.alerts.model_dump(mode="json", exclude_none=True)
    text = (
        "# Generated by `make demo` / `make ui` for the simulator's demo world. It names the variables\n"
        "# that hold the keys; the (simulated) keys are only ever set in the environment.\n"
        + yaml.safe_dump(body, sort_keys=False)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    if load_file(path) != config:  # the file says exactly what the demo runs with
        raise RuntimeError(f"{path} does not round-trip to the demo configuration")
    return path


def prepare_dagster_home(home: Path | None = None) -> Path:
    """The demo's Dagster home, with run monitoring on, the warehouse pool limited to one step and runs' console
    logs at INFO (each added to a ``dagster.yaml`` written before it was), and every run a killed process left in progress marked
    failed (``demo.dead_runs``), its pool slot freed."""
    home = home or DAGSTER_HOME
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text(DAGSTER_YAML)
    else:
        for block, text in (
            ("run_monitoring", RUN_MONITORING_YAML),
            ("concurrency", CONCURRENCY_YAML),
            ("python_logs", PYTHON_LOGS_YAML),
        ):
            if block not in (yaml.safe_load(settings.read_text()) or {}):
                settings.write_text(settings.read_text().rstrip("\n") + "\n" + text)
    import dagster as dg

    from demo.dead_runs import fail_dead_runs

    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run, pid in fail_dead_runs(instance):
            # the dead process cannot give back the warehouse pool's slot its step held: free it, or every
            # later run would wait for it forever
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            print(
                f"Run {run.run_id} was left in progress by a process that no longer exists (pid {pid}): "
                "marked failed. Materialize its partitions again to finish it.",
                file=sys.stderr,
                flush=True,
            )
    return home


def environment(w: World, base_url: str) -> dict[str, str]:
    """Everything ``claude_assets.definitions`` needs to run against the demo simulator at ``base_url``."""
    return {
        **{key_env(o.slug): o.api_key for o in w.organizations},
        "ANTHROPIC_BASE_URL": base_url,
        "CLAUDE_ASSETS_CONFIG": str(CONFIG_FILE),
        "CLAUDE_ASSETS_WAREHOUSE": str(WAREHOUSE),
        "DAGSTER_HOME": str(DAGSTER_HOME),
    }


def lineage_url(port: int = UI_PORT) -> str:
    """The UI's lineage graph with every group expanded. The UI opens groups collapsed; the ``expanded`` query
    parameter is where it keeps which are open (ids ``global@global:<group>``), so this link opens them all."""
    expanded = quote(",".join(f"global@global:{g}" for g in GRAPH_GROUPS), safe="")
    return f"http://127.0.0.1:{port}/asset-groups?expanded={expanded}"


def simulator_url(port: int) -> str:
    return f"http://{LOOPBACK}:{port}"


def default_start() -> date:
    """Where the partitions start when no day is given (``make ui``): where the last ``make demo`` started
    them (its configuration file), else the first of the last ``DAYS`` days, the range ``make demo`` fills."""
    try:
        return load_file(CONFIG_FILE).history_start if CONFIG_FILE.exists() else _days_back(DAYS)
    except ConfigError:  # an older or hand-edited file: start over with the default range
        return _days_back(DAYS)


def _days_back(days: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=days)


def prepare(base_url: str, start: date | None = None) -> tuple[World, ProjectConfig, dict[str, str]]:
    """Write the config file and Dagster home; return the world, the configuration and the environment.

    ``start`` is the first day the demo backfills: the partitions start there, so a finished demo shows
    every partition filled (``make ui`` passes none and keeps the last demo's)."""
    w = world()
    config = project_config(w, start or default_start())
    write_config_file(config)
    prepare_dagster_home()
    return w, config, environment(w, base_url)


def command_line(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A launcher's argument parser; its module docstring is the help text, as written."""
    return argparse.ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )

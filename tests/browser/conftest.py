"""A demo warehouse served by the Dagster UI, and a real browser on it.

The site is what ``make demo`` then ``make ui`` give a new user, made small and reproducible: the demo
world backfilled for a few days at a pinned clock into a temporary directory, the demo simulator at the
same frozen instant on a free loopback port, then the Dagster webserver and daemon (the two processes
``dagster dev`` runs) on that warehouse and Dagster home. The sensors are stopped before the daemon
starts, as a person would in Automation: at a frozen clock they would only queue catch-up pulls ahead of
the run the test launches. The browser is Debian's ``chromium`` package, driven by Playwright; no
browser is ever downloaded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from demo import run as demo
from demo import settings as demo_config
from simulator.app import Simulator
from simulator.clock import SimClock
from simulator.serve import LOOPBACK, serve_in_thread

NOW = "2026-11-22T12:00:00Z"
#: days the demo backfills before the browser opens (ending yesterday by the pinned clock)
DEMO_DAYS = 2
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90


@dataclass(frozen=True)
class Site:
    url: str
    warehouse: Path
    graphql: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A Dagster process in its own process group (its code server is a child), output to ``log``."""
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group this fixture started, then SIGKILL after a grace period."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for_code_location(graphql: str, web: subprocess.Popen, log: Path) -> None:
    """Until the webserver answers and has loaded the code location (its repository lists assets)."""
    query = "{ repositoriesOrError { __typename ... on RepositoryConnection { nodes { name } } } }"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if web.poll() is not None:
            pytest.fail(
                f"the Dagster webserver exited with code {web.returncode}:\n{log.read_text()[-3000:]}"
            )
        with contextlib.suppress(httpx.TransportError):
            answer = httpx.post(graphql, json={"query": query}, timeout=10).json()
            if answer["data"]["repositoriesOrError"].get("nodes"):
                return
        time.sleep(0.5)
    pytest.fail(f"the Dagster webserver did not load the code location within {STARTUP_SECONDS} s")


def stop_every_sensor(graphql: str) -> list[str]:
    """Stop each sensor through the webserver (what the Automation page's toggle does); return their names."""
    listed = httpx.post(
        graphql,
        json={
            "query": "{ repositoriesOrError { ... on RepositoryConnection { nodes { sensors { name "
            "sensorState { id status } } } } } }"
        },
        timeout=30,
    ).json()
    sensors = [s for repo in listed["data"]["repositoriesOrError"]["nodes"] for s in repo["sensors"]]
    mutation = (
        "mutation($id: String) { stopSensor(id: $id) { __typename "
        "... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } } }"
    )
    for sensor in sensors:
        answer = httpx.post(
            graphql, json={"query": mutation, "variables": {"id": sensor["sensorState"]["id"]}}, timeout=30
        ).json()
        result = answer["data"]["stopSensor"]
        assert result.get("instigationState", {}).get("status") == "STOPPED", (sensor["name"], result)
    return [s["name"] for s in sensors]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    """The demo warehouse of ``DEMO_DAYS`` days at ``NOW``, the simulator, the webserver and the daemon."""
    tmp = tmp_path_factory.mktemp("ui")
    saved = dict(os.environ)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_config, "WAREHOUSE", tmp / "data" / "warehouse.duckdb")
        patch.setattr(demo_config, "CONFIG_FILE", tmp / "data" / "demo.yaml")
        patch.setattr(demo_config, "DAGSTER_HOME", tmp / "dagster_home")
        try:
            code = demo.main(["--days", str(DEMO_DAYS), "--now", NOW])
        finally:
            os.environ.clear()
            os.environ.update(saved)
        assert code == 0, f"make demo (--days {DEMO_DAYS} --now {NOW}) failed with exit code {code}"
        world = demo_config.world()
        sim = Simulator(world, SimClock(datetime.fromisoformat(NOW.replace("Z", "+00:00")).astimezone(UTC)))
        with serve_in_thread(sim) as simulator:
            env = {
                **os.environ,
                **demo_config.environment(world, simulator.base_url),
                "PYTHONPATH": str(ROOT),
            }
            port = free_port()
            graphql = f"http://{LOOPBACK}:{port}/graphql"
            web_log, daemon_log = tmp / "webserver.log", tmp / "daemon.log"
            bin_dir = Path(sys.executable).parent
            web = start(
                [str(bin_dir / "dagster-webserver"), "-w", "workspace.yaml", "-h", LOOPBACK, "-p", str(port)],
                env,
                web_log,
            )
            daemon = None
            try:
                wait_for_code_location(graphql, web, web_log)
                stop_every_sensor(graphql)
                daemon = start(
                    [str(bin_dir / "dagster-daemon"), "run", "-w", "workspace.yaml"], env, daemon_log
                )
                yield Site(f"http://{LOOPBACK}:{port}", demo_config.WAREHOUSE, graphql)
            finally:
                for proc in (daemon, web):
                    if proc is not None:
                        stop(proc)


@pytest.fixture(scope="module")
def browser(site):
    """Started after the site: Playwright's sync API runs an event loop in this thread, and ``make demo``
    runs Dagster's backfill iterations on loops of its own, which cannot start inside a running one."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: install Debian's browser with `apt-get install -y chromium`"
    )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=site.url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    # Dagster's first-visit invitation to its newsletter covers the page: skip it whenever it shows
    page.add_locator_handler(
        page.get_by_role("dialog").filter(has_text="Join the Dagster community"),
        lambda dialog: dialog.get_by_role("button", name="Skip").click(),
    )
    yield page
    context.close()

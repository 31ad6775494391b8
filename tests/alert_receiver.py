"""A local webhook receiver (a real loopback HTTP server in a thread) and a warehouse holding the insights
the alerts read, created with the columns of their contract and filled row by row."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import duckdb

from claude_assets.config import AlertsConfig, OrgConfig, ProjectConfig, Webhook
from claude_assets.insights.alerts.assets import alerts_asset
from claude_assets.warehouse.resource import Warehouse

HOOK_ENV = "TEST_ALERTS_WEBHOOK_URL"
#: the secret part of the receiver's URL, as a real webhook's path would be
TOKEN_PATH = "/services/T0ALERTS/B0TESTING/s3cretT0kenZq81xYw"
DAY = date(2026, 3, 10)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class Receiver:
    """Answers each POST with the next behaviour of ``script`` (then ``then``): an HTTP status, or
    ``("sleep", seconds)`` to answer 200 too late; records every request it read."""

    script: list = field(default_factory=list)
    then: object = 200
    echo_url: bool = False  # answer errors with a body that quotes the request's URL
    #: called with each request before it is answered (e.g. to use the warehouse meanwhile)
    on_request: Callable[[], object] | None = None
    seen_during_requests: list = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def next(self) -> object:
        return self.script.pop(0) if self.script else self.then

    @property
    def delivered(self) -> list[Received]:
        """The requests answered 2xx in time (what a channel would show)."""
        return [r for r in self.received if r.headers.get("x-answered") == "200"]


@contextmanager
def serve(receiver: Receiver) -> Iterator[Receiver]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                behaviour = receiver.next()
            if receiver.on_request is not None:
                receiver.seen_during_requests.append(receiver.on_request())
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = 200
            if isinstance(behaviour, tuple):
                time.sleep(behaviour[1])
                headers["x-answered"] = "late"
            else:
                status = int(behaviour)
                headers["x-answered"] = str(status)
            with lock:
                receiver.received.append(Received(self.path, headers, json.loads(body)))
            text = f"error for {receiver.url}" if receiver.echo_url and status >= 300 else "ok"
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(text.encode())
            except OSError:  # the client gave up (timeout)
                pass

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{TOKEN_PATH}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


# -- the insights the alerts read ------------------------------------------------------------------------

ANOMALIES_DDL = """CREATE TABLE IF NOT EXISTS insights.cost_anomalies (
  anomaly_id VARCHAR, org_id VARCHAR, usage_date DATE, measure VARCHAR, slice_kind VARCHAR, slice VARCHAR,
  severity VARCHAR, explanation VARCHAR)"""
CROSSINGS_DDL = """CREATE TABLE IF NOT EXISTS insights.budget_crossings (
  crossing_id VARCHAR, budget VARCHAR, period_start DATE, period_end DATE, threshold_pct DECIMAL(9, 4),
  basis VARCHAR, first_crossed_on DATE, amount_usd DECIMAL(38, 12), explanation VARCHAR)"""


def add_anomaly(path: Path, anomaly_id: str, day: date = DAY, slice_: str = "key_runaway") -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS insights")
        con.execute(ANOMALIES_DDL)
        con.execute(
            "INSERT INTO insights.cost_anomalies VALUES (?, 'acme-console', ?, 'cost_usd', 'api_key', ?, "
            "'high', ?)",
            [
                anomaly_id,
                day,
                slice_,
                f"API key {slice_} spent $812.40 against $40.10 expected (95% of the change)",
            ],
        )


def add_crossing(
    path: Path, crossing_id: str, day: date = DAY, pct: str = "80", basis: str = "forecast"
) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS insights")
        con.execute(CROSSINGS_DDL)
        con.execute(
            "INSERT INTO insights.budget_crossings VALUES (?, 'platform-team', DATE '2026-03-01', "
            "DATE '2026-03-31', ?, ?, ?, ?, ?)",
            [
                crossing_id,
                Decimal(pct),
                basis,
                day,
                Decimal("1500"),
                "forecast $1,310 of $1,500 by 2026-03-31 (run-rate of the last 7 days) <& co>",
            ],
        )


def config(**alerts) -> ProjectConfig:
    settings = {
        "webhooks": (Webhook(name="ops", url_env=HOOK_ENV),),
        "timeout_seconds": 10,  # a loaded machine answers late; the timeout test sets its own
        "backoff_seconds": 0.01,
        "backoff_max_seconds": 0.05,
        "max_attempts": 3,
        "ui_base_url": "http://dagster.example:3000",
        **alerts,
    }
    return ProjectConfig(
        organizations=(
            OrgConfig(slug="acme-console", kind="console", key_env="X", history_start=date(2026, 3, 1)),
        ),
        alerts=AlertsConfig(**settings),
    )


def materialize(
    path: Path, cfg: ProjectConfig | None = None, day: date = DAY, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [alerts_asset(cfg or config())],
        partition_key=day.isoformat(),
        resources={"duckdb": Warehouse(database=str(path))},
        instance=instance,
        raise_on_error=False,
    )


def log_rows(path: Path) -> list[dict]:
    with duckdb.connect(str(path), read_only=True) as con:
        frame = con.execute("SELECT * FROM insights.alert_log ORDER BY alert_key, destination, attempt").df()
    return frame.to_dict("records")


def main() -> None:
    """Materialize one day in this process: ``python -c 'from tests.alert_receiver import main; main()' WAREHOUSE DAY``
    (the webhook URL in $TEST_ALERTS_WEBHOOK_URL): a restart is a new process reading the same warehouse."""
    path, day = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
    assert os.environ.get(HOOK_ENV)
    result = materialize(path, day=day)
    sys.exit(0 if result.success else 1)


def run_in_new_process(path: Path, url: str, day: date = DAY) -> None:
    import subprocess

    env = {**os.environ, HOOK_ENV: url, "PYTHONWARNINGS": "ignore"}
    code = "from tests.alert_receiver import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), day.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]

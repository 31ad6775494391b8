"""The secrets scan: no key, and no 12-character run of one, anywhere the pipeline writes.

The pipeline runs as its own process (``tests.chaos.run_process``) against the simulator: a backfill of
every asset group under every fault kind, then a run that fails: the Console organization given the Enterprise
Analytics key (403), the Enterprise organization a key the API does not know (401). Then ``tests.chaos.secrets`` reads
everything: the processes' stdout and stderr (Python logging at DEBUG), the Dagster home (run and event
storage, compute logs), the warehouse, the exports, and this process's own output and log records. The
scanner's own tests show it finds a key's run wherever it is written, and only a run of a key.
"""

from __future__ import annotations

import logging
import random
import string
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from resources import redact
from simulator.app import Simulator
from simulator.clock import SimClock
from simulator.freshness import latest_engagement_day
from simulator.serve import serve_in_thread
from simulator.world import World
from tests.chaos.faults import CountedFaults
from tests.chaos.pipeline import ENTERPRISE_GROUPS, Org, Phase, Pipeline, backfill_phases
from tests.chaos.scale import NOW, REALISTIC_FAULTS
from tests.chaos.secrets import RUN, SecretScanner

UNLIMITED = {"console": 1_000_000, "enterprise": 1_000_000}
pytestmark = pytest.mark.chaos


def _unknown_key(seed: int, prefix: str = "sk-ant-admin01-") -> str:
    """A well-formed key that no organization of the simulator has."""
    rng = random.Random(seed)
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(93)) + "AA"


def test_no_key_or_run_of_one_is_left_anywhere(tmp_path, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    faults = CountedFaults(REALISTIC_FAULTS, seed=3, retry_after_seconds=1, timeout_seconds=2)
    sim = Simulator(World.build("small", 7, UNLIMITED), clock=SimClock(NOW), faults=faults)
    console, enterprise = (sim.world.by_slug(s) for s in ("acme-console", "acme-enterprise"))
    unknown = _unknown_key(1, prefix="sk-ant-api01-")
    end = NOW.date()
    engagement_end = latest_engagement_day(NOW, sim.engagement_lag_days) + timedelta(days=1)
    client = {"timeout_seconds": 1.0, "backoff_seconds": 0.0}
    with serve_in_thread(sim) as running:
        good = Pipeline(
            tmp_path,
            name="good",
            base_url=running.base_url,
            orgs=[
                Org(console.slug, "console", "SCAN_CONSOLE_KEY"),
                Org(enterprise.slug, "enterprise", "SCAN_ENTERPRISE_KEY", analytics_beta=True),
            ],
            keys={"SCAN_CONSOLE_KEY": console.api_key, "SCAN_ENTERPRISE_KEY": enterprise.api_key},
            phases=backfill_phases(end - timedelta(days=1), end, engagement_end),
            client=client,
        )
        faults.active = True
        backfill = good.attempt(faults)
        assert backfill.succeeded, backfill.describe()
        wrong = Pipeline(
            tmp_path,
            name="wrong-keys",
            base_url=running.base_url,
            orgs=[
                Org(console.slug, "console", "SCAN_ANALYTICS_KEY_AS_ADMIN"),
                Org(enterprise.slug, "enterprise", "SCAN_UNKNOWN_KEY"),
            ],
            keys={"SCAN_ANALYTICS_KEY_AS_ADMIN": enterprise.api_key, "SCAN_UNKNOWN_KEY": unknown},
            phases=[
                Phase("console", ("console",), end - timedelta(days=1), end),
                Phase("enterprise", ENTERPRISE_GROUPS, end - timedelta(days=1), engagement_end),
            ],
            client=client,
        )
        faults.active = False
        refused = wrong.attempt(faults)
    assert refused.returncode == 1 and not any(p["success"] for p in refused.phases), refused.describe()
    errors = (tmp_path / "logs" / "wrong-keys-attempt-1.err").read_text()
    # the two refusals happened, and the errors name the variables (never the keys)
    assert "401" in errors and "SCAN_UNKNOWN_KEY" in errors
    assert "403" in errors and "SCAN_ANALYTICS_KEY_AS_ADMIN" in errors
    assert sum(faults.injected.values()) >= 5, faults.injected

    scanner = SecretScanner(
        {
            "the Console key": console.api_key,
            "the Enterprise key": enterprise.api_key,
            "the unknown key": unknown,
        },
        markers=["acme-console", "acme-enterprise"],
    )
    report = scanner.scan_paths([tmp_path])
    out, err = capfd.readouterr()
    scanner.scan_text("this process's stdout and stderr", out + err, report)
    scanner.scan_text(
        "this process's log records",
        "\n".join(f"{r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records),
        report,
    )
    assert report.clean, "\n".join(str(f) for f in report.findings)
    holding = {s for sources in report.markers.values() for s in sources}
    for place in (
        tmp_path / "logs",
        tmp_path / "dagster_home" / "history",  # run and event storage
        tmp_path / "dagster_home" / "storage",  # compute logs
        tmp_path / "data" / "warehouse.duckdb",
        tmp_path / "data" / "exports",
    ):
        assert any(s.startswith(str(place)) for s in holding), f"the scan read nothing of {place}"


# -- the scanner ----------------------------------------------------------------------------------------

KEY = (
    "sk-ant-admin01-"
    + "N1LSGl5z0ESTdiAU4lA09Lr9usfVgvb3AatA5a0x5D2B0NvKG4kqHtxM7R1I9Yixi8tWHfGETy6Z1iE3-xObqKcAA"
)
PREFIX = len("sk-ant-admin01-")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param(f"header {KEY} trailer", (0, len(KEY)), id="the whole key"),
        pytest.param(f"x-api-key={KEY[40:52]};", (40, 52), id="a run in the middle"),
        pytest.param(f"...{KEY[-RUN:]}", (len(KEY) - RUN, len(KEY)), id="the last run"),
        pytest.param(
            f"'{KEY[PREFIX - RUN + 1 : PREFIX + 1]}'",
            (PREFIX - RUN + 1, PREFIX + 1),
            id="prefix and one character",
        ),
        pytest.param(f"{KEY[20:60]}", (20, 60), id="a longer run, reported whole"),
        pytest.param(f"a{KEY[10:22]}b{KEY[70:82]}c", (10, 82), id="two runs, one finding"),
    ],
)
def test_a_run_of_a_key_is_found(text, found):
    report = SecretScanner({"the key": KEY}).scan_text("a log", text)
    assert [(f.source, f.key, f.start, f.end) for f in report.findings] == [("a log", "the key", *found)]
    assert KEY not in str(report.findings[0])  # a finding names the characters, never the key


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"Set it to an Admin API key ({KEY[:PREFIX]}...)", id="the public prefix"),
        pytest.param(KEY[PREFIX - RUN : PREFIX], id="the prefix's last 12 characters"),
        pytest.param(KEY[30 : 30 + RUN - 1], id="11 characters"),
        pytest.param(f"{KEY[30:41]}-{KEY[41:52]}", id="a run broken in two"),
        pytest.param(f"sk-ant-…{KEY[-4:]}", id="the masked key"),
        pytest.param(_unknown_key(2), id="another key"),
    ],
)
def test_what_is_not_a_run_of_the_key_is_not_found(text):
    assert SecretScanner({"the key": KEY}).scan_text("a log", text).clean


def test_a_step_that_logs_a_run_of_a_key_fails_the_scan(tmp_path, monkeypatch):
    """A test-only asset writes 12 characters of a key into the Dagster run log: the scan of the Dagster
    home finds them in the event storage; the same asset logging 11 characters leaves it clean."""
    # the scanner is under test, not the masking: keys other tests of this process registered for
    # masking (resources.redact) must not hide the leak this test plants
    monkeypatch.setattr(redact, "_runs", set())

    def run(home: Path, text: str) -> None:
        @dg.asset(name="leaky")
        def leaky(context):
            context.log.info(f"the server said: {text}")

        home.mkdir()
        with dg.DagsterInstance.local_temp(str(home)) as instance:
            assert dg.materialize([leaky], instance=instance).success

    scanner = SecretScanner({"the key": KEY}, markers=["the server said"])
    run(tmp_path / "leak", KEY[33 : 33 + RUN])
    run(tmp_path / "no-leak", KEY[33 : 33 + RUN - 1])
    leak = scanner.scan_paths([tmp_path / "leak"])
    assert any(
        f.source.endswith(".db (rows)") and (f.start, f.end) == (33, 33 + RUN) for f in leak.findings
    ), leak.findings
    no_leak = scanner.scan_paths([tmp_path / "no-leak"])
    assert no_leak.clean and any(s.endswith(".db (rows)") for s in no_leak.markers["the server said"])


def test_the_scan_reads_duckdb_and_parquet_rows_as_well_as_their_bytes(tmp_path):
    """DuckDB and Parquet compress strings on disk, so a run of a key may not be in the file's bytes: the
    scan reads their rows too."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(
            "CREATE TABLE raw.t AS SELECT 'request ' || i || ' ' || ? AS note FROM range(20000) r(i)",
            [KEY[50 : 50 + RUN]],
        )
        con.execute("CHECKPOINT")
        con.execute(f"COPY raw.t TO '{tmp_path / 'export.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
    report = SecretScanner({"the key": KEY}).scan_paths([tmp_path])
    assert {f.source for f in report.findings} >= {f"{path} (rows)", f"{tmp_path / 'export.parquet'} (rows)"}

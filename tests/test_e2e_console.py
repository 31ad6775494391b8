"""End to end: the Console raw assets, materialized with Dagster from the simulator over loopback HTTP
into a temporary DuckDB, compared with the simulator's ground truth."""

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from dagster._serdes import serialize_value

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from claude_assets.ingest.console.tables import (
    CLAUDE_CODE_MODELS,
    CLAUDE_CODE_USAGE,
    CONSOLE_COST,
    CONSOLE_USAGE,
)
from claude_assets.warehouse.writes import INGEST_LOG
from resources.apis import ConsoleAdminApi
from simulator.faults import FaultPlan
from simulator.serve import Running, serve_in_thread
from simulator.truth import truth
from tests.conftest import make_sim

ORGS = ("acme-console", "globex-console")
TABLES = (CONSOLE_USAGE, CONSOLE_COST, CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS)
KEYS = [t.asset_key for t in TABLES]
START, END = date(2026, 11, 5), date(2026, 11, 15)  # ten days, a weekend included; the clock is 2026-11-22
ROOT = Path(__file__).resolve().parent.parent


def key_env(slug: str) -> str:
    return f"E2E_{slug.upper().replace('-', '_')}_KEY"


def config_for(base_url: str, history_start: date = date(2025, 8, 1)) -> ProjectConfig:
    return ProjectConfig(
        organizations=tuple(
            OrgConfig(
                slug=s,
                kind="console",
                key_env=key_env(s),
                base_url=base_url,
                rate_limit_per_minute=100_000,
                history_start=history_start,
            )
            for s in ORGS
        )
    )


def materialize(
    base_url: str,
    warehouse: Path,
    start: date,
    end: date,
    *,
    resources: dict | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """One run over the range ``start|acme-console ... end-1|globex-console`` (every day x both orgs)."""
    defs = build_definitions(config_for(base_url), str(warehouse))
    last = end - timedelta(days=1)
    return dg.materialize(
        list(defs.assets),
        selection=KEYS,
        resources={**defs.resources, **(resources or {})},
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": f"{start}|{ORGS[0]}",
            "dagster/asset_partition_range_end": f"{last}|{ORGS[-1]}",
        },
        raise_on_error=False,
    )


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table's full sorted contents, minus what differs from one fetch to the next."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in (*TABLES, INGEST_LOG):
            drop = "fetched_at, run_id" if table is INGEST_LOG else "fetched_at"
            out[table.qualified] = con.execute(
                f"SELECT * EXCLUDE ({drop}) FROM {table.qualified} ORDER BY ALL"
            ).fetchall()
    return out


def checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], bool]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()
    }


@pytest.fixture(scope="module")
def sim():
    return make_sim()


@pytest.fixture(scope="module")
def keys(sim) -> Iterator[dict[str, str]]:
    """The simulated keys, in the environment only (the configuration names the variables)."""
    values = {s: sim.world.by_slug(s).api_key for s in ORGS}
    with pytest.MonkeyPatch.context() as mp:
        for slug, value in values.items():
            mp.setenv(key_env(slug), value)
        yield values


@pytest.fixture(scope="module")
def server(sim, keys) -> Iterator[Running]:
    with serve_in_thread(sim) as running:
        yield running


@pytest.fixture(scope="module")
def baseline(server: Running, tmp_path_factory) -> tuple[dg.ExecuteInProcessResult, Path, dict]:
    warehouse = tmp_path_factory.mktemp("baseline") / "warehouse.duckdb"
    result = materialize(server.base_url, warehouse, START, END)
    assert result.success
    return result, warehouse, snapshot(warehouse)


def test_single_run_range_covers_both_orgs_and_every_day(baseline):
    result, warehouse, _ = baseline
    # the four window checks and the provisional-days check, per table
    assert all(checks(result).values()) and len(checks(result)) == 5 * len(TABLES)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in TABLES:
            per_org = dict(
                con.execute(
                    f"SELECT org_id, count(DISTINCT usage_date) FROM {table.qualified} GROUP BY ALL"
                ).fetchall()
            )
            assert set(per_org) == set(ORGS), table.qualified
            assert min(per_org.values()) >= 7, table.qualified  # weekends may be quiet for Claude Code
        logged = con.execute(
            "SELECT table_name, org_id, count(*), min(usage_date), max(usage_date), "
            "count(DISTINCT run_id) FROM raw.ingest_log GROUP BY ALL"
        ).fetchall()
        assert sorted((t, o) for t, o, *_ in logged) == sorted((t.qualified, o) for t in TABLES for o in ORGS)
        assert {tuple(r[2:]) for r in logged} == {((END - START).days, START, END - timedelta(days=1), 1)}
        assert {r[0] for r in con.execute("SELECT DISTINCT run_id FROM raw.ingest_log").fetchall()} == {
            result.run_id
        }
        # the UI metadata agrees with the table: row counts and exact money totals
        for ev in result.get_asset_materialization_events():
            table = next(t for t in TABLES if t.asset_key == ev.asset_key)
            meta = ev.event_specific_data.materialization.metadata
            assert (
                meta["dagster/row_count"].value
                == con.execute(f"SELECT count(*) FROM {table.qualified}").fetchone()[0]
            )
            for col in table.money:
                total = con.execute(f"SELECT sum({col}) FROM {table.qualified}").fetchone()[0]
                assert Decimal(meta[f"run_total_{col}_exact"].value) == total


def test_rerunning_the_range_leaves_identical_tables(baseline, server):
    _, warehouse, before = baseline
    again = materialize(server.base_url, warehouse, START, END)
    assert again.success and all(checks(again).values())
    assert snapshot(warehouse) == before


def test_faults_give_the_same_tables(baseline, keys, tmp_path):
    """429 / 500 / 529 / timeouts / truncated bodies: retried until the tables equal the clean run's."""
    # with seed 2689 the first ten requests draw every kind of fault (429, timeout, 529, 500, garbage):
    # each is injected whatever the order of the requests, then the rates apply as usual
    faulty = make_sim(
        faults=FaultPlan.parse(
            "429=0.05,500=0.03,529=0.02,timeout=0.01,garbage=0.01", seed=2689, timeout_seconds=2
        )
    )
    warehouse = tmp_path / "warehouse.duckdb"
    with serve_in_thread(faulty) as running:
        result = materialize(
            running.base_url,
            warehouse,
            START,
            END,
            resources={"console_api": ConsoleAdminApi(timeout_seconds=1, backoff_seconds=0)},
        )
    assert result.success and all(checks(result).values())
    retries = {
        ev.step_key: ev.event_specific_data.materialization.metadata["run_retries"].value
        for ev in result.get_asset_materialization_events()
    }
    assert sum(retries.values()) >= 5, retries
    assert snapshot(warehouse) == baseline[2]


def test_cost_and_usage_equal_the_ground_truth_to_the_last_digit(baseline, sim):
    _, warehouse, _ = baseline
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for org in ORGS:
            cost = truth(sim, org, "console_cost", START, END)
            by_day = dict(
                con.execute(
                    "SELECT usage_date, sum(amount_usd) FROM raw.console_cost WHERE org_id = ? GROUP BY ALL",
                    [org],
                ).fetchall()
            )
            assert {d.isoformat(): v for d, v in by_day.items()} == {
                d: Decimal(v["amount_usd"]) for d, v in cost["days"].items() if Decimal(v["amount_usd"])
            }
            total = con.execute(
                "SELECT sum(amount_usd) FROM raw.console_cost WHERE org_id = ?", [org]
            ).fetchone()[0]
            assert isinstance(total, Decimal) and total == Decimal(cost["total_usd"]) and total > 0
            # per model, as well: the description parsing keeps every line
            for d, v in cost["days"].items():
                by_model = dict(
                    con.execute(
                        "SELECT coalesce(model, 'None'), sum(amount_usd) FROM raw.console_cost "
                        "WHERE org_id = ? AND usage_date = ? GROUP BY ALL",
                        [org, d],
                    ).fetchall()
                )
                assert by_model == {m: Decimal(a) for m, a in v["by_model"].items()}, (org, d)

            usage = truth(sim, org, "console_usage", START, END)
            tokens = con.execute(
                """
                SELECT usage_date, sum(uncached_input_tokens), sum(cache_creation_5m_input_tokens),
                       sum(cache_creation_1h_input_tokens), sum(cache_read_input_tokens), sum(output_tokens),
                       sum(web_search_requests)
                FROM raw.console_usage WHERE org_id = ? GROUP BY ALL""",
                [org],
            ).fetchall()
            assert {d.isoformat(): list(rest) for d, *rest in tokens} == {
                d: list(v["totals"].values()) for d, v in usage["days"].items() if v["records"]
            }

            code = truth(sim, org, "claude_code", START, END)
            cc = dict(
                con.execute(
                    "SELECT usage_date, sum(estimated_cost_usd) FROM raw.claude_code_model_usage "
                    "WHERE org_id = ? GROUP BY ALL",
                    [org],
                ).fetchall()
            )
            assert {d.isoformat(): v for d, v in cc.items()} == {
                d: Decimal(v["estimated_cost_usd"]) for d, v in code["days"].items() if v["rows"]
            }
            sessions = dict(
                con.execute(
                    "SELECT usage_date, sum(num_sessions) FROM raw.claude_code_usage "
                    "WHERE org_id = ? GROUP BY ALL",
                    [org],
                ).fetchall()
            )
            assert {d.isoformat(): v for d, v in sessions.items()} == {
                d: v["sessions"] for d, v in code["days"].items() if v["rows"]
            }


def test_a_window_without_data_fails_the_not_empty_check(server, tmp_path):
    """Before the organizations existed (created 2025-09-01) the API answers with nothing: the run
    writes the empty days (logged, so days_complete passes) and ``not_empty`` fails for every table."""
    warehouse = tmp_path / "warehouse.duckdb"
    result = materialize(server.base_url, warehouse, date(2025, 8, 1), date(2025, 8, 11))
    assert result.success  # not_empty is not blocking: it reports, it does not stop the run
    outcome = checks(result)
    for table in TABLES:
        name = table.asset_key.to_user_string()
        assert outcome[(name, "not_empty")] is False, name
        assert (
            outcome[(name, "days_complete")] and outcome[(name, "grain_unique")] and outcome[(name, "schema")]
        )
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert {e.severity for e in failed} == {dg.AssetCheckSeverity.ERROR}
    assert all(sorted(e.metadata["empty_orgs"].value) == list(ORGS) for e in failed)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*), sum(row_count) FROM raw.ingest_log").fetchone() == (
            10 * 2 * 4,
            0,
        )


def test_no_key_reaches_logs_or_the_event_store(server, sim, keys, tmp_path, capfd, caplog, monkeypatch):
    """Run the pipeline (once cleanly, once with a rejected key) and look for every key everywhere."""
    caplog.set_level(logging.DEBUG)
    secrets = [o.api_key for o in sim.world.organizations]
    wrong = "sk-ant-admin01-" + "Zq8" * 30 + "-wrongAA"  # a well-formed key the simulator does not know
    secrets.append(wrong)
    instance = dg.DagsterInstance.ephemeral()
    good = materialize(
        server.base_url, tmp_path / "a.duckdb", START, START + timedelta(days=2), instance=instance
    )
    assert good.success
    monkeypatch.setenv(key_env(ORGS[0]), wrong)
    bad = materialize(
        server.base_url, tmp_path / "b.duckdb", START, START + timedelta(days=1), instance=instance
    )
    assert not bad.success
    failure = next(e for e in bad.all_events if e.is_step_failure)
    assert key_env(ORGS[0]) in str(failure.event_specific_data.error)  # the error names the variable

    haystacks = {
        "stdout+stderr": "".join(capfd.readouterr()),
        "caplog": caplog.text
        + "\n".join(f"{r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records),
    }
    for run_id in (good.run_id, bad.run_id):
        entries = instance.all_logs(run_id)
        assert len(entries) > 20
        haystacks[f"event log {run_id}"] = "\n".join(serialize_value(e) for e in entries)
        haystacks[f"run {run_id}"] = serialize_value(instance.get_run_by_id(run_id))
    for name in ("a.duckdb", "b.duckdb"):
        if (tmp_path / name).exists():
            with duckdb.connect(str(tmp_path / name), read_only=True) as con:
                haystacks[name] = json.dumps(
                    [
                        con.execute(f"SELECT * FROM {t}").fetchall()
                        for (t,) in con.execute(
                            "SELECT schema_name || '.' || table_name FROM duckdb_tables()"
                        ).fetchall()
                    ],
                    default=str,
                )
    assert "raw/console_cost" in haystacks[f"event log {good.run_id}"]  # the scan reads real content
    for secret in secrets:
        for fragment in (secret, secret[14:-8]):  # the whole key, and its body without prefix and tail
            for name, text in haystacks.items():
                assert fragment not in text, f"a key appears in {name}"


def test_cli_materialize_a_partition_range(server, keys, tmp_path):
    """DESIGN §4: ``dagster asset materialize ... --partition-range 'START|ORG...END|ORG'`` from a shell."""
    config = tmp_path / "claude-assets.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "organizations": [
                    {
                        "slug": s,
                        "kind": "console",
                        "key_env": key_env(s),
                        "base_url": server.base_url,
                        "rate_limit_per_minute": 100_000,
                        "history_start": "2026-01-01",
                    }
                    for s in ORGS
                ]
            }
        )
    )
    warehouse, home = tmp_path / "warehouse.duckdb", tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "CLAUDE_ASSETS_CONFIG": str(config),
        "CLAUDE_ASSETS_WAREHOUSE": str(warehouse),
        "DAGSTER_HOME": str(home),
        **{key_env(s): v for s, v in keys.items()},
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            "claude_assets.definitions",
            "--select",
            "raw/console_cost",
            "--partition-range",
            "2026-11-01|acme-console...2026-11-03|acme-console",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT org_id, count(DISTINCT usage_date), count(*) FROM raw.console_cost GROUP BY ALL"
        ).fetchall()
    assert len(rows) == 1 and rows[0][:2] == ("acme-console", 3) and rows[0][2] > 0
    for value in keys.values():
        assert value not in proc.stdout + proc.stderr

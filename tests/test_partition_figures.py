"""What the UI shows of one partition of a single-run backfill is that partition's own figures.

One run materializes four days x two Console organizations from the simulator (Dagster copies a run's
metadata onto every partition it materializes); the materialization the instance stored for ONE partition is
read back and compared with what the warehouse holds for that day and organization, computed here by SQL.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from checks import window as window_checks
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from claude_assets.ingest.console.tables import CONSOLE_COST, CONSOLE_USAGE
from claude_assets.warehouse import figures
from claude_assets.warehouse.writes import INGEST_LOG
from simulator.serve import Running, serve_in_thread
from tests.conftest import make_sim

ORGS = ("acme-console", "globex-console")
TABLES = (CONSOLE_USAGE, CONSOLE_COST)
START, END = date(2026, 11, 9), date(2026, 11, 13)  # four days; the simulator's clock is 2026-11-22
DAY, ORG = date(2026, 11, 11), "globex-console"  # the partition read back: neither the run's first nor last
PARTITION = f"{DAY}|{ORG}"


def _key_env(slug: str) -> str:
    return f"FIGURES_{slug.upper().replace('-', '_')}_KEY"


def _materialize(
    base_url: str, warehouse: Path, instance: dg.DagsterInstance, start: date, end: date
) -> dg.ExecuteInProcessResult:
    """One run over ``start|acme-console ... end-1|globex-console``: every day of the range x both orgs."""
    config = ProjectConfig(
        organizations=tuple(
            OrgConfig(
                slug=s,
                kind="console",
                key_env=_key_env(s),
                base_url=base_url,
                rate_limit_per_minute=100_000,
                history_start=date(2025, 8, 1),
            )
            for s in ORGS
        )
    )
    defs = build_definitions(config, str(warehouse))
    return dg.materialize(
        list(defs.assets),
        selection=[t.asset_key for t in TABLES],
        resources=defs.resources,
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": f"{start}|{ORGS[0]}",
            "dagster/asset_partition_range_end": f"{end - timedelta(days=1)}|{ORGS[-1]}",
        },
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    sim = make_sim()
    with pytest.MonkeyPatch.context() as mp:
        for slug in ORGS:
            mp.setenv(_key_env(slug), sim.world.by_slug(slug).api_key)
        with serve_in_thread(sim) as running:
            yield running


@pytest.fixture(scope="module")
def backfilled(server, tmp_path_factory) -> tuple[dg.DagsterInstance, Path]:
    instance = dg.DagsterInstance.ephemeral()
    warehouse = tmp_path_factory.mktemp("figures") / "warehouse.duckdb"
    assert _materialize(server.base_url, warehouse, instance, START, END).success
    return instance, warehouse


def _stored(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None = None) -> dict:
    """The metadata of the materialization the instance holds (for ``partition``, or the latest of all)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None), limit=1
    ).records
    assert records, (key, partition)
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _to_the_cent(value: Decimal) -> str:
    return f"USD {value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def test_a_partition_of_a_single_run_backfill_shows_its_own_rows_and_dollars(backfilled):
    instance, warehouse = backfilled
    meta = _stored(instance, CONSOLE_COST.asset_key, PARTITION)
    [(rows, usd)] = _query(
        warehouse,
        "SELECT count(*), sum(amount_usd) FROM raw.console_cost WHERE org_id = ? AND usage_date = ?",
        [ORG, DAY],
    )
    [(run_rows, run_usd)] = _query(warehouse, "SELECT count(*), sum(amount_usd) FROM raw.console_cost")
    assert 0 < rows < run_rows and usd < run_usd  # the day is a part of the run, not all of it

    assert meta["dagster/partition_row_count"] == rows
    assert Decimal(meta["total_amount_usd_exact"]) == usd  # exact, to the last digit
    assert meta["total_amount_usd"] == _to_the_cent(usd)  # for people: "USD 1,234.57"
    assert meta["total_amount_usd_float"] == float(usd)  # a number, so the UI plots it over partitions
    # the whole run's figures are there too, and named as the run's
    assert meta["run_rows_written"] == run_rows
    assert Decimal(meta["run_total_amount_usd_exact"]) == run_usd
    assert meta["run_total_amount_usd"] == _to_the_cent(run_usd)
    assert meta["run_requests"] > 0 and meta["run_retries"] >= 0


def test_token_totals_and_the_top_models_are_the_partitions(backfilled):
    instance, warehouse = backfilled
    usage = _stored(instance, CONSOLE_USAGE.asset_key, PARTITION)
    [(rows, output_tokens)] = _query(
        warehouse,
        "SELECT count(*), sum(output_tokens) FROM raw.console_usage WHERE org_id = ? AND usage_date = ?",
        [ORG, DAY],
    )
    assert usage["dagster/partition_row_count"] == rows
    assert usage["total_output_tokens"] == output_tokens
    [(run_output_tokens,)] = _query(warehouse, "SELECT sum(output_tokens) FROM raw.console_usage")
    assert usage["run_total_output_tokens"] == run_output_tokens > output_tokens

    cost = _stored(instance, CONSOLE_COST.asset_key, PARTITION)
    by_model = _query(
        warehouse,
        "SELECT model, sum(amount_usd) AS usd FROM raw.console_cost WHERE org_id = ? AND usage_date = ? "
        "GROUP BY model ORDER BY usd DESC, model NULLS LAST LIMIT 5",
        [ORG, DAY],
    )
    shown = [line for line in cost["top_models"].splitlines() if line.startswith("| ")][1:]
    assert shown == [f"| {model or '(none)'} | {_to_the_cent(usd)} |" for model, usd in by_model]
    assert "| workspace_id |" in cost["top_workspaces"]


def test_no_figure_of_the_run_reads_as_the_partitions(backfilled):
    instance, _ = backfilled
    for table in TABLES:
        meta = _stored(instance, table.asset_key, PARTITION)
        unlabelled = {
            "rows_written",
            "requests",
            "retries",
            "window",
            "preview",
            "api_requests",
            "api_retries",
        }
        assert not unlabelled & set(meta), table.qualified
        assert {"run_rows_written", "run_requests", "run_retries", "run_window"} <= set(meta), table.qualified


def test_the_assets_row_count_is_the_tables_after_a_refresh_of_fewer_days(backfilled, server):
    """The UI shows the latest materialization's ``dagster/row_count`` as the asset's row count: after a
    one-day refresh it is still the whole table's, and each refreshed partition shows its own rows."""
    instance, warehouse = backfilled
    last = END - timedelta(days=1)
    assert _materialize(server.base_url, warehouse, instance, last, END).success
    meta = _stored(instance, CONSOLE_COST.asset_key)  # the latest materialization, whichever partition
    [(table_rows,)] = _query(warehouse, "SELECT count(*) FROM raw.console_cost")
    [(refreshed,)] = _query(warehouse, "SELECT count(*) FROM raw.console_cost WHERE usage_date = ?", [last])
    assert meta["dagster/row_count"] == table_rows
    assert meta["run_rows_written"] == refreshed < table_rows
    [(own,)] = _query(
        warehouse,
        "SELECT count(*) FROM raw.console_cost WHERE usage_date = ? AND org_id = ?",
        [last, ORGS[-1]],
    )
    assert (
        _stored(instance, CONSOLE_COST.asset_key, f"{last}|{ORGS[-1]}")["dagster/partition_row_count"] == own
    )


def test_a_failed_grain_check_shows_the_failing_rows(backfilled, tmp_path):
    _, warehouse = backfilled
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(copy)) as con:
        one_row = "SELECT * FROM raw.console_cost WHERE org_id = ? AND usage_date = ? ORDER BY ALL LIMIT 1"
        description = con.execute(one_row, [ORG, DAY]).fetchone()[
            CONSOLE_COST.column_names.index("description")
        ]
        con.execute(f"INSERT INTO raw.console_cost {one_row}", [ORG, DAY])  # the same grain, twice
        con.execute(
            f"DELETE FROM {INGEST_LOG.qualified} WHERE table_name = ? AND org_id = ? AND usage_date = ?",
            [CONSOLE_COST.qualified, ORG, START],
        )
        results = {
            r.check_name: r for r in window_checks.results(con, CONSOLE_COST, {ORG: [(START, END)]}, 0)
        }
    grain = results[window_checks.GRAIN]
    assert not grain.passed
    failing = grain.metadata["failing_rows"].value
    [row] = [line for line in failing.splitlines() if description in line]
    assert row.startswith(f"| {ORG} | {DAY} |") and row.endswith("| 2 |")  # the grain, held by two rows
    assert f"| {ORG} | {START} |" in failing  # and the day no logged request answered for
    days = results[window_checks.DAYS]
    assert not days.passed and f"| {ORG} | {START} |" in days.metadata["failing_rows"].value


@pytest.mark.parametrize(
    ("exact", "shown"),
    [
        ("34601.184999999999", "USD 34,601.18"),
        ("668.375000000000", "USD 668.38"),  # half a cent rounds up
        ("0.004999999999", "USD 0.00"),
        ("-12.3", "USD -12.30"),
        ("0E-12", "USD 0.00"),
    ],
)
def test_money_is_shown_to_the_cent_with_its_exact_value_beside(exact, shown):
    meta = figures.money("total_amount_usd", Decimal(exact))
    assert meta["total_amount_usd"].value == shown
    assert Decimal(meta["total_amount_usd_exact"].value) == Decimal(exact)
    assert meta["total_amount_usd_float"].value == float(Decimal(exact))


def test_a_runs_metadata_is_renamed_as_the_runs_and_its_money_shown_to_the_cent():
    meta = figures.as_run(
        {
            "dagster/row_count": 57,
            "window": "- 2026-11-29 → 2026-12-01",
            "team spend_to_date_usd": dg.MetadataValue.float(1240.0),
            "team spend_to_date_usd_exact": "1240.000000000000",
        }
    )
    assert meta == {
        "run_rows_written": 57,
        "run_window": "- 2026-11-29 → 2026-12-01",
        **figures.money("run_team spend_to_date_usd", Decimal("1240.000000000000")),
    }

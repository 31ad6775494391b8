"""Settlement and restatements: a day pulled again whose figures moved is recorded, with old and new totals.

The Enterprise cost report revises a complete day for 30 days (reference B0; the simulator moves recent
days at each 4-hourly export). A day pulled at one clock and again at a later one is compared with the
simulator's ground truth at each of those clocks, never with the code's own output. A re-pull that gets the
same figures records nothing. Whether a logged day is provisional, revisable or settled follows the API's
clock (and ``data_refreshed_at``), from the documented revision windows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.definitions import build_definitions
from claude_assets.ingest.completeness import CompleteAfter, judge
from claude_assets.warehouse.writes import ensure_ingest_log
from simulator.serve import Running, serve_in_thread
from simulator.truth import truth
from tests.conftest import make_sim

CONSOLE, ENTERPRISE = "acme-console", "acme-enterprise"
DAY = date(2026, 11, 18)
FIRST = datetime(2026, 11, 22, 0, 20, tzinfo=UTC)
AGAIN_SAME = datetime(2026, 11, 23, 0, 20, tzinfo=UTC)  # a new export, no late record for DAY in it
LATER = datetime(2026, 11, 25, 0, 20, tzinfo=UTC)  # late records of DAY have arrived since FIRST
D = Decimal
#: what each organization's runs select
ASSETS = {
    ENTERPRISE: ("enterprise_cost",),
    CONSOLE: ("console_cost",),
    "engagement": ("enterprise_user_activity",),
}


def key_env(slug: str) -> str:
    return f"RESTATEMENT_{slug.upper().replace('-', '_')}_KEY"


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    sim = make_sim(now=FIRST)
    for slug in (CONSOLE, ENTERPRISE):
        os.environ[key_env(slug)] = sim.world.by_slug(slug).api_key
    with serve_in_thread(sim) as running:
        yield running


@pytest.fixture
def at(server: Running):
    """Set the simulator's clock (the API's Date header follows it); restored afterwards."""
    yield lambda now: server.sim.clock.set(now=now)
    server.sim.clock.set(now=FIRST)


def config(server: Running, **more) -> ProjectConfig:
    return ProjectConfig(
        **more,
        organizations=tuple(
            OrgConfig(
                slug=slug,
                kind=kind,
                key_env=key_env(slug),
                base_url=server.base_url,
                rate_limit_per_minute=100_000,
            )
            for slug, kind in ((CONSOLE, "console"), (ENTERPRISE, "enterprise"))
        ),
    )


def pull(server: Running, warehouse: Path, what: str, day: date = DAY, **more) -> dg.ExecuteInProcessResult:
    """One run of ``what``'s tables for one day, at the simulator's clock (``more``: configuration)."""
    org = CONSOLE if what == CONSOLE else ENTERPRISE
    defs = build_definitions(config(server, **more), str(warehouse))
    result = dg.materialize(
        list(defs.assets),
        selection=[dg.AssetKey(["raw", t]) for t in ASSETS[what]],
        resources=defs.resources,
        partition_key=f"{day}|{org}",
        raise_on_error=False,
    )
    assert result.success, [str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure]
    return result


def cost_truth(server: Running, day: date = DAY) -> tuple[Decimal, Decimal]:
    """The day's amount and list amount as the API shows them at the simulator's clock."""
    t = truth(server.sim, ENTERPRISE, "enterprise_cost", day, day + timedelta(days=1))["days"][0]
    return D(t["amount_usd"]), D(t["list_amount_usd"])


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def restatements(warehouse: Path) -> dict[str, tuple]:
    """measure -> (old, new, old/new data_refreshed_at, old/new run) of every restatement row."""
    found = rows(
        warehouse,
        "SELECT measure, coalesce(old_usd, old_count), coalesce(new_usd, new_count), old_data_refreshed_at, "
        "new_data_refreshed_at, old_run_id, new_run_id, table_name, org_id, usage_date "
        "FROM raw.restatements ORDER BY measure",
    )
    return {r[0]: r[1:] for r in found}


def day_log(warehouse: Path, table: str, day: date = DAY) -> tuple:
    """(status, settles_after, data_refreshed_at, api_time, run_id) of the day in raw.ingest_log."""
    (found,) = rows(
        warehouse,
        "SELECT status, settles_after, data_refreshed_at, api_time, run_id FROM raw.ingest_log "
        "WHERE table_name = ? AND usage_date = ?",
        [f"raw.{table}", day],
    )
    return tuple(v.astimezone(UTC) if isinstance(v, datetime) else v for v in found)


def materialization(result: dg.ExecuteInProcessResult, table: str) -> dict:
    (event,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["raw", table])
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


# -- a revised day is recorded with its old and new totals ----------------------------------------------------
def test_a_day_the_api_revised_between_two_pulls_is_recorded_with_the_truth_at_each_clock(
    server, at, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    first_truth = cost_truth(server)
    first = pull(server, warehouse, ENTERPRISE)
    first_log = day_log(warehouse, "enterprise_cost")
    at(LATER)
    later_truth = cost_truth(server)
    assert later_truth != first_truth, "precondition: the simulator revises the day between the two clocks"
    (old_rows,) = rows(warehouse, "SELECT count(*) FROM raw.enterprise_cost")
    again = pull(server, warehouse, ENTERPRISE)
    (new_rows,) = rows(warehouse, "SELECT count(*) FROM raw.enterprise_cost")
    later_log = day_log(warehouse, "enterprise_cost")

    found = restatements(warehouse)
    assert set(found) == {"row_count", "amount_usd", "list_amount_usd"}
    assert (found["amount_usd"][0], found["list_amount_usd"][0]) == first_truth
    assert (found["amount_usd"][1], found["list_amount_usd"][1]) == later_truth
    assert found["row_count"][:2] == (old_rows[0], new_rows[0])
    for measure in found.values():
        # both pulls' export watermarks and runs, as each was logged
        assert measure[2].astimezone(UTC) == first_log[2] == datetime(2026, 11, 22, tzinfo=UTC)
        assert measure[3].astimezone(UTC) == later_log[2] == datetime(2026, 11, 25, tzinfo=UTC)
        assert (measure[4], measure[5]) == (first.run_id, again.run_id)
        assert measure[6:] == ("raw.enterprise_cost", ENTERPRISE, DAY)

    # visible on the partition's materialization and the run's
    meta = materialization(again, "enterprise_cost")
    assert meta["restated"] is True
    change = later_truth[0] - first_truth[0]
    assert (
        f"amount_usd {first_truth[0].normalize():,f} -> {later_truth[0].normalize():,f} USD"
        in (meta["restated_changes"])
    )
    assert meta["run_restated_days"] == 1
    assert (
        f"amount_usd {'+' if change >= 0 else '-'}{abs(change).normalize():,f} USD"
        in meta["run_restatements"]
    )
    assert materialization(first, "enterprise_cost")["run_restated_days"] == 0


def test_a_re_pull_with_the_same_figures_records_nothing(server, at, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert_same = cost_truth(server)
    pull(server, warehouse, ENTERPRISE)
    pull(server, warehouse, ENTERPRISE)  # same clock: the same answer
    at(AGAIN_SAME)  # a new export (new data_refreshed_at) in which the day did not move
    assert cost_truth(server) == assert_same, "precondition: the day is unchanged at this clock"
    again = pull(server, warehouse, ENTERPRISE)
    pull(server, warehouse, CONSOLE)
    at(LATER)
    pull(server, warehouse, CONSOLE)  # the Console cost report does not revise a complete day
    assert rows(warehouse, "SELECT count(*) FROM raw.restatements") == [(0,)]
    assert day_log(warehouse, "enterprise_cost")[2] == datetime(2026, 11, 23, tzinfo=UTC)
    meta = materialization(again, "enterprise_cost")
    assert meta["run_restated_days"] == 0 and "restated" not in meta and "run_restatements" not in meta


# -- provisional, revisable, settled: by the API's clock ----------------------------------------------------
OLD_DAY = date(2026, 10, 20)  # ends 2026-10-21 00:00; the Enterprise reports settle it 30 days later
SETTLES = datetime(2026, 11, 20, tzinfo=UTC)


def test_an_enterprise_day_is_revisable_until_the_export_watermark_passes_its_revision_window(
    server, at, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    at(SETTLES - timedelta(minutes=40))  # the last export was at 20:00 the day before
    result = pull(server, warehouse, ENTERPRISE, OLD_DAY)
    status, settles_after, refreshed, _, _ = day_log(warehouse, "enterprise_cost", OLD_DAY)
    assert (status, settles_after, refreshed) == ("revisable", SETTLES, SETTLES - timedelta(hours=4))
    assert materialization(result, "enterprise_cost")["status"] == "revisable"
    at(SETTLES + timedelta(minutes=20))  # the 00:00 export is out: the day no longer moves
    result = pull(server, warehouse, ENTERPRISE, OLD_DAY)
    assert day_log(warehouse, "enterprise_cost", OLD_DAY)[:3] == ("settled", SETTLES, SETTLES)
    assert materialization(result, "enterprise_cost")["status"] == "settled"
    # the settled figures are the simulator's final ones
    final = truth(
        server.sim, ENTERPRISE, "enterprise_cost", OLD_DAY, OLD_DAY + timedelta(days=1), as_of="final"
    )
    stored = rows(
        warehouse,
        "SELECT sum(amount_usd), sum(list_amount_usd) FROM raw.enterprise_cost WHERE grouping = 'total'",
    )
    assert stored == [(D(final["days"][0]["amount_usd"]), D(final["days"][0]["list_amount_usd"]))]


def test_a_recent_enterprise_day_is_provisional_then_revisable(server, at, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    day = date(2026, 11, 21)
    pull(server, warehouse, ENTERPRISE, day)  # 00:20 the next day: the export has not finished it
    assert day_log(warehouse, "enterprise_cost", day)[:2] == (
        "provisional",
        datetime(2026, 12, 22, tzinfo=UTC),
    )
    at(datetime(2026, 11, 23, 0, 20, tzinfo=UTC))
    pull(server, warehouse, ENTERPRISE, day)
    assert day_log(warehouse, "enterprise_cost", day)[0] == "revisable"


def test_a_console_cost_day_is_settled_once_complete(server, tmp_path):
    """The reference documents no revision of a complete Console day (A1-A3): settled as soon as complete."""
    warehouse = tmp_path / "w.duckdb"
    pull(server, warehouse, CONSOLE)
    assert day_log(warehouse, "console_cost")[:2] == ("settled", datetime(2026, 11, 19, tzinfo=UTC))


def test_the_revision_windows_are_configurable(server, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    windows = ProjectConfig.model_validate({"day_revisable_for": {"console": "P5D"}}).day_revisable_for
    pull(server, warehouse, CONSOLE, day_revisable_for=windows)
    assert day_log(warehouse, "console_cost")[:2] == ("revisable", datetime(2026, 11, 24, tzinfo=UTC))


def test_an_engagement_day_settles_three_days_after_it_ends_by_the_api_clock(server, at, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    settles = datetime(2026, 11, 22, tzinfo=UTC)  # 2026-11-18 ends on the 19th; + 3 days
    at(settles - timedelta(minutes=1))
    pull(server, warehouse, "engagement")
    status, settles_after, _, api_time, _ = day_log(warehouse, "enterprise_user_activity")
    assert (status, settles_after, api_time) == ("revisable", settles, settles - timedelta(minutes=1))
    at(settles)
    pull(server, warehouse, "engagement")
    assert day_log(warehouse, "enterprise_user_activity")[:2] == ("settled", settles)


def test_a_watermarked_day_is_revisable_while_its_export_is_older_than_the_window_even_if_the_clock_is_past():
    """The Enterprise reports revise a day until an export made 30 days after it ended: the API's clock alone
    (an export that is late) does not settle it."""
    rule = CompleteAfter("Enterprise reports", timedelta(hours=24), timedelta(hours=4))
    window = timedelta(days=30)
    late_export = judge(rule, OLD_DAY, SETTLES + timedelta(hours=6), SETTLES - timedelta(hours=4), window)
    assert (late_export.status, late_export.settles_after) == ("revisable", SETTLES)
    assert judge(rule, OLD_DAY, SETTLES + timedelta(hours=6), SETTLES, window).status == "settled"
    # without the API's clock nothing says the day has settled
    assert judge(None, OLD_DAY, None, None, timedelta(days=3)).status == "revisable"
    assert judge(None, OLD_DAY, None, None, timedelta(0)).status == "settled"


# -- an ingest_log written before settlement was recorded ---------------------------------------------------
#: the log's columns before days were marked provisional, then before they were marked settled
OLDEST_LOG = (
    "table_name VARCHAR NOT NULL, org_id VARCHAR NOT NULL, usage_date DATE NOT NULL, row_count BIGINT NOT NULL, "
    "source_request VARCHAR, run_id VARCHAR, fetched_at TIMESTAMPTZ NOT NULL"
)
OLD_LOG = (
    f"{OLDEST_LOG}, provisional BOOLEAN NOT NULL, final_after TIMESTAMPTZ, api_time TIMESTAMPTZ, "
    "data_refreshed_at TIMESTAMPTZ"
)


@pytest.mark.parametrize("columns", [OLD_LOG, OLDEST_LOG], ids=["before-settlement", "before-completeness"])
def test_an_old_ingest_log_gains_status_and_settles_after(tmp_path, columns):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA raw")
    con.execute(f"CREATE TABLE raw.ingest_log ({columns})")
    provisional = "provisional" in columns
    # pulled 2 hours, 2 days and 31 days after the day (2026-10-01) ended
    for fetched, flag in (
        ("2026-10-02 02:00", True),
        ("2026-10-04 00:00", False),
        ("2026-11-01 00:00", False),
    ):
        extra = f", {flag}, NULL, NULL, NULL" if provisional else ""
        con.execute(
            f"INSERT INTO raw.ingest_log VALUES ('raw.t{fetched[5:10]}', 'o', DATE '2026-10-01', 1, 'GET /x', 'r', "
            f"TIMESTAMPTZ '{fetched}+00'{extra})"
        )
    ensure_ingest_log(con)
    found = con.execute(
        "SELECT table_name, status, settles_after FROM raw.ingest_log ORDER BY table_name"
    ).fetchall()
    settles = datetime(2026, 11, 1, tzinfo=UTC)  # the day's end + 30 days, the longest documented window
    assert [(t, s, a.astimezone(UTC)) for t, s, a in found] == [
        ("raw.t10-02", "provisional", settles),
        ("raw.t10-04", "revisable", settles),
        ("raw.t11-01", "settled", settles),
    ]
    nullable = dict(
        con.execute(
            "SELECT column_name, is_nullable FROM duckdb_columns() WHERE table_name = 'ingest_log'"
        ).fetchall()
    )
    assert nullable["status"] is False
    ensure_ingest_log(con)  # a second start changes nothing
    assert (
        con.execute("SELECT table_name, status, settles_after FROM raw.ingest_log ORDER BY 1").fetchall()
        == found
    )


# -- engagement: revised by a few percent, and the B13 web search recount -------------------------------------
def engagement_truth(server: Running, day: date) -> dict:
    return truth(server.sim, ENTERPRISE, "enterprise_user_activity", day, day + timedelta(days=1))["days"][0]


def test_an_engagement_day_revised_by_a_few_percent_is_restated_with_the_truth_at_each_clock(
    server, at, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    day = date(2026, 11, 20)
    at(datetime(2026, 11, 21, 12, tzinfo=UTC))  # after the first aggregation of the day
    before = engagement_truth(server, day)
    first = pull(server, warehouse, "engagement", day)
    at(datetime(2026, 11, 22, 12, tzinfo=UTC))  # after the second
    after = engagement_truth(server, day)
    assert after["claude_code_lines_added"] != before["claude_code_lines_added"], "precondition: revised"
    again = pull(server, warehouse, "engagement", day)
    found = restatements(warehouse)
    assert found["claude_code_lines_of_code_added_count"][:2] == (
        before["claude_code_lines_added"],
        after["claude_code_lines_added"],
    )
    assert found["web_search_count"][:2] == (before["web_search_count"], after["web_search_count"])
    assert found["chat_message_count"][:2] == (before["chat_message_count"],) * 2  # never revised
    assert found["row_count"][:2] == (before["active_user_count"], after["active_user_count"])
    assert {m[4:6] for m in found.values()} == {(first.run_id, again.run_id)}
    assert {m[2:4] for m in found.values()} == {
        (None, None)
    }  # the engagement endpoints give no export watermark
    assert materialization(again, "enterprise_user_activity")["restated"] is True


def test_a_settled_engagement_day_recounted_by_the_web_search_fix_is_restated(server, at, tmp_path):
    """Settled means outside the documented revision window; a later correction (B13's web search recount of
    days from 2026-11-17, released 2026-11-23) is still recorded, from settled to settled."""
    warehouse = tmp_path / "w.duckdb"
    before = engagement_truth(server, DAY)
    pull(server, warehouse, "engagement")  # 2026-11-22 00:20: DAY settled, web searches undercounted
    at(datetime(2026, 11, 23, 0, 20, tzinfo=UTC))
    after = engagement_truth(server, DAY)
    assert after["web_search_count"] > before["web_search_count"], "precondition: the fix recounts DAY"
    pull(server, warehouse, "engagement")
    found = rows(
        warehouse,
        "SELECT measure, old_count, new_count, old_status, new_status FROM raw.restatements "
        "WHERE old_count <> new_count",
    )
    assert found == [
        ("web_search_count", before["web_search_count"], after["web_search_count"], "settled", "settled")
    ]

"""The raw Enterprise engagement assets against the simulator over loopback HTTP, into a temporary DuckDB."""

import os
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from checks import enterprise as enterprise_checks
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.ingest import runner
from claude_assets.ingest.enterprise_engagement import assets as ee_assets
from claude_assets.ingest.enterprise_engagement import fetch as ee_fetch
from claude_assets.ingest.enterprise_engagement import layout as ee_layout
from claude_assets.ingest.enterprise_engagement import layouts as ee_layouts
from claude_assets.ingest.enterprise_engagement import tables as ee_tables
from resources.apis import EnterpriseAnalyticsApi
from simulator.faults import FaultPlan
from simulator.generators.engagement.generator import engagement
from simulator.serve import Running, serve_in_thread
from simulator.truth import truth
from tests.conftest import EveryNthCursorExpires, client_for, make_sim

SLUG = "acme-enterprise"
KEY_ENV = "TEST_ENGAGEMENT_ANALYTICS_KEY"
START, END = date(2026, 8, 18), date(2026, 8, 25)  # a week with a member removed on 2026-08-23
LATEST = date(2026, 11, 21)  # the simulator's clock is 2026-11-22T12:00Z: engagement lags a day
TABLES = [t.name for t in ee_tables.TABLES]


def _config(base_url: str, history_start: date = date(2026, 1, 1)) -> ProjectConfig:
    return ProjectConfig(
        organizations=(
            OrgConfig(
                slug=SLUG,
                kind="enterprise",
                key_env=KEY_ENV,
                base_url=base_url,
                rate_limit_per_minute=100_000,
                history_start=history_start,
            ),
        )
    )


def materialize(
    base_url: str,
    db: Path,
    start: date,
    end: date,
    *,
    api: EnterpriseAnalyticsApi | None = None,
    history_start: date = date(2026, 1, 1),
) -> dg.ExecuteInProcessResult:
    """Materialize every engagement asset for the days [start, end) in one run."""
    return dg.materialize(
        ee_assets.engagement_assets(_config(base_url, history_start)),
        resources={
            "analytics_api": api or EnterpriseAnalyticsApi(),
            "duckdb": DuckDBResource(database=str(db)),
        },
        tags={
            "dagster/asset_partition_range_start": f"{start}|{SLUG}",
            "dagster/asset_partition_range_end": f"{end - timedelta(days=1)}|{SLUG}",
        },
        raise_on_error=False,
    )


def snapshot(db: Path, exclude: tuple[str, ...] = ("fetched_at",)) -> dict[str, list[tuple]]:
    """Every engagement table and the ingest log, without the columns that name the moment of the fetch."""
    with duckdb.connect(str(db), read_only=True) as con:
        out = {
            t: con.execute(f"SELECT * EXCLUDE ({', '.join(exclude)}) FROM raw.{t} ORDER BY ALL").fetchall()
            for t in TABLES
        }
        out["ingest_log"] = con.execute(
            f"SELECT * EXCLUDE (run_id, fetched_at{''.join(', ' + c for c in exclude if c != 'fetched_at')}) "
            "FROM raw.ingest_log ORDER BY ALL"
        ).fetchall()
    return out


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    out = []
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            error, text = data.error, ""
            while error is not None:
                text += error.message
                error = error.cause
            out.append((data.user_failure_data.description if data.user_failure_data else None) or text)
    return out


def materialization_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        m.asset_key.path[-1]: {k: v.value for k, v in m.materialization.metadata.items()}
        for m in result.get_asset_materialization_events()
    }


@pytest.fixture(scope="module")
def sim_server() -> Iterator[Running]:
    sim = make_sim()
    os.environ[KEY_ENV] = sim.world.by_slug(SLUG).api_key
    try:
        with serve_in_thread(sim) as running:
            yield running
    finally:
        os.environ.pop(KEY_ENV, None)


@pytest.fixture(scope="module")
def loaded(sim_server: Running, tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:
    db = tmp_path_factory.mktemp("engagement") / "warehouse.duckdb"
    result = materialize(sim_server.base_url, db, START, END)
    assert result.success, failure_messages(result)
    return db, result


def _con(db: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(db), read_only=True)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


# -- contents vs the simulator's truth and the API itself --------------------------------------------------
def test_summary_equals_truth(sim_server, loaded):
    db, _ = loaded
    expected = truth(sim_server.sim, SLUG, "enterprise_summaries", START, END)["days"]
    with _con(db) as con:
        frame = con.execute(
            "SELECT * FROM raw.enterprise_summary WHERE org_id = ? ORDER BY usage_date", [SLUG]
        ).df()
    assert [d.date().isoformat() for d in frame["usage_date"]] == [d["date"] for d in expected]
    for row, want in zip(frame.to_dict("records"), expected, strict=True):
        for field, value in want.items():
            if field in ("date", "starting_at", "ending_at"):
                continue
            got = row[field]
            assert (None if got is None or got != got else got) == value, (want["date"], field)
        assert row["extra"] is None
        assert row["source_request"] == (
            f"GET /v1/organizations/analytics/summaries?starting_date={START}&ending_date={END}&limit=1000"
        )


def test_user_activity_equals_truth(sim_server, loaded):
    db, _ = loaded
    expected = truth(sim_server.sim, SLUG, "enterprise_user_activity", START, END)["days"]
    with _con(db) as con:
        got = con.execute(
            """
            SELECT strftime(usage_date, '%Y-%m-%d'), count(*), sum(chat_message_count),
                   sum(chat_distinct_conversation_count), sum(claude_code_distinct_session_count),
                   sum(claude_code_commit_count), sum(claude_code_pull_request_count),
                   sum(claude_code_lines_of_code_added_count), sum(cowork_message_count), sum(web_search_count)
            FROM raw.enterprise_user_activity WHERE org_id = ? GROUP BY 1 ORDER BY 1""",
            [SLUG],
        ).fetchall()
    keys = (
        "date",
        "active_user_count",
        "chat_message_count",
        "chat_conversation_count",
        "claude_code_session_count",
        "claude_code_commit_count",
        "claude_code_pull_request_count",
        "claude_code_lines_added",
        "cowork_message_count",
        "web_search_count",
    )
    assert [tuple(d[k] for k in keys) for d in expected] == [tuple(r) for r in got]


def test_user_activity_keeps_every_field_as_sent(sim_server, loaded):
    """Each row equals the API's record leaf by leaf: zeros stay zeros, nulls stay nulls, nothing in extra."""
    db, _ = loaded
    day = START + timedelta(days=2)
    with client_for(sim_server, SLUG) as http:
        records = http.get(
            "/v1/organizations/analytics/users", params={"date": day.isoformat(), "limit": 1000}
        ).json()
    assert records["next_page"] is None and records["data"]
    columns = {f.path: f.column.name for f in ee_layouts.USER_LAYOUT.fields}
    with _con(db) as con:
        frame = con.execute("SELECT * FROM raw.enterprise_user_activity WHERE usage_date = ?", [day]).df()
    rows = {r["user_id"]: r for r in frame.to_dict("records")}
    assert len(rows) == len(records["data"])
    zeros = nulls = 0
    for record in records["data"]:
        row = rows[record["user"]["id"]]
        assert row["extra"] is None
        for path, value in ee_layout.flatten(record):
            if path in ("distinct_user_count", "rbac_group_id", "rbac_group_name", "last_activity_date"):
                continue
            if path == "chat_cowork_unified_metrics":  # a null block: every column of it is null
                assert value is None
                assert all(
                    row[c] is None or row[c] != row[c] for p, c in columns.items() if p.startswith(path)
                )
                continue
            got = row[columns[path]]
            if value is None:
                nulls += 1
                assert got is None or got != got, path
            else:
                zeros += value == 0
                assert got == value, path
    assert zeros and nulls  # the record has both zero-filled blocks and null fields


def test_deleted_members_keep_their_rows(sim_server, loaded):
    db, _ = loaded
    sim = sim_server.sim
    org = sim.world.by_slug(SLUG)
    eng = engagement(sim, org)
    today = sim.now().date()
    expected = {
        (d, org.users[i].id)
        for d in _days(START, END)
        for i in eng.day(d).users["user"].tolist()
        if org.users[i].removed and org.users[i].removed <= today
    }
    assert expected  # the window has activity of members deleted since
    with _con(db) as con:
        got = set(con.execute("SELECT usage_date, user_id FROM raw.enterprise_user_activity").fetchall())
    assert expected <= got


def _api_rows(server: Running, path: str, day: date) -> list[dict]:
    """Every ungrouped (organization-level) row of an entity endpoint for one day."""
    out, page = [], None
    with client_for(server, SLUG) as http:
        while True:
            body = http.get(
                f"/v1/organizations/analytics/{path}",
                params={"date": day.isoformat(), "limit": 1000, **({"page": page} if page else {})},
            ).json()
            out += body["data"]
            page = body.get("next_page")
            if not page:
                return out


@pytest.mark.parametrize(
    ("table", "path", "keys", "sums"),
    [
        (
            "enterprise_project_activity",
            "apps/chat/projects",
            ("project_id",),
            ("message_count", "distinct_conversation_count"),
        ),
        (
            "enterprise_skill_activity",
            "skills",
            ("skill_name",),
            (
                "invocation_count",
                "chat_metrics.distinct_conversation_skill_used_count",
                "claude_code_metrics.distinct_session_skill_used_count",
                "cowork_metrics.distinct_session_skill_used_count",
                "office_metrics.excel.distinct_session_skill_used_count",
                "office_metrics.word.distinct_session_skill_used_count",
                "estimated_overage_spend",
                "attributed_list_price",
            ),
        ),
        (
            "enterprise_connector_activity",
            "connectors",
            ("connector_name",),
            (
                "read_call_count",
                "write_call_count",
                "unclassified_call_count",
                "chat_metrics.distinct_conversation_connector_used_count",
                "cowork_metrics.distinct_session_connector_used_count",
                "managed_auth_distinct_user_count",
                "individual_auth_distinct_user_count",
            ),
        ),
        (
            "enterprise_plugin_activity",
            "plugins",
            ("plugin_name",),
            (
                "invocation_count",
                "install_count",
                "claude_code_metrics.distinct_session_plugin_used_count",
                "cowork_metrics.distinct_session_plugin_used_count",
            ),
        ),
        (
            "enterprise_artifact_activity",
            "artifacts",
            ("artifact_type", "is_shared"),
            ("artifacts_created_count", "published_artifacts_created_count"),
        ),
    ],
)
def test_per_user_rows_add_up_to_the_organization(sim_server, loaded, table, path, keys, sums):
    """Per-user (and per-product) rows partition each entity's activity: their sums are the ungrouped totals,
    and their distinct users the ungrouped distinct_user_count (no double counting)."""
    db, _ = loaded
    layout = {
        f.path: f for f in next(e for e in ee_tables.DAILY_ENDPOINTS if e.table.name == table).layout.fields
    }
    cols = [layout[s].column.name for s in sums]
    day = START + timedelta(days=1)
    with _con(db) as con:
        got = {
            tuple(r[: len(keys)]): r[len(keys) :]
            for r in con.execute(
                f"SELECT {', '.join(keys)}, count(DISTINCT user_id), "
                + ", ".join(f"sum({c})" for c in cols)
                + f" FROM raw.{table} WHERE usage_date = ? GROUP BY ALL",
                [day],
            ).fetchall()
        }
    expected = {}
    for record in _api_rows(sim_server, path, day):
        leaves = dict(ee_layout.flatten(record))
        values = [leaves["distinct_user_count"]]
        for s in sums:
            v = leaves[s]
            if layout[s].kind == "money":
                v = None if v is None else Decimal(v) / 100
            values.append(v)
        expected[tuple(leaves[k] for k in keys)] = tuple(values)
    assert expected and got.keys() == expected.keys()
    for key, want in expected.items():
        have = got[key]
        for name, w, h in zip(("distinct users", *sums), want, have, strict=True):
            if (
                w is None
            ):  # the API leaves some organization-level counts null (e.g. before a data-start date)
                continue
            assert h == w, (key, name)


def test_money_is_exact_decimal(loaded):
    db, _ = loaded
    with _con(db) as con:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'raw' AND table_name = 'enterprise_skill_activity'"
            ).fetchall()
        )
        total = con.execute(
            "SELECT sum(estimated_overage_spend_usd) FROM raw.enterprise_skill_activity"
        ).fetchone()[0]
    assert types["estimated_overage_spend_usd"] == types["attributed_list_price_usd"] == "DECIMAL(38,12)"
    assert isinstance(total, Decimal) and total > 0


def test_checks_pass_and_metadata(loaded):
    _, result = loaded
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations), [
        (e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed
    ]
    names = {(e.asset_key.path[-1], e.check_name) for e in evaluations}
    assert ("enterprise_user_activity", "rows_match_summary_dau") in names
    assert ("enterprise_summary", "dau_matches_user_activity") in names
    compared = [e.metadata["days_compared"].value for e in evaluations if "dau" in e.check_name]
    assert max(compared) == (END - START).days  # whichever ran second compared every day
    meta = materialization_metadata(result)
    assert meta["enterprise_user_activity"]["latest_available_day"] == {SLUG: LATEST.isoformat()}
    assert meta["enterprise_skill_activity"]["run_total_estimated_overage_spend_usd_exact"]
    # one request per day for this small organization; one latest-day probe for the whole run; one
    # /v1/organizations/me key check (refused to the Analytics key, as documented) for the process
    requests = {t: m["run_requests"] for t, m in meta.items()}
    assert sum(requests.values()) == 6 * (END - START).days + 1 + 1 + 1


def test_dau_check_reports_missing_and_disagreeing_days(loaded, tmp_path):
    db, _ = loaded
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    windows = {SLUG: [(START, END + timedelta(days=2))]}
    key = ee_tables.ENTERPRISE_USER_ACTIVITY.asset_key
    with duckdb.connect(str(copy)) as con:
        ok = enterprise_checks.dau_result(
            con, key, ee_tables.ENTERPRISE_SUMMARY, ee_tables.ENTERPRISE_USER_ACTIVITY, windows
        )
        assert ok.passed and ok.metadata["days_compared"].value == (END - START).days
        assert ok.metadata["days_without_enterprise_summary"].value == 2  # never loaded: listed, not failed
        con.execute(
            "DELETE FROM raw.enterprise_user_activity WHERE rowid IN "
            "(SELECT min(rowid) FROM raw.enterprise_user_activity WHERE usage_date = ?)",
            [START],
        )
        bad = enterprise_checks.dau_result(
            con, key, ee_tables.ENTERPRISE_SUMMARY, ee_tables.ENTERPRISE_USER_ACTIVITY, windows
        )
        assert not bad.passed and bad.severity == dg.AssetCheckSeverity.ERROR  # both fetched by the same run
        assert bad.metadata["first_disagreements"].value[0]["usage_date"] == START.isoformat()


# -- re-runs and faults ---------------------------------------------------------------------------------------
def test_rerun_is_idempotent(sim_server, loaded, tmp_path):
    db, _ = loaded
    copy = tmp_path / "rerun.duckdb"
    shutil.copy(db, copy)
    before = snapshot(copy)
    result = materialize(sim_server.base_url, copy, START, END)
    assert result.success, failure_messages(result)
    assert snapshot(copy) == before


def test_faults_leave_identical_tables(sim_server, tmp_path, monkeypatch):
    """429/500/timeouts/malformed bodies/expired cursors (small pages, so cursors are used) change nothing."""
    monkeypatch.setattr(ee_fetch, "PAGE_LIMIT", 10)
    start, end = START + timedelta(days=1), START + timedelta(days=4)
    clean = materialize(sim_server.base_url, tmp_path / "clean.duckdb", start, end)
    assert clean.success, failure_messages(clean)
    faulty_sim = make_sim(
        faults=FaultPlan.parse(
            "429=0.05,500=0.03,timeout=0.01,garbage=0.01,410=0.02", seed=3, timeout_seconds=2
        )
    )
    with serve_in_thread(faulty_sim) as faulty:
        result = materialize(
            faulty.base_url,
            tmp_path / "faulty.duckdb",
            start,
            end,
            api=EnterpriseAnalyticsApi(timeout_seconds=1, backoff_seconds=0),
        )
    assert result.success, failure_messages(result)
    meta = materialization_metadata(result)
    assert sum(m["run_retries"] for m in meta.values()) > 0
    assert sum(m["run_pages"] for m in meta.values()) > 6 * (end - start).days  # several pages a day
    assert snapshot(tmp_path / "faulty.duckdb") == snapshot(tmp_path / "clean.duckdb")


def test_expired_cursors_mid_day_keep_no_row_twice(sim_server, tmp_path, monkeypatch):
    """A 410 on a later page restarts the day's query; the rows of its first pages are dropped, not kept twice."""
    monkeypatch.setattr(ee_fetch, "PAGE_LIMIT", 10)
    start, end = START + timedelta(days=1), START + timedelta(days=3)
    clean = materialize(sim_server.base_url, tmp_path / "clean.duckdb", start, end)
    assert clean.success, failure_messages(clean)
    expiring = EveryNthCursorExpires(13)
    with serve_in_thread(make_sim(faults=expiring)) as faulty:
        result = materialize(faulty.base_url, tmp_path / "faulty.duckdb", start, end)
    assert result.success, failure_messages(result)
    assert expiring.expired >= 3
    assert sum(m["run_restarts"] for m in materialization_metadata(result).values()) == expiring.expired
    assert snapshot(tmp_path / "faulty.duckdb") == snapshot(tmp_path / "clean.duckdb")


def test_row_bounded_writes_leave_identical_tables(sim_server, tmp_path, monkeypatch):
    """A run writes a batch once it stages WRITE_ROWS rows (bounded memory); the tables do not depend on it."""
    start, end = START, START + timedelta(days=4)
    whole = materialize(sim_server.base_url, tmp_path / "whole.duckdb", start, end)
    assert whole.success, failure_messages(whole)
    monkeypatch.setattr(runner, "WRITE_ROWS", 25)
    flushes = []
    real_flush = runner._Batch.flush
    monkeypatch.setattr(
        runner._Batch, "flush", lambda self, *a: (flushes.append(self.rows), real_flush(self, *a))
    )
    chunked = materialize(sim_server.base_url, tmp_path / "chunked.duckdb", start, end)
    assert chunked.success, failure_messages(chunked)
    written = [n for n in flushes if n]
    assert len(written) > 2 * len(ee_tables.DAILY_ENDPOINTS)  # users activity alone is written day by day
    assert snapshot(tmp_path / "chunked.duckdb") == snapshot(tmp_path / "whole.duckdb")


# -- the API's range: floor and latest day ------------------------------------------------------------------
def test_days_before_the_floor_call_nothing(tmp_path):
    """Partitions before 2026-01-01 (an organization whose history starts earlier) send no request at all:
    the base URL points at a closed port and the client may not retry."""
    result = materialize(
        "http://127.0.0.1:9",
        tmp_path / "w.duckdb",
        date(2025, 12, 10),
        date(2025, 12, 13),
        api=EnterpriseAnalyticsApi(max_retries=0),
        history_start=date(2025, 12, 1),
    )
    assert result.success, failure_messages(result)
    for table, meta in materialization_metadata(result).items():
        assert meta["run_requests"] == 0, table
        assert meta["dagster/row_count"] == 0
        [(reason, by_org)] = meta["run_skipped_days"].items()
        assert "2026-01-01" in reason and by_org == {SLUG: 3}
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    window_checks = [e for e in evaluations if "dau" not in e.check_name]
    assert window_checks and all("2026-01-01" in str(e.metadata["note"].value) for e in window_checks)


def test_a_range_across_the_floor_fetches_only_available_days(sim_server, tmp_path):
    db = tmp_path / "w.duckdb"
    result = materialize(
        sim_server.base_url, db, date(2025, 12, 30), date(2026, 1, 2), history_start=date(2025, 12, 1)
    )
    assert result.success, failure_messages(result)
    assert materialization_metadata(result)["enterprise_summary"]["run_skipped_days"] == {
        ee_fetch.AVAILABILITY.floor_reason: {SLUG: 2}
    }
    with _con(db) as con:
        assert con.execute(
            "SELECT min(usage_date), max(usage_date) FROM raw.enterprise_user_activity"
        ).fetchone() == (date(2026, 1, 1), date(2026, 1, 1))


def test_a_too_recent_partition_fails_naming_the_latest_day(sim_server, tmp_path):
    db = tmp_path / "w.duckdb"
    result = materialize(sim_server.base_url, db, LATEST - timedelta(days=1), LATEST + timedelta(days=2))
    assert not result.success
    messages = failure_messages(result)
    assert messages and all(f"the most recent available day is {LATEST}" in m for m in messages), messages
    assert all(f"{LATEST + timedelta(days=1)} is not available yet" in m for m in messages)
    assert all("nothing was fetched or written" in m for m in messages)
    assert (
        not db.exists()
        or not duckdb.connect(str(db))
        .execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'")
        .fetchone()[0]
    )


def test_latest_day_follows_the_api_clock(monkeypatch):
    """An API whose clock is far from the local one: the probe retries from the API's own date."""
    sim = make_sim(now=datetime(2026, 3, 10, 12, tzinfo=UTC))
    monkeypatch.setenv(KEY_ENV, sim.world.by_slug(SLUG).api_key)
    with serve_in_thread(sim) as running:
        org = _config(running.base_url).get(SLUG)
        stats = ee_fetch.CallStats()
        with EnterpriseAnalyticsApi(backoff_seconds=0).client(org) as client:
            assert ee_fetch.probe_latest_day(client, org, stats) == date(2026, 3, 9)
            # the key check (/v1/organizations/me), refused from the local date, then asked from the API's own
            assert stats.requests == 3


def test_a_day_without_plugin_use_warns(sim_server, tmp_path):
    """A small organization can go a day without any plugin use: not_empty warns instead of failing."""
    day = date(2026, 1, 3)
    result = dg.materialize(
        ee_assets.engagement_assets(_config(sim_server.base_url)),
        selection=[ee_tables.ENTERPRISE_PLUGIN_ACTIVITY.asset_key],
        resources={
            "analytics_api": EnterpriseAnalyticsApi(),
            "duckdb": DuckDBResource(database=str(tmp_path / "w.db")),
        },
        partition_key=f"{day}|{SLUG}",
        raise_on_error=False,
    )
    assert result.success, failure_messages(result)
    [empty] = [e for e in result.get_asset_check_evaluations() if e.check_name == "not_empty"]
    assert not empty.passed and empty.severity == dg.AssetCheckSeverity.WARN
    assert all(e.passed for e in result.get_asset_check_evaluations() if e.check_name != "not_empty")


# -- pure functions ---------------------------------------------------------------------------------------------
def test_parse_record_keeps_unknown_fields_and_nulls():
    record = {
        "skill_name": "pdf",
        "skill_display_name": None,
        "share_status": "public",
        "product": "cowork",
        "user_id": "user_01",
        "distinct_user_count": 1,
        "invocation_count": 0,
        "enable_count": None,
        "chat_metrics": {"distinct_conversation_skill_used_count": 0, "brand_new_metric": 4},
        "claude_code_metrics": {"distinct_session_skill_used_count": 2},
        "cowork_metrics": {"distinct_session_skill_used_count": 3},
        "office_metrics": {a: {"distinct_session_skill_used_count": 0} for a in ee_layouts.OFFICE_APPS},
        "chat_cowork_unified_metrics": None,
        "estimated_overage_spend": "41280.000001",
        "attributed_list_price": None,
        "currency": "USD",
        "rbac_group_id": None,
        "rbac_group_name": None,
        "new_top_level": {"x": 1.5},
    }
    values, extra = ee_layout.parse_record(record, ee_layouts.SKILL_LAYOUT)
    assert values["estimated_overage_spend_usd"] == "412.80000001"
    assert values["attributed_list_price_usd"] is None and values["enable_count"] is None
    assert values["invocation_count"] == 0 and values["chat_distinct_conversation_skill_used_count"] == 0
    assert values["chat_cowork_unified_chat_distinct_conversation_skill_used_count"] is None
    assert extra == '{"chat_metrics.brand_new_metric": 4, "new_top_level.x": 1.5}'


def test_parse_record_rejects_a_non_integer_count():
    with pytest.raises(ValueError, match="invocation_count"):
        ee_layout.parse_record(
            {"skill_name": "pdf", "invocation_count": Decimal("2.5")}, ee_layouts.SKILL_LAYOUT
        )


def test_summaries_accept_either_envelope():
    row = {"starting_at": "2026-03-02T00:00:00Z"}
    request = "GET /v1/organizations/analytics/summaries?starting_date=2026-03-02"
    assert ee_fetch.summary_records({"data": [row], "summaries": [row], "next_page": None}, request) == [row]
    assert ee_fetch.summary_records({"summaries": [row]}, request) == [row]  # the docs' envelope
    assert ee_fetch.summary_records({"data": [row], "next_page": None}, request) == [row]  # the SDK's


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("page", "says"),
    [
        ({"next_page": None}, "neither a data nor a summaries list (keys: next_page)"),
        ({"summaries": {"starting_at": "2026-03-02"}}, "summaries is a dict, not a list of days"),
        ({"data": [], "summaries": [{"starting_at": "2026-03-02"}]}, "data (0 days) and its alias summaries"),
        ({"data": [], "next_page": "page_2"}, "next_page is 'page_2'"),
    ],
)
def test_a_summaries_envelope_of_neither_documented_shape_is_refused(page, says):
    request = "acme-enterprise: GET /v1/organizations/analytics/summaries?starting_date=2026-03-02"
    with pytest.raises(ValueError, match=re.escape(says)) as refused:
        ee_fetch.summary_records(page, request)
    assert str(refused.value).startswith(request)


def test_column_names_are_unique_and_every_table_has_the_contract_columns():
    for table in ee_tables.TABLES:
        names = table.column_names
        assert len(names) == len(set(names)), table.qualified
        assert {"org_id", "usage_date", "extra", "fetched_at", "source_request"} <= set(names)
        assert set(table.grain) <= set(names)


def test_assets_are_partitioned_by_day_and_enterprise_org():
    assets = ee_assets.engagement_assets(_config("http://127.0.0.1:9"))
    assert len(assets) == 7
    by_key = defaultdict(list)
    for a in assets:
        by_key[a.key.path[0]].append(a.key.path[1])
        assert a.group_names_by_key[a.key] == "enterprise"
        assert a.partitions_def.partitions_defs[1].partitions_def.get_partition_keys() == [SLUG]
        assert a.backfill_policy == dg.BackfillPolicy.single_run()
    assert sorted(by_key["raw"]) == sorted(TABLES)

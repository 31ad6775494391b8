"""The chaos suite: a backfill of the simulator's medium world under every fault kind and SIGKILLs of its
run process, compared table by table with a clean run of the same range.

``make test`` runs it bounded (2 days, one kill); ``make chaos`` runs it in full (``CHAOS_SCALE=full``:
30 days, four kills) and prints its figures. The harness is in ``tests/chaos/``; the checks it relies
on (the comparison and the half-written-window check) are tested here on small warehouses built by hand,
each with the flaw it must catch.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.chaos.campaign import run_campaign
from tests.chaos.pipeline import Attempt, kill_points
from tests.chaos.scale import from_env
from tests.chaos.tables import compare, half_written

pytestmark = pytest.mark.chaos


def test_faults_and_kills_leave_the_tables_of_a_clean_run(tmp_path, capsys):
    """Every fault kind at realistic rates and SIGKILLs at seeded moments: after each kill nothing
    half-written is visible, the next run completes, and every raw, inventory, facts and exports table
    (and export file) equals the clean run's; nothing written holds a key."""
    figures = run_campaign(from_env(), tmp_path)
    text = "\n".join(figures.lines())
    (tmp_path / "figures.txt").write_text(text + "\n")
    with capsys.disabled():  # the figures are the point of make chaos: print them whatever the capture
        print(f"\n{text}")
    problems = figures.problems()
    assert not problems, "\n".join(problems) + f"\n\n{text}\n(logs in {tmp_path})"


# -- the checks themselves: each flaw a chaos run could leave is caught -------------------------------------

DAY1, DAY2 = date(2026, 11, 20), date(2026, 11, 21)


def _write(folder: Path) -> Path:
    """A small warehouse shaped like the pipeline's: two raw tables written together and one written on its
    own, their ingest log, an inventory table, a facts table, and one export file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "inventory", "facts"):
            con.execute(f"CREATE SCHEMA {schema}")
        for table in ("claude_code_usage", "claude_code_model_usage", "console_cost"):
            con.execute(
                f"CREATE TABLE raw.{table} (org_id VARCHAR, usage_date DATE, n INT, fetched_at TIMESTAMPTZ)"
            )
            con.execute(
                f"INSERT INTO raw.{table} VALUES ('a', ?, 1, now()), ('a', ?, 2, now()), ('a', ?, 3, now())",
                [DAY1, DAY1, DAY2],
            )
        con.execute(
            "CREATE TABLE raw.ingest_log (table_name VARCHAR, org_id VARCHAR, usage_date DATE, "
            "row_count BIGINT, run_id VARCHAR, fetched_at TIMESTAMPTZ)"
        )
        for table in ("raw.claude_code_usage", "raw.claude_code_model_usage", "raw.console_cost"):
            con.execute(
                "INSERT INTO raw.ingest_log VALUES (?, 'a', ?, 2, 'r1', now()), (?, 'a', ?, 1, 'r1', now())",
                [table, DAY1, table, DAY2],
            )
        con.execute("CREATE TABLE inventory.users (org_id VARCHAR, id VARCHAR, fetched_at TIMESTAMPTZ)")
        con.execute("INSERT INTO inventory.users VALUES ('a', 'u1', now()), ('a', 'u2', now())")
        con.execute("CREATE TABLE facts.cost (usage_date DATE, org_id VARCHAR, usd DECIMAL(38, 12))")
        con.execute("INSERT INTO facts.cost VALUES (?, 'a', 1.5), (?, 'a', 2.5)", [DAY1, DAY2])
        files = folder / "exports" / "focus" / "a"
        files.mkdir(parents=True)
        con.execute(f"COPY (SELECT * FROM facts.cost) TO '{files / '2026-11.parquet'}' (FORMAT parquet)")
    return path


STEPS = [["raw.claude_code_usage", "raw.claude_code_model_usage"]]


@pytest.fixture
def clean(tmp_path) -> Path:
    return _write(tmp_path / "clean")


@pytest.fixture
def other(tmp_path, clean) -> Path:
    """The same warehouse written by another run (other lineage values), to be damaged by a test."""
    path = _write(tmp_path / "other")
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE raw.ingest_log SET run_id = 'r2', fetched_at = now() + INTERVAL 1 HOUR")
    return path


def _sql(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for s in statements:
            con.execute(s)


def test_a_copy_differing_only_in_lineage_is_identical_and_whole(clean, other):
    assert compare(clean, other).identical
    assert half_written(clean, other, STEPS) == []


def test_a_run_stopped_between_windows_is_whole(clean, other):
    """Windows not written yet (no rows, no log entry) in every table of the step, a table not written at
    all while others of the same days are: nothing half-written."""
    _sql(
        other,
        "DELETE FROM raw.console_cost",
        "DELETE FROM raw.ingest_log WHERE table_name = 'raw.console_cost'",
        f"DELETE FROM raw.claude_code_usage WHERE usage_date = '{DAY2}'",
        f"DELETE FROM raw.claude_code_model_usage WHERE usage_date = '{DAY2}'",
        f"DELETE FROM raw.ingest_log WHERE usage_date = '{DAY2}'",
        f"DELETE FROM facts.cost WHERE usage_date = '{DAY2}'",
        "DELETE FROM inventory.users",
    )
    assert half_written(clean, other, STEPS) == []
    assert not compare(clean, other).identical  # but it is not the whole range


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        pytest.param(
            ["DELETE FROM raw.claude_code_usage WHERE n = 1"],
            "raw.claude_code_usage: 1 row(s) of the clean run missing from a unit",
            id="a logged day missing a row",
        ),
        pytest.param(
            [
                f"DELETE FROM raw.ingest_log WHERE table_name = 'raw.claude_code_usage' AND usage_date = '{DAY2}'"
            ],
            "raw.claude_code_usage: rows on 1 organization-day(s) the ingest log does not list",
            id="rows on a day the log does not list",
        ),
        pytest.param(
            [
                f"DELETE FROM raw.claude_code_model_usage WHERE usage_date = '{DAY2}'",
                f"DELETE FROM raw.ingest_log WHERE table_name = 'raw.claude_code_model_usage' AND usage_date = '{DAY2}'",
            ],
            "tables written together logged different organization-days",
            id="one table of a transaction written without the other",
        ),
        pytest.param(
            ["INSERT INTO facts.cost SELECT * FROM facts.cost LIMIT 1"],
            "facts.cost: 1 row(s) the clean run does not have",
            id="a duplicated row",
        ),
        pytest.param(
            ["DELETE FROM inventory.users WHERE id = 'u2'"],
            "inventory.users: 1 row(s) of the clean run missing from a unit (org_id)",
            id="an inventory snapshot in part",
        ),
        pytest.param(
            ["UPDATE facts.cost SET usd = 1.6 WHERE usd = 1.5"],
            "facts.cost: 1 row(s) the clean run does not have",
            id="a changed amount",
        ),
    ],
)
def test_each_half_written_state_is_caught(clean, other, damage, expected):
    _sql(other, *damage)
    problems = half_written(clean, other, STEPS)
    assert any(p.startswith(expected) for p in problems), problems
    assert not compare(clean, other).identical


def test_a_visible_export_file_must_be_whole_and_a_hidden_partial_one_is_ignored(clean, other):
    folder = other.parent / "exports" / "focus" / "a"
    shutil.copy(folder / "2026-11.parquet", folder / ".2026-11.parquet.partial")
    _sql(
        other,
        f"COPY (SELECT * FROM facts.cost LIMIT 1) TO '{folder / '.2026-11.parquet.partial'}' (FORMAT parquet)",
    )
    assert half_written(clean, other, STEPS) == []
    _sql(other, f"COPY (SELECT * FROM facts.cost LIMIT 1) TO '{folder / '2026-11.parquet'}' (FORMAT parquet)")
    assert half_written(clean, other, STEPS) == [
        "exports/focus/a/2026-11.parquet: a visible file that differs from the clean run's"
    ]
    assert (
        "exports/focus/a/2026-11.parquet: 1 row(s) of the clean run missing, 0 row(s) not in it (1 vs 2 rows)"
        in (compare(clean, other).differences())
    )


def test_a_table_or_file_on_one_side_only_is_a_difference(clean, other):
    _sql(other, "CREATE TABLE facts.extra (usage_date DATE)")
    (other.parent / "exports" / "focus" / "a" / "2026-11.parquet").unlink()
    differences = compare(clean, other).differences()
    assert "facts.extra: only in the other warehouse" in differences
    assert "exports/focus/a/2026-11.parquet: only in the clean run" in differences
    assert half_written(clean, other, STEPS) == ["facts.extra: a table the clean run does not have"]


def test_kill_points_are_seeded_and_spread_over_the_run():
    clean = Attempt(
        1,
        0,
        seconds=110.0,
        requests=500,
        killed=None,
        busy_seconds=100.0,
        planned=("raw", "enterprise", "derived"),
        phase_seconds={"raw": 30.0, "enterprise": 80.0, "derived": 100.0},
    )
    points = kill_points(11, 4, clean)
    assert points == kill_points(11, 4, clean) != kill_points(12, 4, clean)
    # one in each third of 5 %..95 % of the clean run's time, the last 10 %..90 % into its last phase
    assert [int((p.seconds - 5) // 30) for p in points[:3]] == [0, 1, 2]
    assert all(p.after_phase is None for p in points[:3])
    assert points[3].after_phase == "enterprise" and 2 <= points[3].seconds <= 18
    only = kill_points(11, 1, clean)
    assert len(only) == 1 and only[0].after_phase is None and 5 <= only[0].seconds <= 95

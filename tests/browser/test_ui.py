"""The Dagster UI as a new user meets it after ``make demo`` and ``make ui``, in a real browser.

It opens the asset graph and sees edges between the assets, opens one partition of
``raw/console_cost`` and reads the day's cost where the UI shows it, launches a two-day
materialization from the UI and waits for it to succeed, and keeps screenshots in ``docs/img/``
(the README shows one of them).
"""

from __future__ import annotations

import contextlib
import re
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

#: one site (demo warehouse, webserver, daemon) serves every test here: keep them on one xdist worker
pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
ASSET = "raw/console_cost"
ORG = "acme-console"
#: yesterday by the pinned clock: the question is "what did we spend yesterday?"
DAY = "2026-11-21"
#: the demo's two days (its partitions start on its first day), emptied before the launch: the UI's run must
#: pull them from the simulator again and write them
LAUNCH_DAYS = ("2026-11-20", "2026-11-21")
#: an edge of Dagster's lineage graphs: an SVG path ending in an arrow head
EDGE = "svg path[marker-end^='url(#arrow']"
#: how long the daemon may take to run the backfill launched from the UI
RUN_SECONDS = 300
#: how long the backfill's page may take to draw a status the instance already holds
PAGE_SECONDS = 60
#: a value shown as money
MONEY = re.compile(r"^\s*(\$|USD\b)|\bUSD\s*$")
#: a backfill's status on its page once it has ended
ENDED = ("Succeeded", "Failed", "Canceled", "Completed with failures")


def usd_entries(page) -> dict[str, str]:
    """The partition's metadata entries in USD (named so, or shown with ``$`` or ``USD``), as the UI shows
    them (name -> text)."""
    try:
        page.locator("table tr").filter(has_text=re.compile(r"usd|\$", re.I)).first.wait_for()
    except PlaywrightTimeout:
        pytest.fail(f"{page.url} shows no metadata entry named in USD:\n{page.inner_text('body')[-2000:]}")
    rows = page.evaluate(
        # the entries' own table: not a table shown inside an entry's value
        "() => Array.from(document.querySelectorAll('table tr')).filter(tr => !tr.closest('td table'))"
        ".map(tr => Array.from(tr.cells).map(c => c.innerText.trim()))"
    )
    return {r[0]: r[1] for r in rows if len(r) >= 2 and ("usd" in r[0].lower() or MONEY.search(r[1]))}


def shown_amount(text: str) -> Decimal:
    """A money figure as shown (``$1,234.56``, ``1234.56 USD``, ``1234.560000``) as a Decimal."""
    number = re.search(r"-?[\d,]+(?:\.\d+)?", text)
    assert number, f"no number in the value shown: {text!r}"
    return Decimal(number.group().replace(",", ""))


def warehouse_day_usd(warehouse, org: str, day: str) -> Decimal:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (total,) = con.execute(
            "SELECT sum(amount_usd) FROM raw.console_cost WHERE org_id = ? AND usage_date = ?", [org, day]
        ).fetchone()
    assert total is not None, f"the warehouse holds no {ASSET} rows for {org} on {day}"
    return total


def backfill_status(graphql: str, backfill: str) -> str:
    """The backfill's status as the instance records it (``REQUESTED`` while the daemon works on it)."""
    query = (
        "query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename "
        "... on PartitionBackfill { status } ... on PythonError { message } } }"
    )
    answer = httpx.post(graphql, json={"query": query, "variables": {"id": backfill}}, timeout=30).json()
    found = answer["data"]["partitionBackfillOrError"]
    assert "status" in found, found
    return found["status"]


def wait_for_backfill(page, graphql: str, backfill: str) -> str:
    """The status the backfill's page shows once the backfill has ended.

    The instance is asked when it has ended; the page is then reloaded until it has drawn that status
    (its data arrives after the page's load event, later on a busy machine).
    """
    deadline = time.monotonic() + RUN_SECONDS
    while (recorded := backfill_status(graphql, backfill)) in ("REQUESTED", "CANCELING", "FAILING"):
        if time.monotonic() > deadline:
            pytest.fail(
                f"the backfill {backfill} is still {recorded} after {RUN_SECONDS} s: is the daemon running?"
            )
        time.sleep(1)
    page.reload()
    status = "not shown"
    deadline = time.monotonic() + PAGE_SECONDS
    while time.monotonic() < deadline:
        shown = re.search(r"Status\s+(\w[\w ]*)", page.inner_text("body"))
        status = shown.group(1).strip() if shown else "not shown"
        if status in ENDED:
            return status
        page.wait_for_timeout(500)
    pytest.fail(
        f"the backfill {backfill} ended {recorded}, but its page still shows {status!r} after {PAGE_SECONDS} s"
    )


def test_the_asset_graph_draws_the_lineage_between_assets(page):
    page.goto("/asset-groups")
    page.get_by_text("Global asset lineage").wait_for()
    page.locator(EDGE).first.wait_for(state="attached")
    assert page.locator(EDGE).count() > 0, "the global asset graph draws no edge between its nodes"
    page.get_by_text("fetching statuses").first.wait_for(state="detached")
    page.screenshot(path=SCREENSHOTS / "asset-graph.png")

    # the raw table's own lineage: the API it is pulled from upstream, the facts built from it downstream
    page.goto(f"/assets/{ASSET}?view=lineage")
    for scope, means in (
        ("Downstream", "the facts built from it"),
        ("Upstream", "the API it is pulled from"),
    ):
        page.get_by_role("button", name=scope).click()
        page.wait_for_timeout(1500)  # the graph is laid out again for the new scope
        with contextlib.suppress(PlaywrightTimeout):  # a busy machine may take longer to draw it
            page.locator(EDGE).first.wait_for(state="attached", timeout=30_000)
        edges = page.locator(EDGE).count()
        page.screenshot(path=SCREENSHOTS / f"console-cost-{scope.lower()}.png")
        assert edges > 0, (
            f"{ASSET}'s lineage ({scope}) draws no edge: {means} should be connected to it in the graph"
        )


def test_a_partition_shows_the_cost_the_warehouse_holds_for_its_day(page, site):
    expected = warehouse_day_usd(site.warehouse, ORG, DAY)
    page.goto(f"/assets/{ASSET}?view=partitions&partition={DAY}|{ORG}")
    shown = usd_entries(page)
    page.screenshot(path=SCREENSHOTS / "partition.png", full_page=True)
    # a figure of the whole run is allowed when it says so; every other one must be this day's
    own = {name: text for name, text in shown.items() if "run" not in name.lower()}
    assert own, f"the partition {DAY}|{ORG} of {ASSET} shows no USD figure of its own (shown: {shown})"
    wrong = {}
    for name, text in own.items():
        amount = shown_amount(text)
        digits = max(0, -amount.as_tuple().exponent)
        if abs(amount - expected) > Decimal(1).scaleb(-digits) / 2:
            wrong[name] = text
    assert not wrong, (
        f"the partition {DAY}|{ORG} of {ASSET} shows {wrong}, but the warehouse holds USD {expected} "
        f"for that day and organization (SELECT sum(amount_usd) FROM raw.console_cost WHERE org_id = "
        f"'{ORG}' AND usage_date = '{DAY}')"
    )


def test_a_two_day_materialization_launched_from_the_ui_succeeds(page, site):
    with duckdb.connect(
        str(site.warehouse)
    ) as con:  # nothing of those days left: only the run can write them
        con.execute(
            "DELETE FROM raw.console_cost WHERE org_id = ? AND usage_date BETWEEN ? AND ?",
            [ORG, *LAUNCH_DAYS],
        )
    page.goto(f"/assets/{ASSET}?view=partitions&partition={DAY}|{ORG}")
    page.get_by_role("button", name="Materialize…").click()
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    days = dialog.get_by_placeholder("ex: ")
    days.fill(f"[{LAUNCH_DAYS[0]}...{LAUNCH_DAYS[1]}]")
    days.press("Enter")
    dialog.get_by_text("2 partitions").wait_for()
    page.screenshot(path=SCREENSHOTS / "launch.png")
    dialog.get_by_role("button", name=re.compile("^Launch")).click()
    created = page.get_by_text(re.compile(r"Created backfill \w+"))
    backfill = re.search(r"Created backfill (\w+)", created.inner_text()).group(1)
    page.get_by_role("button", name="View").or_(page.get_by_role("link", name="View")).first.click()
    page.wait_for_url(re.compile(backfill))
    status = wait_for_backfill(page, site.graphql, backfill)
    page.screenshot(path=SCREENSHOTS / "backfill.png")
    assert status == "Succeeded", (
        f"the backfill {backfill} of {ASSET} over {LAUNCH_DAYS[0]}..{LAUNCH_DAYS[1]}|{ORG}, launched from the "
        f"UI, ended {status}: open {page.url} for its run and logs"
    )
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        written = con.execute(
            "SELECT strftime(usage_date, '%Y-%m-%d'), count(*) FROM raw.console_cost "
            "WHERE org_id = ? AND usage_date BETWEEN ? AND ? GROUP BY ALL ORDER BY ALL",
            [ORG, *LAUNCH_DAYS],
        ).fetchall()
    assert [d for d, n in written if n] == list(LAUNCH_DAYS), (
        f"the backfill {backfill} succeeded, but {ASSET} holds rows for {written} of {LAUNCH_DAYS} ({ORG})"
    )

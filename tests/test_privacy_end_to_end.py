"""Pseudonymization over the demo world, through every asset of the code location.

With ``privacy.pseudonymize`` on, no email or full name of the simulator's world is found below raw: in any
column of any facts, insights or exports table, anywhere in the Dagster event store (materialization metadata
and previews of every layer, raw included, log messages), or in the exported files. Raw keeps what the API
said, unless ``privacy.raw_emails: pseudonymize``: then the scan covers raw and inventory too. The same person
has the same pseudonym in two separate runs, and another secret gives every person another one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from unittest import mock

import duckdb
import pytest

from claude_assets.config import PSEUDONYM_KEY_ENV, AlertsConfig, PrivacySettings, Webhook
from claude_assets.facts.usage import rebuild_usage
from claude_assets.privacy.pseudonyms import Pseudonyms
from tests.alert_receiver import HOOK_ENV, Receiver, serve
from tests.conftest import make_sim
from tests.privacy_scan import OTHER_SECRET, SECRET, Scan, World, needles, run_world

START, END = date(2026, 11, 14), date(2026, 11, 21)
BELOW_RAW = ("facts", "insights", "exports")
USER_ACTORS = (
    "SELECT DISTINCT org_id, actor FROM facts.usage WHERE source = 'raw.claude_code_model_usage' "
    "AND actor LIKE 'u\\_%' ESCAPE '\\' ORDER BY ALL"
)


@pytest.fixture(scope="module")
def sim():
    return make_sim()


@dataclass(frozen=True)
class Kept:
    world: World
    posted: list[dict]  # the alert payloads the webhook received

    def __getattr__(self, name):
        return getattr(self.world, name)


@pytest.fixture(scope="module")
def kept(sim, tmp_path_factory):
    """Pseudonymization on, raw as the API said; budgets tiny enough to be crossed (one of them a seat user's),
    posted to a local webhook."""
    folder = tmp_path_factory.mktemp("kept")
    budgets = folder / "budgets.yaml"
    seat_user = sim.world.by_slug("acme-enterprise").users[0].id
    budgets.write_text(
        "budgets:\n"
        "  - {name: tiny, scope: {organization: acme-console}, period: month, amount_usd: '1', "
        "effective_from: 2026-11-01}\n"
        f"  - {{name: seat, scope: {{organization: acme-enterprise, user: {seat_user}}}, period: month, "
        "amount_usd: '1', effective_from: 2026-11-01}\n",
        encoding="utf-8",
    )
    with serve(Receiver()) as hook, mock.patch.dict(os.environ, {HOOK_ENV: hook.url}):
        alerts = AlertsConfig(webhooks=(Webhook(name="ops", url_env=HOOK_ENV),), backoff_seconds=0.01)
        world = run_world(
            sim,
            folder,
            START,
            END,
            PrivacySettings(pseudonymize=True),
            more={"budgets_file": budgets, "alerts": alerts},
        )
        return Kept(world, [r.body for r in hook.delivered])


@pytest.fixture(scope="module")
def both(sim, tmp_path_factory):
    """Pseudonymization on and raw_emails: pseudonymize (no email stored anywhere)."""
    privacy = PrivacySettings(pseudonymize=True, raw_emails="pseudonymize")
    return run_world(sim, tmp_path_factory.mktemp("both"), START, END, privacy)


def _scan(sim, world, schemas) -> Scan:
    scan = Scan.of(needles(sim))
    scan.warehouse(world.warehouse, schemas)
    scan.events(world.instance)
    scan.files(world.folder / "exports")
    for body in getattr(world, "posted", []):
        scan.text("webhook", json.dumps(body))
    return scan


def test_the_runs_succeed_and_reach_every_layer(kept, both):
    for world in (kept, both):
        assert all(r.success for r in world.results)
        with duckdb.connect(str(world.warehouse), read_only=True) as con:
            schemas = {
                r[0]
                for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()
            }
            assert {"raw", "inventory", "facts", "insights", "exports"} <= schemas
            # the scans below look at real people: Claude Code user actors reached facts.usage
            assert len(con.execute(USER_ACTORS).fetchall()) >= 5
        assert list((world.folder / "exports").rglob("*.csv"))


def test_no_email_or_name_below_raw_in_the_warehouse_the_event_store_or_the_exports(sim, kept):
    with duckdb.connect(str(kept.warehouse), read_only=True) as con:
        # the insights the scan reads are there: budget verdicts and the alerts posted for them
        assert con.execute("SELECT count(*) FROM insights.budget_status").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM insights.alert_log").fetchone()[0] > 0
    assert kept.posted
    scan = _scan(sim, kept, BELOW_RAW)
    assert scan.places > 100
    assert scan.found == []


def test_raw_keeps_what_the_api_said_by_default(sim, kept):
    scan = Scan.of(needles(sim))
    scan.warehouse(kept.warehouse, ("raw", "inventory"))
    tables = {place.rsplit(".", 1)[0] for place, _ in scan.found}
    assert {
        "raw.claude_code_usage",
        "raw.enterprise_user_cost",
        "inventory.users",
        "inventory.invites",
    } <= tables


def test_with_raw_emails_pseudonymized_no_email_or_name_is_stored_anywhere(sim, both):
    scan = _scan(sim, both, ("raw", "inventory", *BELOW_RAW))
    assert scan.places > 200
    assert scan.found == []


def test_the_same_person_has_the_same_pseudonym_in_two_runs_and_in_raw(kept, both):
    with duckdb.connect(str(kept.warehouse), read_only=True) as a, duckdb.connect(str(both.warehouse)) as b:
        first, second = a.execute(USER_ACTORS).fetchall(), b.execute(USER_ACTORS).fetchall()
        in_raw = b.execute(
            "SELECT DISTINCT org_id, actor_id FROM raw.claude_code_model_usage WHERE actor_type = 'user_actor' "
            "ORDER BY ALL"
        ).fetchall()
        emails = a.execute(
            "SELECT DISTINCT org_id, actor_id FROM raw.claude_code_model_usage WHERE actor_type = 'user_actor' "
            "ORDER BY ALL"
        ).fetchall()
    assert first == second
    assert set(first) == set(in_raw)
    # and each is the keyed hash of the email the API gave (an independent HMAC, not the module's)
    import hashlib
    import hmac

    expected = {
        (org, "u_" + hmac.new(SECRET.encode(), email.lower().encode(), hashlib.sha256).hexdigest())
        for org, email in emails
    }
    assert set(first) == expected


def test_another_secret_changes_every_pseudonym(kept, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    copy.write_bytes(kept.warehouse.read_bytes())
    with duckdb.connect(str(copy)) as con:
        before = con.execute(USER_ACTORS).fetchall()
        with mock.patch.dict(os.environ, {PSEUDONYM_KEY_ENV: OTHER_SECRET}):
            pseudonyms = Pseudonyms.of(kept.config)
        rebuild_usage(con, START, END, pseudonyms)
        after = con.execute(USER_ACTORS).fetchall()
    assert len(after) == len(before) > 0
    assert not {a for _, a in after} & {b for _, b in before}

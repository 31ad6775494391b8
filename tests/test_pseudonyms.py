"""Pseudonyms: the configuration switch and its secret, the keyed hash, the SQL function and the masking of raw
rows (claude_assets.privacy.pseudonyms)."""

from __future__ import annotations

import hashlib
import hmac
import json

import duckdb
import pandas as pd
import pytest

from claude_assets.config import (
    PSEUDONYM_KEY_ENV,
    ConfigError,
    OrgConfig,
    PrivacySettings,
    ProjectConfig,
    load_file,
)
from claude_assets.ingest.console.tables import CLAUDE_CODE_USAGE
from claude_assets.ingest.enterprise_reports.tables import ANALYTICS_USAGE, ENTERPRISE_USER_COST
from claude_assets.inventory.tables import USERS_TABLE, WORKSPACES_TABLE
from claude_assets.privacy.pseudonyms import Pseudonyms, render_user

SECRET = "s" * 20 + "0123456789abcdef"
ENV = {PSEUDONYM_KEY_ENV: SECRET}


def _config(privacy: dict | None = None, **org) -> ProjectConfig:
    return ProjectConfig(
        organizations=(
            OrgConfig(slug="acme", kind="console", key_env="ACME_KEY", **org),
            OrgConfig(slug="globex", kind="enterprise", key_env="GLOBEX_KEY"),
        ),
        privacy=PrivacySettings(**(privacy or {})),
    )


def _hmac(value: str, secret: str = SECRET) -> str:
    return "u_" + hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def test_off_by_default_needs_no_secret_and_changes_nothing():
    pseudonyms = Pseudonyms.of(_config(), environ={})
    assert pseudonyms.orgs == frozenset()
    assert pseudonyms.user("acme", "rosa.lopez@acme.example") == "rosa.lopez@acme.example"


def test_the_pseudonym_is_hmac_sha256_of_the_trimmed_lower_cased_value():
    pseudonyms = Pseudonyms.of(_config({"pseudonymize": True}), environ=ENV)
    assert pseudonyms.user("acme", "rosa.lopez@acme.example") == _hmac("rosa.lopez@acme.example")
    assert pseudonyms.user("acme", " Rosa.Lopez@ACME.example ") == _hmac("rosa.lopez@acme.example")
    assert pseudonyms.user("globex", "Rosa Lopez") == _hmac("rosa lopez")
    assert pseudonyms.user("acme", None) is None
    # a value that is already a pseudonym (raw stored it) stays itself: never hashed twice
    once = pseudonyms.user("acme", "a@b.example")
    assert pseudonyms.user("acme", once) == once


def test_another_secret_gives_another_pseudonym():
    a = Pseudonyms.of(_config({"pseudonymize": True}), environ=ENV)
    b = Pseudonyms.of(_config({"pseudonymize": True}), environ={PSEUDONYM_KEY_ENV: SECRET[::-1]})
    assert a.user("acme", "a@b.example") != b.user("acme", "a@b.example")


def test_one_organization_may_be_pseudonymized_alone_or_left_out():
    alone = Pseudonyms.of(_config(pseudonymize=True), environ=ENV)
    assert alone.orgs == {"acme"}
    assert alone.user("globex", "a@b.example") == "a@b.example"
    left_out = Pseudonyms.of(_config({"pseudonymize": True}, pseudonymize=False), environ=ENV)
    assert left_out.orgs == {"globex"}


@pytest.mark.bad_input
@pytest.mark.parametrize("environ", [{}, {PSEUDONYM_KEY_ENV: "   "}, {PSEUDONYM_KEY_ENV: "short-secret"}])
def test_pseudonymization_without_a_long_enough_secret_is_a_config_error_naming_the_variable(environ):
    with pytest.raises(ConfigError) as exc:
        Pseudonyms.of(_config({"pseudonymize": True}), environ=environ)
    message = str(exc.value)
    assert PSEUDONYM_KEY_ENV in message and "acme" in message and "at least 32" in message
    assert "short-secret" not in message


def test_the_secret_never_shows_in_repr_or_in_errors(monkeypatch):
    pseudonyms = Pseudonyms.of(_config({"pseudonymize": True}), environ=ENV)
    assert SECRET not in repr(pseudonyms) and SECRET not in str(pseudonyms)
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, SECRET)
    assert render_user(_config({"pseudonymize": True}), "acme", "a@b.example") == _hmac("a@b.example")


@pytest.mark.bad_input
def test_raw_emails_pseudonymized_without_pseudonymization_is_refused():
    with pytest.raises(ValueError, match="needs pseudonymization on"):
        _config({"raw_emails": "pseudonymize"})


@pytest.mark.bad_input
def test_the_file_refuses_an_unknown_privacy_option_with_its_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "organizations:\n  - {slug: acme, kind: console, key_env: K}\nprivacy:\n  pseudonymise: true\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"c.yaml:4: privacy.pseudonymise"):
        load_file(path)


def test_the_file_reads_the_switches_and_the_limits(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "organizations:\n  - {slug: acme, kind: console, key_env: K, pseudonymize: true}\n"
        "privacy:\n  raw_emails: pseudonymize\n  retention_months: {raw: 13, facts: 25}\n",
        encoding="utf-8",
    )
    config = load_file(path)
    assert config.pseudonymized_orgs == {"acme"}
    assert (config.privacy.retention_months.raw, config.privacy.retention_months.facts) == (13, 25)
    assert config.privacy.retention_months.insights is None


def test_the_sql_function_is_the_same_pseudonym():
    pseudonyms = Pseudonyms.of(_config({"pseudonymize": True}, pseudonymize=False), environ=ENV)
    with duckdb.connect() as con:
        pseudonyms.register(con)
        pseudonyms.register(con)  # again on the same connection (a second day range)
        got = con.execute(
            "SELECT pseudonym('globex', 'A@B.example'), pseudonym('acme', 'a@b.example'), pseudonym('globex', NULL)"
        ).fetchone()
    assert got == (_hmac("a@b.example"), "a@b.example", None)


def test_masking_replaces_emails_and_names_only_of_user_actors_and_people():
    pseudonyms = Pseudonyms.of(_config({"pseudonymize": True}), environ=ENV)
    code = pd.DataFrame(
        {
            "org_id": ["acme", "acme"],
            "actor_type": ["user_actor", "api_actor"],
            "actor_id": ["rosa@acme.example", "etl-key"],
            "email_address": ["rosa@acme.example", None],
        }
    )
    masked = pseudonyms.mask(CLAUDE_CODE_USAGE, code)
    assert masked["actor_id"].tolist() == [_hmac("rosa@acme.example"), "etl-key"]  # a key's name is no person
    assert masked["email_address"].tolist() == [_hmac("rosa@acme.example"), None]
    assert code["actor_id"][0] == "rosa@acme.example"  # the frame given is left as it was
    users = pd.DataFrame(
        {"org_id": ["acme"], "user_id": ["user_1"], "email": ["r@a.example"], "name": ["Rosa L"]}
    )
    masked = pseudonyms.mask(USERS_TABLE, users)
    assert masked.iloc[0].tolist() == [
        "acme",
        "user_1",
        _hmac("r@a.example"),
        _hmac("rosa l"),
    ]  # the id stays
    # a workspace's name is not a person's
    spaces = pd.DataFrame({"org_id": ["acme"], "workspace_id": ["w"], "name": ["Data Science"]})
    assert pseudonyms.mask(WORKSPACES_TABLE, spaces)["name"].tolist() == ["Data Science"]


def test_masking_reaches_into_an_actor_object():
    pseudonyms = Pseudonyms.of(_config({"pseudonymize": True}), environ=ENV)
    actor = json.dumps({"type": "user_actor", "email_address": "r@a.example", "user_id": "user_1"})
    frame = pd.DataFrame({"org_id": ["globex"], "actor": [actor], "actor_name": ["Rosa L"]})
    masked = pseudonyms.mask(ANALYTICS_USAGE, frame)
    assert json.loads(masked["actor"][0]) == {
        "type": "user_actor",
        "email_address": _hmac("r@a.example"),
        "user_id": "user_1",
    }
    assert masked["actor_name"][0] == _hmac("rosa l")


def test_raw_rows_keep_the_email_unless_raw_emails_is_pseudonymize():
    frame = pd.DataFrame({"org_id": ["globex"], "user_id": ["user_1"], "email": ["r@a.example"]})
    kept = Pseudonyms.of(_config({"pseudonymize": True}), environ=ENV)
    assert kept.for_raw(ENTERPRISE_USER_COST, frame)["email"][0] == "r@a.example"
    assert (
        kept.record_for_raw(USERS_TABLE, {"org_id": "acme", "email": "r@a.example"})["email"] == "r@a.example"
    )
    dropped = Pseudonyms.of(_config({"pseudonymize": True, "raw_emails": "pseudonymize"}), environ=ENV)
    assert dropped.for_raw(ENTERPRISE_USER_COST, frame)["email"][0] == _hmac("r@a.example")
    record = dropped.record_for_raw(
        USERS_TABLE, {"org_id": "acme", "user_id": "user_1", "email": "r@a.example"}
    )
    assert record == {"org_id": "acme", "user_id": "user_1", "email": _hmac("r@a.example")}


def test_a_refused_window_reports_its_emails_as_pseudonyms():
    pseudonyms = Pseudonyms.of(_config({"pseudonymize": True}), environ=ENV)
    failures = pd.DataFrame(
        {
            "column": ["email", "user_deleted"],
            "check": ["str_length", "not_nullable"],
            "failure_case": ["r@a.example", None],
        }
    )
    masked = pseudonyms.mask_failures(ENTERPRISE_USER_COST, "globex", failures)
    assert masked["failure_case"].tolist() == [_hmac("r@a.example"), None]
    off = Pseudonyms.of(_config({"pseudonymize": True}, pseudonymize=False), environ=ENV)
    assert off.mask_failures(ENTERPRISE_USER_COST, "acme", failures)["failure_case"][0] == "r@a.example"

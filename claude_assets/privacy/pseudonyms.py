"""Pseudonyms: a person's email or name as a keyed hash, below the raw layer (docs/privacy.md).

With ``privacy.pseudonymize`` on (or an organization's own ``pseudonymize``), every email and name that leaves
the raw layer (facts, insights, exports, alert payloads, UI metadata and previews) is
``u_`` + HMAC-SHA256(secret, the value trimmed and case-folded), in hex. The secret is read from
``$CLAUDE_ASSETS_PSEUDONYM_KEY``, never from the configuration file. The same person has the same pseudonym in
every run and organization (joins and trends still work); without the secret a pseudonym cannot be turned back
into an email, nor an email into its pseudonym. ``privacy.raw_emails: pseudonymize`` stores the pseudonym in
the raw and inventory tables too, so the user's identity (the same pseudonym everywhere) stays without the email.

One object, :class:`Pseudonyms`, answers for every layer:

- :func:`render_user` (or ``Pseudonyms.user``): what to show or store below raw for a person's email or name;
- ``Pseudonyms.register``: the same as the DuckDB function ``pseudonym(org_id, value)`` for SQL;
- ``Pseudonyms.mask``: a frame of raw or inventory rows (a preview, or the rows about to be written) with its
  email and name columns (``Column.personal``) replaced.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from claude_assets.config import PSEUDONYM_KEY_ENV, ConfigError, ProjectConfig
from claude_assets.warehouse.contract import EMAIL, PERSON_NAME, Table

PREFIX = "u_"
#: the shortest secret accepted (characters): 32 random characters are about 190 bits of a base64 alphabet
MIN_KEY_CHARS = 32
#: the SQL function that pseudonymizes: ``pseudonym(org_id, value)``
SQL_FUNCTION = "pseudonym"
#: the kinds of personal data that become pseudonyms (user ids are the API's opaque ids, kept as they are)
PSEUDONYMIZED = (EMAIL, PERSON_NAME)
#: in a JSON column holding a person (an actor object), the fields that are an email or a name
_PERSON_FIELDS = frozenset({"email", "email_address", "name", "user_name"})
#: a column that holds an email only on the rows of a user actor (else an API key's name)
_USER_ACTOR_ONLY = {"actor_id": ("actor_type", "user_actor")}
_IS_PSEUDONYM = re.compile(r"^u_[0-9a-f]{64}$")


@dataclass(frozen=True)
class Pseudonyms:
    """Which organizations are pseudonymized (``orgs``), which store pseudonyms in raw too (``raw_orgs``), and
    the secret (never shown: ``repr`` leaves it out)."""

    orgs: frozenset[str] = frozenset()
    raw_orgs: frozenset[str] = frozenset()
    _key: bytes = field(default=b"", repr=False)

    @classmethod
    def of(cls, config: ProjectConfig, environ: Mapping[str, str] | None = None) -> Pseudonyms:
        """The configuration's pseudonyms. With pseudonymization on for any organization, the secret must be in
        ``$CLAUDE_ASSETS_PSEUDONYM_KEY`` (at least ``MIN_KEY_CHARS`` characters), else ``ConfigError``."""
        orgs = config.pseudonymized_orgs
        if not orgs:
            return cls()
        secret = (os.environ if environ is None else environ).get(PSEUDONYM_KEY_ENV, "").strip()
        if len(secret) < MIN_KEY_CHARS:
            state = "is not set" if not secret else f"holds {len(secret)} characters"
            raise ConfigError(
                f"pseudonymization is on for {', '.join(sorted(orgs))} (privacy.pseudonymize), but the environment "
                f"variable {PSEUDONYM_KEY_ENV} {state}: set it to a secret of at least {MIN_KEY_CHARS} random "
                "characters (e.g. `openssl rand -base64 48`), the same in every run (a new secret gives every "
                "person a new pseudonym), and never in the configuration file"
            )
        raw = orgs if config.privacy.raw_emails == "pseudonymize" else frozenset()
        return cls(frozenset(orgs), frozenset(raw), secret.encode())

    def pseudonym(self, value: str) -> str:
        """``u_`` + HMAC-SHA256 of the value trimmed and case-folded; a pseudonym stays itself (raw may hold one)."""
        if _IS_PSEUDONYM.match(value):
            return value
        digest = hmac.new(self._key, value.strip().casefold().encode(), hashlib.sha256).hexdigest()
        return PREFIX + digest

    def user(self, org_id: str, value: str | None) -> str | None:
        """A person's email or name of organization ``org_id`` as it may be shown or stored below raw: its
        pseudonym when the organization is pseudonymized, else the value itself."""
        if value is None or org_id not in self.orgs:
            return value
        return self.pseudonym(value)

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """``pseudonym(org_id, value)`` on ``con``: ``user`` as a SQL function (NULL stays NULL)."""
        with suppress(duckdb.InvalidInputException):  # not registered on this connection yet
            con.remove_function(SQL_FUNCTION)
        con.create_function(SQL_FUNCTION, self.user, ["VARCHAR", "VARCHAR"], "VARCHAR", side_effects=False)

    def mask(self, table: Table, frame: pd.DataFrame, *, only: frozenset[str] | None = None) -> pd.DataFrame:
        """``frame`` (rows of ``table``, a raw or inventory table, with ``org_id``) with the emails and names of
        the pseudonymized organizations (``only``: of these organizations) replaced by their pseudonyms."""
        orgs = self.orgs if only is None else self.orgs & only
        columns = [c for c in table.personal_columns if c.personal in PSEUDONYMIZED and c.name in frame]
        if not orgs or not columns or not len(frame) or "org_id" not in frame:
            return frame
        out = frame.copy()
        rows = out["org_id"].isin(orgs)
        for column in columns:
            gate = _USER_ACTOR_ONLY.get(column.name)
            chosen = rows & (out[gate[0]] == gate[1]) if gate and gate[0] in out else rows
            one = self._json if column.type == "JSON" else self._text
            out[column.name] = out[column.name].astype(object)
            out.loc[chosen, column.name] = out.loc[chosen, column.name].map(one)
        return out

    def for_raw(self, table: Table, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows about to be written to a raw or inventory table: pseudonyms for the organizations whose raw
        rows hold no email (``privacy.raw_emails: pseudonymize``), what the API said for the others."""
        return self.mask(table, frame, only=self.raw_orgs)

    def mask_failures(self, table: Table, org_id: str, failures: pd.DataFrame) -> pd.DataFrame:
        """Pandera failure cases of ``table``'s rows of ``org_id`` (columns ``column``, ``failure_case``) with
        the values of its email and name columns replaced, so a refused window reports no person."""
        columns = {c.name for c in table.personal_columns if c.personal in PSEUDONYMIZED}
        if org_id not in self.orgs or not columns or not {"column", "failure_case"} <= set(failures.columns):
            return failures
        out = failures.copy()
        chosen = out["column"].isin(columns)
        out["failure_case"] = out["failure_case"].astype(object)
        out.loc[chosen, "failure_case"] = out.loc[chosen, "failure_case"].map(self._text)
        return out

    def record_for_raw(self, table: Table, record: dict) -> dict:
        """One row (a dict with ``org_id``) about to be staged for a raw or inventory table, as ``for_raw``
        stages a frame: with pseudonyms when its organization stores no email in raw."""
        if record.get("org_id") not in self.raw_orgs:
            return record
        out = dict(record)
        for column in table.personal_columns:
            if column.personal not in PSEUDONYMIZED or column.name not in out:
                continue
            gate = _USER_ACTOR_ONLY.get(column.name)
            if gate and gate[0] in out and out[gate[0]] != gate[1]:
                continue
            value = out[column.name]
            out[column.name] = (
                self._in_object(value) if isinstance(value, dict | list) else self._one(column, value)
            )
        return out

    def _one(self, column, value: object) -> object:
        return self._json(value) if column.type == "JSON" else self._text(value)

    def _text(self, value: object) -> object:
        return self.pseudonym(value) if isinstance(value, str) and value else value

    def _json(self, value: object) -> object:
        if not isinstance(value, str) or not value:
            return value
        return json.dumps(self._in_object(json.loads(value)))

    def _in_object(self, value: object) -> object:
        if isinstance(value, dict):
            return {k: self._text(v) if k in _PERSON_FIELDS else self._in_object(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._in_object(v) for v in value]
        return value


def render_user(config: ProjectConfig, org_id: str, value: str | None) -> str | None:
    """The one way to show a person (email or name) of organization ``org_id`` below raw, e.g. in a preview:
    the pseudonym when the organization is pseudonymized, else the value. Raises ``ConfigError`` when
    pseudonymization is on and the secret is missing."""
    return Pseudonyms.of(config).user(org_id, value)

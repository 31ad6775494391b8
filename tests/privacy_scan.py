"""The demo world run through every asset with pseudonymization on, and a scanner that looks for the world's
emails and names in the warehouse, the Dagster event store and the exported files.

``run_world`` backfills every asset of the code location (raw, inventory, facts, exports, insights) over a few
days into a folder of its own, with its own Dagster instance; ``Needles`` are the emails and full names of
every member and invitee of the simulator's world; ``Scan`` says where any of them was found.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from unittest import mock

import dagster as dg
import duckdb
from dagster._serdes import serialize_value

from claude_assets.config import PSEUDONYM_KEY_ENV, PrivacySettings, ProjectConfig
from claude_assets.definitions import build_definitions
from demo.backfill import QUIET, backfill
from simulator.app import Simulator
from simulator.serve import serve_in_thread
from tests.raw_warehouse import key_env, raw_config

SECRET = "privacy-test-secret-" + "k" * 40
OTHER_SECRET = "privacy-test-other-secret-" + "z" * 40


def needles(sim: Simulator) -> list[str]:
    """Every email and full name of the world's members and invitees, in lower case."""
    found: set[str] = set()
    for org in sim.world.organizations:
        for user in org.users:
            found.update({user.email.lower(), user.name.lower()})
        for invite in org.invites:
            found.add(invite.email.lower())
    return sorted(found)


@dataclass
class Scan:
    """Where the needles were found: (place, what was found) pairs."""

    pattern: re.Pattern
    found: list[tuple[str, str]] = field(default_factory=list)
    places: int = 0

    @classmethod
    def of(cls, words: list[str]) -> Scan:
        return cls(re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))))

    def text(self, place: str, text: str) -> None:
        self.places += 1
        for match in self.pattern.finditer(text.lower()):
            self.found.append((place, match.group(0)))

    def warehouse(self, path: Path, schemas: tuple[str, ...]) -> None:
        """Every column (cast to text) of every table of ``schemas``."""
        with duckdb.connect(str(path), read_only=True) as con:
            tables = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                f"AND table_schema IN ({', '.join('?' for _ in schemas)}) ORDER BY ALL",
                list(schemas),
            ).fetchall()
            for schema, name in tables:
                columns = [
                    r[0]
                    for r in con.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
                        [schema, name],
                    ).fetchall()
                ]
                for column in columns:
                    values = con.execute(
                        f'SELECT string_agg(DISTINCT CAST("{column}" AS VARCHAR), chr(10)) FROM {schema}.{name}'
                    ).fetchone()[0]
                    self.text(f"{schema}.{name}.{column}", values or "")

    def events(self, instance: dg.DagsterInstance) -> None:
        """Every event of every run of the instance, serialized whole (metadata, log messages, errors)."""
        for run in instance.get_runs():
            for entry in instance.all_logs(run.run_id):
                self.text(f"event store, run {run.run_id[:8]}", serialize_value(entry))

    def files(self, folder: Path) -> None:
        """Every exported file: Parquet files column by column, the others as text."""
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            if path.suffix == ".parquet":
                with duckdb.connect() as con:
                    rows = con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()
                self.text(str(path), "\n".join(" ".join(map(str, r)) for r in rows))
            else:
                self.text(str(path), path.read_text(encoding="utf-8", errors="replace"))


@dataclass(frozen=True)
class World:
    folder: Path
    warehouse: Path
    instance: dg.DagsterInstance
    config: ProjectConfig
    results: list[dg.ExecuteInProcessResult]


def run_world(
    sim: Simulator,
    folder: Path,
    start: date,
    end: date,
    privacy: PrivacySettings,
    secret: str = SECRET,
    more: dict | None = None,
) -> World:
    """Every asset of the code location over [start, end), each organization of ``sim``, with ``privacy`` (and
    ``more`` configuration: budgets, alerts)."""
    warehouse = folder / "warehouse.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    with serve_in_thread(sim) as running:
        config = raw_config(sim, running.base_url).model_copy(update={"privacy": privacy, **(more or {})})
        keys = {key_env(o.slug): sim.world.by_slug(o.slug).api_key for o in config.organizations}
        with mock.patch.dict(os.environ, {**keys, PSEUDONYM_KEY_ENV: secret}):
            defs = build_definitions(config, str(warehouse))
            results = backfill(defs, start, end, instance=instance, run_config=QUIET)
    return World(folder, warehouse, instance, config, results)

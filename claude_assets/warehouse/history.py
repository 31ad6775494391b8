"""History tables (SCD type 2): one complete snapshot at a time moves each entity's versions forward."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from claude_assets.warehouse.contract import Table

VALIDITY = ("valid_from", "valid_to", "is_current")


class HistoryOrderError(ValueError):
    """A snapshot is older than (or as old as, for a change) the history it should extend."""


@dataclass(frozen=True)
class SnapshotChange:
    """What one snapshot did to a history table."""

    opened: int  # versions inserted (new entities and new versions of changed ones)
    closed: int  # versions given a valid_to (changed or vanished entities)


def canonical_hash(values: dict) -> str:
    """A stable digest of a record's tracked attributes (key order and JSON spacing do not matter)."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def apply_snapshot(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    *,
    keys: Sequence[str],
    scope: dict[str, object],
    frame: pd.DataFrame,
    at: datetime,
    born: str | None = None,
) -> SnapshotChange:
    """Make the history ``table`` agree with one complete snapshot taken at instant ``at`` (SCD type 2).

    ``table`` has the columns ``row_hash``, ``valid_from``, ``valid_to`` (null = open) and
    ``is_current``; ``frame`` holds every other column, one row per entity present at ``at``, and
    ``keys`` identify an entity (they include the ``scope`` columns, e.g. ``org_id``). Within the
    ``scope`` rows only:

    - an entity never seen before opens its first version at ``born`` (its own creation instant,
      a column of ``frame``) when that is earlier than ``at``, else at ``at``;
    - an entity seen before whose open version has another ``row_hash``: the open version is closed
      at ``at`` and a new one opens at ``at`` (so does an entity that comes back after it vanished);
    - an entity with an open version that is not in ``frame`` is closed at ``at``;
    - an unchanged entity is left alone, so re-applying the same snapshot changes nothing.

    It does not manage a transaction: call it inside one (with the other tables of the snapshot).
    Raises ``HistoryOrderError`` rather than write a version that would end before it starts.
    """
    keys = list(keys)
    validity = set(VALIDITY)
    columns = [c for c in table.columns if c.name not in validity]
    missing = {c.name for c in columns} - set(frame.columns)
    if missing:
        raise ValueError(f"{table.qualified}: snapshot frame lacks columns {sorted(missing)}")
    if not set(keys) >= set(scope) or not {"row_hash", *validity} <= set(table.column_names):
        raise ValueError(
            f"{table.qualified}: keys must include the scope, and the table must be a history table"
        )
    for col, value in scope.items():
        if len(frame) and not (frame[col] == value).all():
            raise ValueError(f"{table.qualified}: snapshot rows outside the scope {col} = {value!r}")
    if frame.duplicated(keys).any():
        dupes = frame.loc[frame.duplicated(keys, keep=False), keys].drop_duplicates().head(5)
        raise ValueError(
            f"{table.qualified}: the snapshot has several rows per entity, e.g. {dupes.to_dict('records')}"
        )
    in_scope = " AND ".join(f'"{c}" = ?' for c in scope)
    params = list(scope.values())

    def same_entity(a: str, b: str) -> str:
        return " AND ".join(f'{a}."{k}" = {b}."{k}"' for k in keys)

    latest = con.execute(
        f"SELECT max(greatest(valid_from, coalesce(valid_to, valid_from))) FROM {table.qualified} "
        f"WHERE {in_scope}",
        params,
    ).fetchall()[0][0]
    if latest is not None and latest > at:
        raise HistoryOrderError(
            f"{table.qualified} ({', '.join(f'{k} = {v}' for k, v in scope.items())}) already has a change at "
            f"{latest.isoformat()}, after this snapshot's time {at.isoformat()}: history only moves forward "
            "(is the API's clock, the Date header, behind the one of an earlier snapshot?)"
        )
    staged = frame[[c.name for c in columns]]
    con.register("_snapshot", staged)
    try:
        changed = f"""
            {" AND ".join(f't."{c}" = ?' for c in scope)} AND t.is_current AND NOT EXISTS (
              SELECT 1 FROM _snapshot s WHERE {same_entity("s", "t")} AND s.row_hash = t.row_hash)"""
        same_instant = con.execute(
            f"SELECT count(*) FROM {table.qualified} t WHERE {changed} AND t.valid_from >= ?", [*params, at]
        ).fetchall()[0][0]
        if same_instant:
            raise HistoryOrderError(
                f"{table.qualified}: {same_instant} version(s) opened at {at.isoformat()} changed again in a snapshot "
                "taken at the same instant; run the snapshot again once the API's clock has moved on"
            )
        closed = con.execute(
            f"UPDATE {table.qualified} AS t SET valid_to = ?, is_current = false WHERE {changed}",
            [at, *params],
        ).fetchall()[0][0]
        first_from = "?"
        first_params: list = []
        if born is not None:
            first_from = (
                f'CASE WHEN s."{born}" IS NOT NULL AND CAST(s."{born}" AS TIMESTAMPTZ) < ? AND NOT EXISTS ('
                f"SELECT 1 FROM {table.qualified} h WHERE {same_entity('h', 's')}) "
                f'THEN CAST(s."{born}" AS TIMESTAMPTZ) ELSE ? END'
            )
            first_params = [at]
        select = ", ".join(f'CAST(s."{c.name}" AS {c.type})' for c in columns)
        names = ", ".join(f'"{c.name}"' for c in columns)
        opened = con.execute(
            f"INSERT INTO {table.qualified} ({names}, valid_from, valid_to, is_current) "
            f"SELECT {select}, {first_from}, NULL, true FROM _snapshot s WHERE NOT EXISTS ("
            f"SELECT 1 FROM {table.qualified} c WHERE c.is_current AND {same_entity('c', 's')})",
            [*first_params, at],
        ).fetchall()[0][0]
    finally:
        with suppress(duckdb.Error):  # an aborted transaction refuses it; the original error matters
            con.unregister("_snapshot")
    return SnapshotChange(opened=int(opened), closed=int(closed))

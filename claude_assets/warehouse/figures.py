"""The figures a materialization shows of a table: each partition's own, and the run's labelled as the run's.

A run of a single-run backfill materializes many partitions at once, and Dagster copies the metadata of its
``MaterializeResult`` onto every partition's materialization (dagster-io/dagster#18123, #21072): without
care, the page of one day shows the whole run's rows and dollars. So:

- each partition's figures are read from the warehouse after the write (true even for a day the run did not
  change) and added with ``context.add_asset_metadata(..., partition_key=key)``, which Dagster merges over the
  run's metadata on that partition's event only (``attach``);
- figures of the whole run carry the ``run_`` prefix (``run_rows_written``, ``run_total_<column>``,
  ``run_requests``, ``run_retries``...), so no name of the run's reads as the partition's;
- ``dagster/row_count`` is the whole table's row count, which the UI shows as the asset's row count (it reads
  the latest materialization, whichever partition that is); ``dagster/partition_row_count`` is the
  partition's (both names are Dagster's ``TableMetadataSet``).

Money (the columns a table declares in ``Table.money``) is shown three ways under one name:
``total_<column>`` is text to the cent for people (``USD 1,234.57``), ``total_<column>_exact`` the exact
decimal the warehouse holds, ``total_<column>_float`` the same as a number, for the UI's plots over
partitions. A count column (``Table.counts``) is ``total_<column>``, an integer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import dagster as dg
import duckdb

from claude_assets.warehouse.contract import Table

#: the partition a figure belongs to: its day and, for a date x organization asset, its organization
Slot = tuple[date, str | None]
RUN = "run_"
CENT = Decimal("0.01")
#: rows shown in a "top by cost" table
TOP = 5
#: the columns a "top by cost" preview groups by, the first one a table has of each list
TOP_DIMENSIONS = {
    "top_models": ("model", "x_Model"),
    "top_workspaces": ("workspace_id",),
    "top_users": ("email", "actor_email", "user_id", "x_UserId", "actor_id"),
}


def usd(value: Decimal | float | int) -> str:
    """Money for people, to the cent: ``USD 34,601.18`` (half-up; the exact value is kept beside it)."""
    return f"USD {_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def money(name: str, value: Decimal | float | int | None) -> dict[str, dg.MetadataValue]:
    """One money figure under ``name``: text to the cent, ``<name>_exact`` and ``<name>_float`` (to plot)."""
    exact = _decimal(value or 0)
    return {
        name: dg.MetadataValue.text(usd(exact)),
        f"{name}_exact": dg.MetadataValue.text(str(exact)),
        f"{name}_float": dg.MetadataValue.float(float(exact)),
    }


def totals(table: Table, values: Mapping[str, object], prefix: str = "") -> dict[str, dg.MetadataValue]:
    """The declared money and count totals of ``table`` (``values`` by column) as metadata."""
    meta: dict[str, dg.MetadataValue] = {}
    for col in table.money:
        meta.update(money(f"{prefix}total_{col}", values.get(col)))
    for col in table.counts:
        meta[f"{prefix}total_{col}"] = dg.MetadataValue.int(int(values.get(col) or 0))
    return meta


def table_rows(con: duckdb.DuckDBPyConnection, table: Table) -> dict[str, dg.MetadataValue]:
    """The whole table's row count, the asset's headline (``dagster/row_count``)."""
    (n,) = con.execute(f"SELECT count(*) FROM {table.qualified}").fetchone()
    return {"dagster/row_count": dg.MetadataValue.int(int(n))}


def run_totals(
    con: duckdb.DuckDBPyConnection, table: Table, where: str, params: Sequence
) -> dict[str, dg.MetadataValue]:
    """The declared totals over the rows of ``where`` (the run's window), named as the run's."""
    summed = (*table.money, *table.counts)
    if not summed:
        return {}
    only = f" AND ({table.totals_where})" if table.totals_where else ""
    values = con.execute(
        f"SELECT {', '.join(f'coalesce(sum({c}), 0)' for c in summed)} FROM {table.qualified} "
        f"WHERE ({where}){only}",
        list(params),
    ).fetchone()
    return totals(table, dict(zip(summed, values, strict=True)), prefix=RUN)


def run_stats(stats: Mapping[str, object]) -> dict[str, object]:
    """The API client's counters of the run (requests, retries, pages...), named as the run's."""
    return {f"{RUN}{name}": value for name, value in stats.items()}


def as_run(meta: Mapping[str, object]) -> dict[str, object]:
    """A run's metadata named as the run's: every name gets the ``run_`` prefix (Dagster's
    ``dagster/row_count`` of the rows written becomes ``run_rows_written``; the column schema is kept as it
    is), and a money figure given as a number beside its ``<name>_exact`` text becomes ``money``'s three."""
    out: dict[str, object] = {}
    for name, value in meta.items():
        if name == "dagster/column_schema":
            out[name] = value
        elif name == "dagster/row_count":
            out[f"{RUN}rows_written"] = value
        elif name.endswith("_exact") and name.removesuffix("_exact") in meta:
            continue
        elif f"{name}_exact" in meta:
            exact = meta[f"{name}_exact"]
            out.update(money(_run(name), Decimal(str(getattr(exact, "value", exact)))))
        else:
            out[_run(name)] = value
    return out


def day_slots(keys: Sequence[str]) -> dict[str, Slot]:
    """The partitions of a date-only asset (keys ``YYYY-MM-DD``, a monthly partition's first day too)."""
    return {key: (date.fromisoformat(key), None) for key in keys}


def by_partition(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    slots: Mapping[str, Slot],
    day_column: str = "usage_date",
    with_totals: bool = True,
    person: Callable[[str, str], str] | None = None,
) -> dict[str, dict[str, dg.MetadataValue]]:
    """Each partition's own figures (rows, declared totals, top by cost), by partition key, read from the table.

    ``with_totals`` False: rows only, for a table whose money column adds nothing up (e.g. a waterfall's steps).
    ``person(org_id, value)``: how a user of a date x organization table is shown (the UI is below raw: the
    pseudonym of a pseudonymized organization's member); the later layers hold pseudonyms already.
    """
    if not slots:
        return {}
    by_org = any(org is not None for _, org in slots.values())
    keys = f"{day_column}, org_id" if by_org else day_column
    days = [day for day, _ in slots.values()]
    summed = (*table.money, *table.counts) if with_totals else ()
    only = f"({table.totals_where})" if table.totals_where else "TRUE"
    sums = "".join(f", coalesce(sum({c}) FILTER (WHERE {only}), 0)" for c in summed)
    found = {
        (r[0], r[1] if by_org else None): r[2 if by_org else 1 :]
        for r in con.execute(
            f"SELECT {keys}, count(*){sums} FROM {table.qualified} "
            f"WHERE {day_column} >= ? AND {day_column} <= ? GROUP BY ALL",
            [min(days), max(days)],
        ).fetchall()
    }
    tops = _tops(con, table, keys, by_org, day_column, min(days), max(days), person) if with_totals else {}
    out: dict[str, dict[str, dg.MetadataValue]] = {}
    for key, slot in slots.items():
        rows, *values = found.get(slot) or (0, *(0 for _ in summed))
        meta: dict[str, dg.MetadataValue] = {"dagster/partition_row_count": dg.MetadataValue.int(int(rows))}
        if with_totals:
            meta.update(totals(table, dict(zip(summed, values, strict=True))))
        for name, by_slot in tops.items():
            meta[name] = dg.MetadataValue.md(by_slot.get(slot, "(no cost this day)"))
        out[key] = meta
    return out


def attach(
    context: dg.AssetExecutionContext,
    table: Table,
    figures: Mapping[str, Mapping[str, dg.MetadataValue]],
    asset_key: dg.AssetKey | None = None,
) -> None:
    """Put each partition's figures on that partition's materialization only (of ``asset_key``, by default the
    table's asset). They override the run's metadata there: Dagster merges partition-scoped asset metadata
    over the run's on each partition's event, the documented answer to dagster-io/dagster#18123."""
    for key, meta in figures.items():
        context.add_asset_metadata(dict(meta), asset_key=asset_key or table.asset_key, partition_key=key)


def _tops(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    keys: str,
    by_org: bool,
    day_column: str,
    first: date,
    last: date,
    person: Callable[[str, str], str] | None = None,
) -> dict[str, dict[Slot, str]]:
    """Markdown tables of the largest cost per model, workspace and user of each partition, where the table
    has a money column and those columns (not for tables holding several groupings of the same money)."""
    if not table.money or table.totals_where:
        return {}
    cost = table.money[0]
    out: dict[str, dict[Slot, str]] = {}
    for name, candidates in TOP_DIMENSIONS.items():
        dim = next((c for c in candidates if c in table.column_names), None)
        if dim is None:
            continue
        rows = con.execute(
            f'SELECT {keys}, "{dim}", sum({cost}) AS slice_cost FROM {table.qualified} '
            f'WHERE {day_column} >= ? AND {day_column} <= ? GROUP BY {keys}, "{dim}" '
            f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY slice_cost DESC, "
            f'"{dim}" NULLS LAST) <= {TOP} ORDER BY {keys}, slice_cost DESC',
            [first, last],
        ).fetchall()
        lines: dict[Slot, list[str]] = {}
        for r in rows:
            slot = (r[0], r[1] if by_org else None)
            label, value = r[-2], r[-1]
            if name == "top_users" and by_org and person is not None and label is not None:
                label = person(r[1], label)
            lines.setdefault(slot, []).append(f"| {'(none)' if label is None else label} | {usd(value)} |")
        head = f"| {dim} | {cost} |\n|---|---:|\n"
        out[name] = {slot: head + "\n".join(body) for slot, body in lines.items()}
    return out


def _run(name: str) -> str:
    return name if name.startswith(RUN) else f"{RUN}{name}"


def _decimal(value: Decimal | float | int) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))

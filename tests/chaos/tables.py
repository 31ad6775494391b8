"""A warehouse against a clean one, table by table: identical rows, and no half-written window at any time.

Rows are compared as multisets (order-insensitive, duplicates counted) over every column but the per-run
lineage columns, ``LINEAGE_COLUMNS``. Export files are compared by rows the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from claude_assets.warehouse.identity import ORGANIZATION_IDENTITY

#: columns that say when or by which run a row was written (the API's answer time in raw, inventory and
#: facts tables and in the FOCUS export's ``x_FetchedAt``; the Dagster run in ``raw.ingest_log``; when an
#: organization's API id was pinned in ``raw.organization_identity``): every other column must be equal
LINEAGE_COLUMNS = ("fetched_at", "run_id", "x_FetchedAt", "pinned_at")
#: the schemas the pipeline writes
SCHEMAS = ("raw", "inventory", "facts", "exports")
INGEST_LOG = "raw.ingest_log"
CLEAN, OTHER = "clean_db", "other_db"  # catalog aliases that cannot shadow a schema name


@dataclass(frozen=True)
class TableDiff:
    table: str
    rows_clean: int
    rows_other: int
    only_clean: int  # rows of the clean table the other lacks (counted with multiplicity)
    only_other: int  # rows of the other table the clean one lacks
    columns: int  # columns compared

    @property
    def identical(self) -> bool:
        return self.only_clean == 0 and self.only_other == 0


@dataclass
class Comparison:
    tables: list[TableDiff] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # tables or files on one side only, other columns

    @property
    def identical(self) -> bool:
        return not self.problems and all(t.identical for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.rows_clean for t in self.tables)

    def differences(self) -> list[str]:
        return self.problems + [
            f"{t.table}: {t.only_clean} row(s) of the clean run missing, {t.only_other} row(s) not in it "
            f"({t.rows_other} vs {t.rows_clean} rows)"
            for t in self.tables
            if not t.identical
        ]


def _q(*parts: str) -> str:
    return ".".join(f'"{p}"' for p in parts)


def _connect(clean: Path, other: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"ATTACH '{clean}' AS {CLEAN} (READ_ONLY)")
    con.execute(f"ATTACH '{other}' AS {OTHER} (READ_ONLY)")
    return con


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[str]]:
    """``schema.table`` -> its columns, in order, for the pipeline's schemas."""
    rows = con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name IN (SELECT unnest(?)) ORDER BY schema_name, table_name, column_index",
        [catalog, list(SCHEMAS)],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for schema, table, column in rows:
        out.setdefault(f"{schema}.{table}", []).append(column)
    return out


def _compared(columns: Iterable[str]) -> list[str]:
    return [c for c in columns if c not in LINEAGE_COLUMNS]


def _select(catalog: str, table: str, columns: list[str]) -> str:
    return f"SELECT {', '.join(_q(c) for c in columns)} FROM {_q(catalog, *table.split('.'))}"


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    return con.execute(f"SELECT count(*) FROM ({sql})", params or []).fetchone()[0]


def compare(clean: Path, other: Path) -> Comparison:
    """Every table of the pipeline's schemas in both warehouses, and every export file beside them."""
    result = Comparison()
    with _connect(clean, other) as con:
        mine, theirs = _tables(con, CLEAN), _tables(con, OTHER)
        for name in sorted(set(mine) ^ set(theirs)):
            side = "clean" if name in mine else "other"
            result.problems.append(f"{name}: only in the {side} warehouse")
        for name in sorted(set(mine) & set(theirs)):
            columns = _compared(mine[name])
            if columns != _compared(theirs[name]):
                result.problems.append(f"{name}: other columns ({_compared(theirs[name])} vs {columns})")
                continue
            a, b = _select(CLEAN, name, columns), _select(OTHER, name, columns)
            result.tables.append(
                TableDiff(
                    name,
                    rows_clean=_count(con, a),
                    rows_other=_count(con, b),
                    only_clean=_count(con, f"{a} EXCEPT ALL {b}"),
                    only_other=_count(con, f"{b} EXCEPT ALL {a}"),
                    columns=len(columns),
                )
            )
        for diff in compare_files(con, clean.parent / "exports", other.parent / "exports", every=True):
            if isinstance(diff, str):
                result.problems.append(diff)
            else:
                result.tables.append(diff)
    return result


def _visible_files(root: Path) -> dict[str, Path]:
    """Files a reader sees: not hidden (a file being written is a hidden ``.name.partial`` until renamed)."""
    if not root.is_dir():
        return {}
    return {
        str(p.relative_to(root)): p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def _file_rows(path: Path) -> str:
    if path.suffix == ".parquet":
        return f"SELECT * FROM read_parquet('{path}')"
    return f"SELECT * FROM read_csv('{path}', all_varchar = true, header = true)"


def compare_files(
    con: duckdb.DuckDBPyConnection, clean: Path, other: Path, *, every: bool
) -> list[TableDiff | str]:
    """The export files under ``other`` against those under ``clean``, by rows (minus lineage columns).
    ``every``: a file of the clean run missing from ``other`` is a difference too."""
    mine, theirs = _visible_files(clean), _visible_files(other)
    out: list[TableDiff | str] = [
        f"exports/{n}: only in the other run" for n in sorted(set(theirs) - set(mine))
    ]
    if every:
        out += [f"exports/{n}: only in the clean run" for n in sorted(set(mine) - set(theirs))]
    for name in sorted(set(mine) & set(theirs)):
        if mine[name].suffix not in (".parquet", ".csv"):
            if mine[name].read_bytes() != theirs[name].read_bytes():
                out.append(f"exports/{name}: differs")
            continue
        a, b = _file_rows(mine[name]), _file_rows(theirs[name])
        columns = _compared(c for c, *_ in con.execute(f"DESCRIBE {a}").fetchall())
        a = f"SELECT {', '.join(_q(c) for c in columns)} FROM ({a})"
        b = f"SELECT {', '.join(_q(c) for c in columns)} FROM ({b})"
        out.append(
            TableDiff(
                f"exports/{name}",
                rows_clean=_count(con, a),
                rows_other=_count(con, b),
                only_clean=_count(con, f"{a} EXCEPT ALL {b}"),
                only_other=_count(con, f"{b} EXCEPT ALL {a}"),
                columns=len(columns),
            )
        )
    return out


def _units(columns: list[str], table: str) -> tuple[str, ...]:
    """What one transaction writes whole, by the table's columns: an organization's day of a raw table,
    a day of a derived table (rebuilt for every organization), an organization's inventory snapshot, or
    the whole table."""
    has = set(columns)
    if table == INGEST_LOG:
        return ("table_name", "org_id", "usage_date")  # each row is the record of one table's day
    if table == ORGANIZATION_IDENTITY.qualified:
        # each id form is pinned by the first write that sees it: the reports' org_... id and the engagement
        # endpoints' UUID come from different assets (and runs), so one may stand without the other
        return ORGANIZATION_IDENTITY.grain
    if table.startswith("raw.") and {"org_id", "usage_date"} <= has:
        return ("org_id", "usage_date")
    if "usage_date" in has:
        return ("usage_date",)
    if "org_id" in has:
        return ("org_id",)
    return ()


def half_written(clean: Path, other: Path, steps: Iterable[Iterable[str]] = ()) -> list[str]:
    """What a reader of ``other`` (a run stopped at any point) must never see, measured against the clean
    warehouse of the same range; an empty list when there is none:

    - a row the clean run does not have (or has fewer times);
    - a unit written in part: an organization's day of a raw table logged in ``raw.ingest_log`` (or
      holding rows) without all of the clean run's rows, a day of a derived table or an organization of
      an inventory table holding some of them but not all;
    - raw rows of a day the ingest log does not list;
    - tables written in one transaction (``steps``: e.g. the tables of one multi-asset) whose logged days
      differ;
    - a visible export file that differs from the clean run's.
    """
    problems: list[str] = []
    with _connect(clean, other) as con:
        mine, theirs = _tables(con, CLEAN), _tables(con, OTHER)
        log_present = INGEST_LOG in theirs
        logged: dict[str, set] = {}
        for name in sorted(theirs):
            if name not in mine:
                problems.append(f"{name}: a table the clean run does not have")
                continue
            columns = _compared(mine[name])
            if columns != _compared(theirs[name]):
                problems.append(f"{name}: other columns than the clean run's")
                continue
            a, b = _select(CLEAN, name, columns), _select(OTHER, name, columns)
            extra = _count(con, f"{b} EXCEPT ALL {a}")
            if extra:
                problems.append(f"{name}: {extra} row(s) the clean run does not have")
            units = _units(columns, name)
            if not units:
                if _count(con, b) and _count(con, f"{a} EXCEPT ALL {b}"):
                    problems.append(f"{name}: written in part")
                continue
            keys = ", ".join(_q(u) for u in units)
            written = f"SELECT DISTINCT {keys} FROM {_q(OTHER, *name.split('.'))}"
            if units == ("org_id", "usage_date") and name != INGEST_LOG and log_present:
                in_log = f"SELECT org_id, usage_date FROM {_q(OTHER, 'raw', 'ingest_log')} WHERE table_name = '{name}'"
                logged[name] = set(con.execute(in_log).fetchall())
                unlogged = _count(con, f"{written} EXCEPT {in_log}")
                if unlogged:
                    problems.append(
                        f"{name}: rows on {unlogged} organization-day(s) the ingest log does not list"
                    )
                written = f"{written} UNION {in_log}"
            match = " AND ".join(f"c.{_q(u)} IS NOT DISTINCT FROM w.{_q(u)}" for u in units)
            expected = (
                f"SELECT {', '.join('c.' + _q(c) for c in columns)} FROM {_q(CLEAN, *name.split('.'))} c "
                f"WHERE EXISTS (SELECT 1 FROM ({written}) w WHERE {match})"
            )
            missing = _count(con, f"{expected} EXCEPT ALL {b}")
            if missing:
                problems.append(
                    f"{name}: {missing} row(s) of the clean run missing from a unit ({', '.join(units)}) "
                    "that was written: a half-written window"
                )
        for tables in steps:
            days = {t: logged.get(t, set()) for t in tables}
            if any(days.values()) and len({frozenset(d) for d in days.values()}) > 1:
                counts = ", ".join(f"{t} {len(d)}" for t, d in days.items())
                problems.append(f"tables written together logged different organization-days: {counts}")
        for diff in compare_files(con, clean.parent / "exports", other.parent / "exports", every=False):
            if isinstance(diff, str):
                problems.append(diff)
            elif not diff.identical:
                problems.append(f"{diff.table}: a visible file that differs from the clean run's")
    return problems

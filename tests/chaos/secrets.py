"""The secrets scan: every key, and every 12-character run of it, looked for in everything a pipeline wrote.

What it reads, by what a file is:
- any file, as bytes (logs, compute logs, CSV exports, DuckDB write-ahead logs...);
- an SQLite database (Dagster's run, event and schedule storage), also row by row, since a long value is
  split across overflow pages on disk;
- a DuckDB database (the warehouse), also row by row with every column as text, since DuckDB compresses
  strings on disk;
- a Parquet file (the exports), also row by row, for the same reason.

A run of a key is secret unless it lies wholly inside the key's public prefix (``sk-ant-admin01-``,
``sk-ant-api01-``: the documented prefixes every message about keys names). The scan reports where it
found what (the source, which key, which characters of it), never the key itself.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

RUN = 12  # a run of this many characters of a key is a leak
BLOCK = RUN // 2  # every run holds a whole block of this many characters starting at a multiple of BLOCK
PUBLIC_PREFIX = re.compile(r"sk-ant-[a-z]+\d*-")
SQLITE_MAGIC = b"SQLite format 3\x00"
DUCKDB_MAGIC = b"DUCK"  # at offset 8


@dataclass(frozen=True)
class Finding:
    source: str  # what was read: a file (and how), or a named text
    key: str  # the key's label, never the key
    start: int  # the characters [start, end) of the key that were found
    end: int

    def __str__(self) -> str:
        return f"{self.source}: characters {self.start}..{self.end} of {self.key}"


@dataclass
class ScanReport:
    findings: list[Finding] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)  # source -> bytes (or characters) read
    markers: dict[str, set[str]] = field(default_factory=dict)  # marker -> sources that contain it

    @property
    def clean(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        total = sum(self.sources.values())
        return f"{len(self.sources)} sources, {total / 2**20:,.1f} MB read, {len(self.findings)} finding(s)"


class SecretScanner:
    """Looks for ``keys`` (label -> key) and every ``RUN``-character run of each in texts and files.

    ``markers`` are ordinary strings (an organization's slug, an asset's name) whose presence proves a
    source was really read: the report lists the sources holding each.
    """

    def __init__(self, keys: dict[str, str], markers: Iterable[str] = ()) -> None:
        if not keys:
            raise ValueError("no key to look for")
        self.keys = dict(keys)
        self.markers = list(markers)
        self._blocks: list[tuple[bytes, str, int]] = []  # (block, key label, its offset in the key)
        self._secret_from: dict[str, int] = {}  # key label -> first offset of a secret run
        for label, key in self.keys.items():
            if len(key) < RUN:
                raise ValueError(f"{label} is shorter than {RUN} characters")
            prefix = PUBLIC_PREFIX.match(key)
            # a run starting at i is secret when it ends beyond the public prefix
            self._secret_from[label] = max(0, (prefix.end() if prefix else 0) - RUN + 1)
            for offset in range(0, len(key) - BLOCK + 1, BLOCK):
                self._blocks.append((key[offset : offset + BLOCK].encode(), label, offset))

    def fragments(self, label: str) -> list[str]:
        """The key and its secret runs (what the scan looks for)."""
        key = self.keys[label]
        return [key] + [key[i : i + RUN] for i in range(self._secret_from[label], len(key) - RUN + 1)]

    # -- texts -----------------------------------------------------------------------------------------
    def scan_bytes(self, source: str, data: bytes, report: ScanReport) -> None:
        report.sources[source] = report.sources.get(source, 0) + len(data)
        for marker in self.markers:
            if marker.encode() in data:
                report.markers.setdefault(marker, set()).add(source)
        found: dict[str, tuple[int, int]] = {}
        for block, label, offset in self._blocks:
            key = self.keys[label].encode()
            at = data.find(block)
            while at != -1:
                # the runs holding this block start BLOCK - 1 characters before it at most
                for i in range(max(self._secret_from[label], offset - BLOCK + 1), offset + 1):
                    if i + RUN > len(key):
                        break
                    begin = at - (offset - i)
                    if begin >= 0 and data[begin : begin + RUN] == key[i : i + RUN]:
                        # report the whole run found, not just 12 characters of it
                        end = i + RUN
                        while (
                            end < len(key)
                            and begin + end - i < len(data)
                            and data[begin + end - i] == key[end]
                        ):
                            end += 1
                        while i > 0 and begin > 0 and data[begin - 1] == key[i - 1]:
                            i, begin = i - 1, begin - 1
                        s, e = found.get(label, (i, end))
                        found[label] = (min(s, i), max(e, end))
                        break
                at = data.find(block, at + 1)
        report.findings += [Finding(source, label, s, e) for label, (s, e) in found.items()]

    def scan_text(self, source: str, text: str, report: ScanReport | None = None) -> ScanReport:
        report = report if report is not None else ScanReport()
        self.scan_bytes(source, text.encode("utf-8", "surrogateescape"), report)
        return report

    # -- files -----------------------------------------------------------------------------------------
    def scan_paths(self, paths: Iterable[Path], report: ScanReport | None = None) -> ScanReport:
        """Every file under each path (a file or a folder), read as bytes and, by its kind, row by row."""
        report = report if report is not None else ScanReport()
        for path in paths:
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            for file in files:
                self.scan_file(file, report)
        return report

    def scan_file(self, path: Path, report: ScanReport) -> None:
        data = path.read_bytes()
        self.scan_bytes(str(path), data, report)
        if data.startswith(SQLITE_MAGIC):
            self.scan_bytes(f"{path} (rows)", "\n".join(_sqlite_rows(path)).encode(), report)
        elif data[8:12] == DUCKDB_MAGIC:
            self.scan_bytes(f"{path} (rows)", "\n".join(_duckdb_rows(path)).encode(), report)
        elif path.suffix == ".parquet":
            self.scan_bytes(f"{path} (rows)", "\n".join(_parquet_rows(path)).encode(), report)


def _sqlite_rows(path: Path) -> Iterator[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):
                yield repr(row)
    finally:
        con.close()


def _duckdb_rows(path: Path) -> Iterator[str]:
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{path}' AS scanned (READ_ONLY)")
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'scanned'"
        ).fetchall()
        for schema, table in tables:
            for row in con.execute(
                f'SELECT CAST(COLUMNS(*) AS VARCHAR) FROM scanned."{schema}"."{table}"'
            ).fetchall():
                yield repr(row)


def _parquet_rows(path: Path) -> Iterator[str]:
    with duckdb.connect() as con:
        for row in con.execute(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet('{path}')").fetchall():
            yield repr(row)

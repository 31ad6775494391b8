"""Metric revisions: a source announces that it revised a metric from a given day on, and the days pulled
before the revision took effect are stale, to be pulled again once.

The project ships the revisions it knows beside the source they concern (e.g.
``claude_assets/ingest/enterprise_engagement/metric_revisions.yaml``); a user adds others with the
configuration's ``metric_revisions_file``, read the same way and merged with the shipped ones::

    revisions:
      - id: web-search-count-2026-11-17       # names the revision in run keys, tags and metadata (unique)
        table: raw.enterprise_user_activity   # the raw table holding the metric
        columns: [web_search_count]           # the revised metric columns of that table
        first_day: 2026-11-17                 # the first UTC day the revised values cover
        effective_at: 2026-11-24T00:00:00Z    # from this instant (the API's clock) the source serves them
        last_day: 2026-12-31                  # optional: the last day covered (default: every later day)
        note: undercounted before the fix     # why: named in the re-pull's materialization
        source: https://...                   # optional: where the revision was announced

A day is stale when it is on or after ``first_day`` (and on or before ``last_day``) and its latest pull
(``raw.ingest_log``: the API's clock when known, else the local one) is before ``effective_at``: days
before ``first_day`` are not recounted by the source, and a pull after ``effective_at`` already has the
revised values. Every problem of a file names ``file:line: field`` and what to write instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

# the main configuration's YAML reading: dates kept as strings, lines of fields, duplicate keys, no keys
from claude_assets.config import ConfigError, _field, _line_of, read_yaml, validation_problems
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.writes import INGEST_LOG


class RevisionFileError(ConfigError):
    """A metric revisions file is invalid; the message names the file, line and field."""


class RevisionEntry(BaseModel):
    """One entry of a file: a table's metric columns, revised from ``first_day`` on, served from ``effective_at``."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$", description="lower-case letters, digits, . _ -")
    table: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$", description="a qualified table, e.g. raw.x")
    columns: tuple[str, ...] = Field(min_length=1)
    first_day: date
    effective_at: AwareDatetime
    last_day: date | None = None
    note: str = Field(min_length=1, max_length=500)
    source: str | None = None

    @model_validator(mode="after")
    def _days(self) -> RevisionEntry:
        if self.last_day is not None and self.last_day < self.first_day:
            raise ValueError(f"last_day {self.last_day} is before first_day {self.first_day}")
        return self

    def covers(self, day: date) -> bool:
        return day >= self.first_day and (self.last_day is None or day <= self.last_day)

    def describe(self) -> str:
        days = f"{self.first_day}" + (f" to {self.last_day}" if self.last_day else " on")
        return (
            f"{self.id}: {self.table} {', '.join(self.columns)} revised for days from {days}, served from "
            f"{self.effective_at.isoformat()}: {self.note}"
        )


class MetricRevision(RevisionEntry):
    """A declared revision and the file that declared it."""

    declared_in: str


class _RevisionFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    revisions: tuple[RevisionEntry, ...] = ()


def _fail(lines: list[str]) -> RevisionFileError:
    return RevisionFileError("invalid metric revisions file:\n  " + "\n  ".join(lines))


def read_revisions(path: str | Path, tables: Iterable[Table]) -> tuple[MetricRevision, ...]:
    """One file's revisions, each naming a declared table (of ``tables``) and columns of it."""
    path = Path(path)
    node, data = read_yaml(
        path,
        what="metric revisions file",
        top_level="a 'revisions' list",
        error=RevisionFileError,
        fail=_fail,
    )
    try:
        parsed = _RevisionFile.model_validate(data)
    except ValidationError as exc:
        raise _fail(validation_problems(path, node, exc)) from None
    known = {t.qualified: t for t in tables}
    problems = []
    for i, rev in enumerate(parsed.revisions):
        table = known.get(rev.table)
        if table is None:
            loc = ("revisions", i, "table")
            problems.append(
                f"{path}:{_line_of(node, loc)}: {_field(loc)}: no table {rev.table!r} is pulled by this "
                f"project; name one of: {', '.join(sorted(known))}"
            )
            continue
        for j, column in enumerate(rev.columns):
            if column not in table.column_names:
                loc = ("revisions", i, "columns", j)
                problems.append(
                    f"{path}:{_line_of(node, loc)}: {_field(loc)}: {rev.table} has no column {column!r} "
                    f"(DESCRIBE {rev.table} lists them)"
                )
    if problems:
        raise _fail(problems)
    return tuple(MetricRevision(**r.model_dump(), declared_in=str(path)) for r in parsed.revisions)


def load_revisions(paths: Sequence[str | Path], tables: Iterable[Table]) -> tuple[MetricRevision, ...]:
    """The revisions of every file, in order (the shipped ones first, then the user's); an id declared twice
    is an error naming both files."""
    tables = tuple(tables)
    out: dict[str, MetricRevision] = {}
    for path in paths:
        for rev in read_revisions(path, tables):
            if rev.id in out:
                raise RevisionFileError(
                    f"{path}: revision {rev.id!r} is already declared in {out[rev.id].declared_in}; "
                    "give the new one its own id"
                )
            out[rev.id] = rev
    return tuple(out.values())


def stale_days(
    con: duckdb.DuckDBPyConnection, revision: MetricRevision, now: datetime | None = None
) -> list[tuple[str, date, datetime]]:
    """(organization, day, pulled at) of every day of the revision's table whose latest pull is stale.

    ``now`` (the local clock): only once the revision is in effect by the API's clock (estimated per pull
    from the local one, as ``checks.provisional`` does), so a re-pull gets the revised values; None: every
    stale day whatever the time."""
    has_api_time = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? AND column_name = 'api_time'",
        [INGEST_LOG.schema, INGEST_LOG.name],
    ).fetchall()[0][0]
    pulled = "coalesce(api_time, fetched_at)" if has_api_time else "fetched_at"
    skew = "coalesce(fetched_at - api_time, INTERVAL 0 SECOND)" if has_api_time else "INTERVAL 0 SECOND"
    in_effect = f"AND CAST(? AS TIMESTAMPTZ) - {skew} >= CAST(? AS TIMESTAMPTZ)" if now else ""
    effective = revision.effective_at.isoformat()
    return con.execute(
        f"""SELECT org_id, usage_date, {pulled} AS pulled_at FROM {INGEST_LOG.qualified}
            WHERE table_name = ? AND usage_date >= ? AND usage_date <= coalesce(CAST(? AS DATE), usage_date)
              AND {pulled} < CAST(? AS TIMESTAMPTZ) {in_effect}
            ORDER BY org_id, usage_date""",
        [
            revision.table,
            revision.first_day,
            revision.last_day,
            effective,
            *((now.isoformat(), effective) if now else ()),
        ],
    ).fetchall()

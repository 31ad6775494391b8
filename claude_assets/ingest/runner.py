"""The loop every raw asset shares: run partitions -> API windows -> validate -> atomic write -> checks.

An asset supplies a *fetcher* (one organization, one API window -> staged frames) and the tables it
writes; the runner cuts the run's partitions into the API's largest windows, fetches them with
bounded concurrency under the organization's rate limit, validates each window with pandera before
anything is written, replaces each window in one transaction, then reports metadata and checks.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster_duckdb import DuckDBResource

from checks import window as window_checks
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.partitions import split, windows_by_org
from claude_assets.warehouse import Table, WindowWrite, write_windows
from resources.apis import _AnthropicApi
from resources.client import ApiClient, CallStats


@dataclass(frozen=True)
class Fetched:
    """One organization's window, staged: rows per table, the days the API answered for, and the request."""

    frames: dict[Table, pd.DataFrame]
    days: frozenset[date]
    source_request: str


Fetcher = Callable[[ApiClient, OrgConfig, date, date, CallStats], Fetched]


def describe_request(path: str, params: dict) -> str:
    return f"GET {path}?{urlencode(params, doseq=True)}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def extra_json(record: dict, known: set[str]) -> str | None:
    """Fields the API sent that the table has no column for: kept, never dropped."""
    extra = {k: v for k, v in record.items() if k not in known}
    return json.dumps(extra, sort_keys=True, default=str) if extra else None


def run_windows(context: dg.AssetExecutionContext, *, config: ProjectConfig, api: _AnthropicApi,
                duckdb: DuckDBResource, tables: list[Table], schemas: dict[Table, pa.DataFrameSchema],
                fetch: Fetcher, max_days: int) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    stats = CallStats()
    covered: dict[str, list[tuple[date, date]]] = {}
    skipped: dict[str, int] = {}
    rows: dict[Table, int] = defaultdict(int)
    for slug, spans in windows_by_org(context).items():
        org = config.get(slug)
        kept = [(max(s, org.history_start), e) for s, e in spans if e > org.history_start]
        skipped[slug] = sum((e - s).days for s, e in spans) - sum((e - s).days for s, e in kept)
        if not kept:
            continue
        covered[slug] = kept
        api_windows = [w for s, e in kept for w in split(s, e, max_days)]
        with api.client(org) as client:
            results = client.map(lambda w, c=client, o=org: (w, fetch(c, o, w[0], w[1], stats)), api_windows)
            for (start, end), fetched in results:
                for table, frame in fetched.frames.items():
                    try:
                        window_checks.validate(schemas[table], table, frame)
                    except window_checks.SchemaViolation as exc:
                        raise dg.Failure(description=f"{slug} {start}..{end}: {exc}", metadata={
                            "failure_cases": dg.MetadataValue.md(
                                exc.failures.head(50).to_markdown(index=False))}) from None
                with duckdb.get_connection() as con:
                    written = write_windows(con, WindowWrite(
                        org_id=slug, start=start, end=end, frames=fetched.frames, days=fetched.days,
                        source_request=fetched.source_request, fetched_at=now_iso(), run_id=context.run_id))
                for table, n in written.items():
                    rows[table] += n
                context.log.info(f"{slug} {start}..{end}: " + ", ".join(
                    f"{t.qualified} {n} rows" for t, n in written.items()))
    with duckdb.get_connection() as con:
        for table in tables:
            yield dg.MaterializeResult(asset_key=table.asset_key, metadata=_metadata(
                con, table, covered, rows[table], stats, skipped))
        for table in tables:
            if covered:
                yield from window_checks.results(con, table, covered, rows[table])
            else:
                yield from _nothing_to_check(table, skipped)


def _nothing_to_check(table: Table, skipped: dict[str, int]) -> list[dg.AssetCheckResult]:
    note = {"note": "every requested day is before the organizations' history_start", "skipped_days": skipped}
    return [dg.AssetCheckResult(asset_key=table.asset_key, check_name=s.name, passed=True, metadata=note)
            for s in window_checks.specs(table)]


def _metadata(con, table: Table, covered: dict[str, list[tuple[date, date]]], rows: int, stats: CallStats,
              skipped: dict[str, int]) -> dict:
    meta: dict = {
        "dagster/row_count": rows,
        "dagster/column_schema": table.dagster_schema(),
        "window": dg.MetadataValue.md("\n".join(
            f"- `{org}`: " + ", ".join(f"{s} → {e} ({(e - s).days} d)" for s, e in spans)
            for org, spans in covered.items()) or "nothing in range"),
        **{f"api_{k}": v for k, v in stats.as_dict().items()},
    }
    if any(skipped.values()):
        meta["skipped_days_before_history_start"] = {k: v for k, v in skipped.items() if v}
    if not covered:
        return meta
    where = " OR ".join("(org_id = ? AND usage_date >= ? AND usage_date < ?)" for spans in covered.values()
                        for _ in spans)
    params = [x for org, spans in covered.items() for s, e in spans for x in (org, s, e)]
    for col in table.money:
        total = con.execute(f'SELECT coalesce(sum("{col}"), 0) FROM {table.qualified} WHERE {where}', params).fetchone()[0]
        meta[f"total_{col}"] = dg.MetadataValue.float(float(total))  # for plotting; exact values stay in the table
        meta[f"total_{col}_exact"] = str(total)
    preview = con.execute(f"SELECT * EXCLUDE (extra, fetched_at, source_request) FROM {table.qualified} "
                          f"WHERE {where} ORDER BY ALL LIMIT 10", params).df()
    meta["preview"] = dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "(no rows)")
    return meta

"""Applying fetched inventory snapshots to the history tables, and what each run reports for them."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from checks import inventory as inventory_checks
from checks.window import SchemaViolation, validate
from claude_assets.config import ProjectConfig
from claude_assets.inventory.fetch import Snapshot, fetch_snapshot
from claude_assets.inventory.tables import ENTITIES, SCHEMAS, TABLES
from claude_assets.privacy.pseudonyms import Pseudonyms
from claude_assets.warehouse import figures, identity
from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.history import SnapshotChange, apply_snapshot
from claude_assets.warehouse.preflight import check_writable
from claude_assets.warehouse.writes import ensure, transaction
from resources.apis import ConsoleAdminApi
from resources.client import CallStats


def validate_snapshot(snapshot: Snapshot, pseudonyms: Pseudonyms | None = None) -> None:
    """Every staged table against its pandera schema; a failure fails the run and writes nothing (its emails and
    names shown as ``pseudonyms`` says)."""
    for table, frame in snapshot.frames.items():
        try:
            validate(SCHEMAS[table], table, frame)
        except SchemaViolation as found:
            masked = (pseudonyms or Pseudonyms()).mask_failures(table, snapshot.org_id, found.failures)
            exc = SchemaViolation(table, masked)
            raise dg.Failure(
                description=f"{snapshot.org_id}: {exc}",
                metadata={
                    "failure_cases": dg.MetadataValue.md(exc.failures.head(50).to_markdown(index=False))
                },
            ) from None


def write_snapshot(
    con, snapshot: Snapshot, guard: identity.WriteGuard | None = None
) -> dict[Table, SnapshotChange]:
    """Apply one organization's snapshot to every inventory table in one transaction (``guard`` runs first
    inside it: the organization check)."""
    for entity in ENTITIES:
        ensure(con, entity.table)
    with transaction(con):
        if guard is not None:
            guard(con, snapshot.frames)
        return {
            e.table: apply_snapshot(
                con,
                e.table,
                keys=e.keys,
                scope={"org_id": snapshot.org_id},
                frame=snapshot.frames[e.table],
                at=snapshot.at,
                born=e.born,
            )
            for e in ENTITIES
        }


def _metadata(
    con,
    table: Table,
    orgs: list[str],
    snapshots: list[Snapshot],
    changes: dict[str, SnapshotChange],
    stats: CallStats,
    pseudonyms: Pseudonyms,
) -> dict:
    """The run's figures, named as the run's, and the table's current rows (all organizations) as the
    asset's headline; each organization's own figures are ``_org_metadata``'s."""
    where = "org_id IN (" + ", ".join("?" for _ in orgs) + ")"
    (current,) = con.execute(f"SELECT count(*) FROM {table.qualified} WHERE is_current").fetchone()
    preview = con.execute(
        f"SELECT * EXCLUDE (extra, row_hash, fetched_at, source_request) FROM {table.qualified} "
        f"WHERE {where} AND is_current ORDER BY ALL LIMIT 10",
        orgs,
    ).df()
    preview = pseudonyms.mask(table, preview)  # the UI is below raw: no email or name of a pseudonymized org
    return {
        "dagster/row_count": int(current),
        "dagster/column_schema": table.dagster_schema(),
        "run_versions_opened": sum(c.opened for c in changes.values()),
        "run_versions_closed": sum(c.closed for c in changes.values()),
        "run_snapshot_at_by_org": {s.org_id: s.at.isoformat() for s in snapshots},
        **figures.run_stats(stats.as_dict()),
        "run_preview": dg.MetadataValue.md(
            preview.to_markdown(index=False) if len(preview) else "(no current rows)"
        ),
    }


def _org_metadata(con, table: Table, snapshot: Snapshot, change: SnapshotChange | None) -> dict:
    """One organization's (one partition's) own figures: its current rows, versions and snapshot instant."""
    current, total = con.execute(
        f"SELECT count(*) FILTER (WHERE is_current), count(*) FROM {table.qualified} WHERE org_id = ?",
        [snapshot.org_id],
    ).fetchone()
    return {
        "dagster/partition_row_count": int(current),
        "versions_total": int(total),
        "versions_opened": change.opened if change else 0,
        "versions_closed": change.closed if change else 0,
        "snapshot_at": dg.MetadataValue.timestamp(snapshot.at),
    }


def run_snapshots(
    context: dg.AssetExecutionContext, *, config: ProjectConfig, api: ConsoleAdminApi, duckdb: DuckDBResource
) -> list[dg.MaterializeResult | dg.AssetCheckResult]:
    check_writable(duckdb)  # before any request: a warehouse this run cannot write fails it now
    pseudonyms = Pseudonyms.of(config)  # pseudonymization on without its secret fails here too
    total = CallStats()
    snapshots: list[Snapshot] = []
    changes: dict[Table, dict[str, SnapshotChange]] = {t: {} for t in TABLES}
    for slug in sorted(set(context.partition_keys)):
        org = config.get(slug)
        stats = CallStats()
        with api.client(org) as client:
            snapshot = fetch_snapshot(client, org, stats, context.log, pseudonyms)
            guard = identity.guard(org, client.seen_organizations.ids, context.run.run_id)
        total.merge(stats)
        validate_snapshot(snapshot, pseudonyms)
        with duckdb.get_connection() as con:
            written = write_snapshot(con, snapshot, guard)
        snapshots.append(snapshot)
        for table, change in written.items():
            changes[table][slug] = change
        if snapshot.duplicates_dropped:
            context.log.warning(
                f"{slug}: {snapshot.duplicates_dropped} entities were listed twice (identical); kept once"
            )
        context.log.info(
            f"{slug} snapshot at {snapshot.at.isoformat()}: "
            + ", ".join(f"{t.name} +{c.opened}/-{c.closed}" for t, c in written.items())
        )
    orgs = [s.org_id for s in snapshots]
    out: list[dg.MaterializeResult | dg.AssetCheckResult] = []
    with duckdb.get_connection() as con:
        for table in TABLES:
            for snapshot in snapshots:
                context.add_asset_metadata(
                    _org_metadata(con, table, snapshot, changes[table].get(snapshot.org_id)),
                    asset_key=table.asset_key,
                    partition_key=snapshot.org_id,
                )
            out.append(
                dg.MaterializeResult(
                    asset_key=table.asset_key,
                    metadata=_metadata(con, table, orgs, snapshots, changes[table], total, pseudonyms),
                )
            )
        for entity in ENTITIES:
            frames = [s.frames[entity.table] for s in snapshots]
            keys = pd.concat(frames, ignore_index=True)[list(entity.keys)]
            out.extend(
                inventory_checks.results(
                    con,
                    entity.table,
                    entity.keys,
                    keys,
                    orgs,
                    sum(len(f) for f in frames),
                    entity.expect_rows,
                )
            )
    return out

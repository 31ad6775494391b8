"""``retention_job``: one op that applies ``privacy.retention_months`` to the whole warehouse, and its schedule.

A job, not an asset: it deletes from every table of the warehouse, which no asset owns, and it must not look
like a new materialization of those tables (that would wake the automation that follows them). What it did is
in ``raw.retention_log`` and in the op's output metadata (rows deleted per table, cutoffs, the log of the run).
Off by default: with no limit configured the op deletes nothing, and the schedule is stopped.
"""

from datetime import UTC, date, datetime

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from claude_assets.asset_defaults import WAREHOUSE_POOL
from claude_assets.config import RETENTION_FAMILIES, ProjectConfig
from claude_assets.privacy.retention import RETENTION_LOG, apply_retention

JOB_NAME = "retention_job"
SCHEDULE_NAME = "retention_daily"


class RetentionRun(dg.Config):
    as_of: str | None = None  # the day the limits count back from (ISO date); default: today, UTC


def retention_job(config: ProjectConfig) -> dg.JobDefinition:
    """The job deleting rows older than each family's limit, logging them in raw.retention_log."""
    months = config.privacy.retention_months

    @dg.op(
        name="apply_retention",
        description="Delete rows older than privacy.retention_months from every table, one transaction per "
        "table, logging them in raw.retention_log (docs/privacy.md).",
        pool=WAREHOUSE_POOL,
    )
    def _op(context: dg.OpExecutionContext, config: RetentionRun, duckdb: DuckDBResource) -> None:
        as_of = date.fromisoformat(config.as_of) if config.as_of else datetime.now(UTC).date()
        with duckdb.get_connection() as con:
            deleted, whole = apply_retention(con, months, as_of, context.run_id)
            log = con.execute(
                "SELECT table_name, org_id, CAST(min(usage_date) AS VARCHAR) AS first_day, "
                "CAST(max(usage_date) AS VARCHAR) AS last_day, count(*) AS days, "
                "sum(rows_deleted) AS rows_deleted, CAST(any_value(cutoff) AS VARCHAR) AS cutoff "
                f"FROM {RETENTION_LOG.qualified} WHERE run_id = ? GROUP BY ALL ORDER BY ALL",
                [context.run_id],
            ).df()
        for d in deleted:
            if d.rows:
                context.log.info(f"{d.table}: {d.rows} rows dated before {d.cutoff} deleted")
        context.add_output_metadata(
            {
                "as_of": as_of.isoformat(),
                "limits_months": {f: m for f in RETENTION_FAMILIES if (m := months.of(f))},
                "rows_deleted": dg.MetadataValue.int(sum(d.rows for d in deleted)),
                "rows_deleted_by_table": {d.table: d.rows for d in deleted},
                "kept_whole": ", ".join(whole) or "none",
                "retention_log": dg.MetadataValue.md(_markdown(log)),
            }
        )

    @dg.job(name=JOB_NAME, description=_op.description)
    def _job() -> None:
        _op()

    return _job


def retention_schedule(config: ProjectConfig, job: dg.JobDefinition) -> dg.ScheduleDefinition:
    """Daily at 03:00 UTC; running by default only when a limit is configured."""
    return dg.ScheduleDefinition(
        name=SCHEDULE_NAME,
        job=job,
        cron_schedule="0 3 * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING
        if config.privacy.retention_months.any
        else dg.DefaultScheduleStatus.STOPPED,
    )


def _markdown(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False) if len(frame) else "(nothing older than the limits)"

"""Dagster definition of the alerts: ``insights.alert_deliveries``, daily, downstream of the anomalies and
the budget status, with its check ``alerts_delivered``."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from claude_assets.asset_defaults import KINDS, WAREHOUSE_POOL
from claude_assets.config import ProjectConfig
from claude_assets.insights.alerts.deliver import Report, deliver
from claude_assets.insights.alerts.tables import ALERT_LOG, ANOMALIES_ASSET, BUDGET_STATUS_ASSET
from claude_assets.partitions import daily, day_ranges
from claude_assets.warehouse import figures
from claude_assets.warehouse.sql import table_exists

KEY = dg.AssetKey(["insights", "alert_deliveries"])
CHECK = "alerts_delivered"
GROUP = "insights"


def alerts_asset(config: ProjectConfig) -> dg.AssetsDefinition:
    """insights.alert_deliveries: each new anomaly and threshold crossing of its days posted once to every
    webhook of ``alerts:``; every request recorded in insights.alert_log."""
    settings = config.alerts

    @dg.asset(
        key=KEY,
        description=(
            "Posts each new anomaly (insights.cost_anomalies) and each new budget threshold crossing "
            "(insights.budget_crossings, written with insights.budget_status) of its days to the webhooks "
            "of the configuration's alerts:, once per alert and webhook, as a Slack-compatible message "
            "linking to the asset and partition in the UI; alerts that failed earlier are posted again. "
            "Every request is recorded in insights.alert_log. " + ALERT_LOG.description
        ),
        partitions_def=daily(config),
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=GROUP,
        kinds=KINDS | {"slack"},
        pool=WAREHOUSE_POOL,
        deps=[ANOMALIES_ASSET, BUDGET_STATUS_ASSET],
        metadata={
            "dagster/column_schema": ALERT_LOG.dagster_schema(),
            "dagster/table_name": ALERT_LOG.qualified,
            "webhooks": ", ".join(w.name for w in settings.webhooks) or "none",
        },
        check_specs=[
            dg.AssetCheckSpec(
                CHECK,
                asset=KEY,
                blocking=False,
                description="Every alert reached every webhook: fails while one is failed (it is posted "
                "again at the next materialization); warns for one left unknown (a request never answered "
                "because the process stopped: it is not posted again, see the README).",
            )
        ],
    )
    def alert_deliveries(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        report = deliver(duckdb.get_connection, day_ranges(context), settings, context.run.run_id)
        for key, dest, answer in report.failed:
            context.log.warning(f"alert {key} to webhook {dest}: not delivered ({_said(answer)})")
        with duckdb.get_connection() as con:
            meta = figures.as_run(metadata(report))
            if table_exists(con, ALERT_LOG.qualified):
                meta.update(figures.table_rows(con, ALERT_LOG))
                slots = figures.day_slots(context.partition_keys)
                by_day = figures.by_partition(con, ALERT_LOG, slots, "alert_day")
                figures.attach(context, ALERT_LOG, by_day, asset_key=KEY)
        yield dg.MaterializeResult(metadata=meta)
        yield check_result(report)

    return alert_deliveries


def metadata(report: Report) -> dict:
    """What the run posted, and what is still outstanding (webhooks by name and host only); the asset names
    them as the run's (``figures.as_run``), each day's own alerts are on its partition."""
    return {
        "alerts_of_these_days": dg.MetadataValue.int(report.alerts),
        "sent": dg.MetadataValue.int(len(report.sent)),
        "failed": dg.MetadataValue.int(len(report.failed)),
        "already_sent": dg.MetadataValue.int(report.already_sent),
        "held_unknown": dg.MetadataValue.int(report.held_unknown),
        "retried_from_earlier": dg.MetadataValue.int(report.retried_from_earlier),
        "webhooks": dg.MetadataValue.md(
            "\n".join(f"- {d.name}: {d.endpoint}" for d in report.destinations)
            or "none configured: nothing posted (alerts: webhooks in the configuration)"
        ),
        "outstanding": dg.MetadataValue.md(_outstanding_md(report)),
    }


def check_result(report: Report) -> dg.AssetCheckResult:
    failed = [o for o in report.outstanding if o.outcome == "failed"]
    unknown = [o for o in report.outstanding if o.outcome == "unknown"]
    return dg.AssetCheckResult(
        check_name=CHECK,
        passed=not report.outstanding,
        severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
        metadata={
            "failed": dg.MetadataValue.int(len(failed)),
            "unknown": dg.MetadataValue.int(len(unknown)),
            "outstanding": dg.MetadataValue.md(_outstanding_md(report)),
        },
    )


def _outstanding_md(report: Report, limit: int = 20) -> str:
    if not report.outstanding:
        return "none: every alert reached every webhook"
    lines = [
        "| alert | day | webhook | outcome | requests | last status | last answer |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in report.outstanding[:limit]:
        answer = (o.answer or "").replace("|", "\\|").replace("\n", " ")[:120]
        lines.append(
            f"| {o.alert_key} | {o.alert_day} | {o.destination} | {o.outcome} | {o.attempts} | "
            f"{o.http_status if o.http_status is not None else '-'} | {answer} |"
        )
    if len(report.outstanding) > limit:
        lines.append(f"\n… and {len(report.outstanding) - limit} more (insights.alert_log)")
    return "\n".join(lines)


def _said(answer) -> str:
    status = f"HTTP {answer.http_status}" if answer.http_status is not None else "no answer"
    return f"{status}: {answer.text[:200]}"

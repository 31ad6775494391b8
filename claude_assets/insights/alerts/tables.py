"""The tables of the alerts: the two they read (by the contract the anomalies and budgets packages
write them to) and the delivery log they write."""

from __future__ import annotations

import dagster as dg

from claude_assets.warehouse.contract import USER_ID, Table, col

#: the insights the alerts are raised from, and the assets that write them (their lineage upstream)
ANOMALIES = "insights.cost_anomalies"
CROSSINGS = "insights.budget_crossings"
ANOMALIES_ASSET = dg.AssetKey(["insights", "cost_anomalies"])
BUDGET_STATUS_ASSET = dg.AssetKey(["insights", "budget_status"])

KINDS_OF_ALERT = ("anomaly", "budget_crossing")
OUTCOMES = ("sent", "failed", "unknown")

ALERT_LOG = Table(
    schema="insights",
    name="alert_log",
    description=(
        "One row per request that posted an alert to a webhook: the alert (anomaly_id or crossing_id), the "
        "destination (its name, and its URL without the path), the payload, when, the HTTP answer and the "
        "outcome. The row is written before the request (outcome 'unknown') and completed after it: "
        "'sent' (a 2xx answer), 'failed' (any other answer, or none) or, when the process stopped in "
        "between, still 'unknown'. An alert with a 'sent' or 'unknown' row for a destination is never "
        "posted to it again; one whose rows are all 'failed' is posted again at the next materialization."
    ),
    columns=(
        col("alert_key", "VARCHAR", "anomaly:<anomaly_id> or budget_crossing:<crossing_id>", False),
        col("kind", "VARCHAR", "anomaly or budget_crossing", False),
        col(
            "alert_day", "DATE", "the anomaly's usage_date, or the day the threshold was first crossed", False
        ),
        col("destination", "VARCHAR", "the webhook's name in the configuration", False),
        col(
            "endpoint",
            "VARCHAR",
            "the webhook's URL without its path and query (they hold its secret)",
            False,
        ),
        col(
            "payload",
            "JSON",
            "the JSON body posted (Slack-compatible: text and blocks)",
            False,
            personal=USER_ID,
        ),
        col(
            "attempt",
            "INTEGER",
            "1 for the first request of this alert to this destination, then 2, 3...",
            False,
        ),
        col("sent_at", "TIMESTAMPTZ", "when the request was about to be sent (recorded before it)", False),
        col("answered_at", "TIMESTAMPTZ", "when the answer (or the error) came; null while unknown"),
        col("http_status", "INTEGER", "the HTTP status of the answer; null when none came"),
        col("answer", "VARCHAR", "the answer's body, or the error, truncated (and never showing the URL)"),
        col("outcome", "VARCHAR", "sent | failed | unknown (see the table's description)", False),
        col("run_id", "VARCHAR", "the Dagster run that posted it", False),
    ),
    grain=("alert_key", "destination", "attempt"),
)

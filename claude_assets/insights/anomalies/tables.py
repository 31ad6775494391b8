"""The anomaly table (schema ``insights``), declared once: DDL, Dagster column schema and pandera schema."""

from claude_assets.warehouse.contract import MONEY, ORG_ID, USER_ID, Table, col

MEASURES = ("cost_usd", "tokens")
SLICE_KINDS = ("total", "model", "workspace", "api_key", "user", "product")
SEVERITIES = ("low", "medium", "high")


def _figures(unit: str, type_: str, what: str) -> tuple:
    return (
        col(f"actual_{unit}", type_, f"{what} of the slice on the day (exact; {unit} rows only)"),
        col(f"expected_{unit}", type_, f"{what} the baseline expected ({unit} rows only)"),
        col(f"lower_{unit}", type_, f"low end of the usual range ({unit} rows only)"),
        col(f"upper_{unit}", type_, f"high end of the usual range: the day was above it ({unit} rows only)"),
        col(f"change_{unit}", type_, f"actual minus expected ({unit} rows only)"),
    )


COST_ANOMALIES = Table(
    "insights",
    "cost_anomalies",
    description=(
        "One row per anomaly: a settled day on which an organization's cost (billed USD) or tokens, in total or "
        "in one slice (model, workspace, API key, user, product), rose above its usual range AND past both the "
        "absolute floor (anomalies.min_usd or min_tokens) and the percent floor (anomalies.min_pct). The "
        "usual range is weekly-seasonal and robust: the median of the same weekday over the trailing "
        "anomalies.baseline_weeks (settled days only), scaled by the level of the last anomalies.level_days "
        "days, plus or minus anomalies.interval_sigmas robust standard deviations. Drivers are the child slices "
        "(total: every slice; workspace: its keys and users; model: its keys, users, workspaces and products; "
        "product: its models; key or user: its models) that explain the change, with their shares; the top "
        "driver is the most specific one explaining at least anomalies.driver_min_share of it. Cost rows fill "
        "the *_usd columns, token rows the *_tokens columns. Days not settled are not judged."
    ),
    columns=(
        col(
            "anomaly_id",
            "VARCHAR",
            "stable id: a hash of org_id, usage_date, measure, slice_kind and slice",
            False,
        ),
        ORG_ID,
        col("usage_date", "DATE", "the settled UTC day judged", False),
        col("measure", "VARCHAR", "cost_usd (billed money) or tokens", False),
        col("slice_kind", "VARCHAR", " | ".join(SLICE_KINDS), False),
        col(
            "slice",
            "VARCHAR",
            "the slice (a model, workspace id or 'default', key id, user id, product); 'all' for the total",
            False,
            personal=USER_ID,
        ),
        col(
            "severity",
            "VARCHAR",
            "low, medium or high by the percent above expected (anomalies.medium_pct, high_pct)",
            False,
        ),
        *_figures("usd", MONEY, "billed USD"),
        *_figures("tokens", "BIGINT", "tokens"),
        col("change_pct", "DOUBLE", "percent above expected", False),
        col("same_weekdays", "INTEGER", "settled days of the same weekday the baseline stood on", False),
        col("level", "DOUBLE", "the recent level against the usual weekdays (1 = as usual)", False),
        col(
            "drivers",
            "JSON",
            "the child slices that rose: [{slice_kind, slice, actual, expected, change, share}], largest first",
            False,
            personal=USER_ID,
        ),
        col("top_driver_kind", "VARCHAR", "the top driver's slice kind; null when no child slice rose"),
        col("top_driver", "VARCHAR", "the top driver's slice", personal=USER_ID),
        col("top_driver_share", "DOUBLE", "the top driver's share of the change"),
        col(
            "explanation",
            "VARCHAR",
            "one line naming the slice, the day, actual against expected and the top driver",
            False,
            personal=USER_ID,
        ),
    ),
    grain=("org_id", "usage_date", "measure", "slice_kind", "slice"),
)

"""The budget tables (schema ``insights``), declared once: DDL, Dagster column schema and pandera schema come
from these declarations."""

from claude_assets.warehouse.contract import MONEY, USER_ID, Table, col

PCT = "DECIMAL(18, 6)"

BUDGET_STATUS = Table(
    "insights",
    "budget_status",
    description=(
        "Each budget of the budgets_file, day by day: for the day judged (usage_date) and each threshold of "
        "the ladder, the budget version in effect that day, its period (month or quarter, UTC), the billed "
        "spend of its scope from the period's first day through usage_date (spend_to_date_usd; "
        "facts.cost billed lines, or facts.cost_allocation for scopes naming an API key or a user), how much "
        "of it is on days not yet settled (unsettled_spend_usd: a source may still revise it), a forecast to "
        "the period's end (run-rate with weekday seasonality, with an 80 % interval), whether the threshold is "
        "crossed on actual and on forecast, and the first day of the period each was. The budget figures "
        "repeat on every threshold row of a day: sum them per (budget, usage_date, threshold_pct) only."
    ),
    columns=(
        col("budget", "VARCHAR", "the budget's name", False),
        col("usage_date", "DATE", "the day judged: spend to date runs through it", False),
        col(
            "version_effective_from",
            "DATE",
            "effective_from of the budget version in effect on usage_date",
            False,
        ),
        col(
            "scope",
            "VARCHAR",
            "what the budget covers, e.g. 'organization=acme | model=claude-opus-4*'",
            False,
            personal=USER_ID,
        ),
        col(
            "spend_source",
            "VARCHAR",
            "the table the spend is summed from: facts.cost or facts.cost_allocation",
            False,
        ),
        col("period", "VARCHAR", "month or quarter", False),
        col("period_start", "DATE", "the period's first day", False),
        col("period_end", "DATE", "the period's last day", False),
        col("days_elapsed", "INTEGER", "days of the period through usage_date", False),
        col("days_in_period", "INTEGER", "days of the period", False),
        col("amount_usd", MONEY, "the budget for the period (the version in effect)", False),
        col("day_spend_usd", MONEY, "billed spend of the scope on usage_date itself", False),
        col(
            "spend_to_date_usd",
            MONEY,
            "billed spend of the scope from period_start through usage_date",
            False,
        ),
        col(
            "unsettled_spend_usd",
            MONEY,
            "the part of spend_to_date_usd on (organization, day) pairs not yet settled (provisional or "
            "revisable in raw.ingest_log): not final, a source may still change it",
            False,
        ),
        col(
            "unsettled_days",
            "INTEGER",
            "days of the period through usage_date with any unsettled spend",
            False,
        ),
        col(
            "forecast_usd",
            MONEY,
            "spend_to_date_usd plus the expected spend of the period's remaining days",
            False,
        ),
        col(
            "forecast_low_usd",
            MONEY,
            "lower end of the forecast's 80 % interval (never below spend to date)",
            False,
        ),
        col("forecast_high_usd", MONEY, "upper end of the forecast's 80 % interval", False),
        col(
            "forecast_method",
            "VARCHAR",
            "how the forecast was made: history used, weekday factors or not",
            False,
        ),
        col("threshold_pct", PCT, "the threshold, in percent of amount_usd", False),
        col("threshold_usd", MONEY, "amount_usd x threshold_pct / 100", False),
        col("crossed_actual", "BOOLEAN", "spend_to_date_usd >= threshold_usd", False),
        col("crossed_forecast", "BOOLEAN", "forecast_usd >= threshold_usd", False),
        col(
            "first_crossed_actual_on",
            "DATE",
            "the first day of the period, up to usage_date, whose row crossed the threshold on actual; null if none",
        ),
        col(
            "first_crossed_forecast_on",
            "DATE",
            "the first day of the period, up to usage_date, whose row crossed the threshold on forecast; null if none",
        ),
    ),
    grain=("budget", "usage_date", "threshold_pct"),
)

BUDGET_CROSSINGS = Table(
    "insights",
    "budget_crossings",
    description=(
        "One row per first crossing of a budget threshold in a period, on actual spend or on forecast: the "
        "day it was first crossed (the earliest budget_status row of the period that crossed it) and the "
        "figures of that day. crossing_id is a hash of budget, period_start, threshold_pct and basis: a "
        "re-run of a day never makes a new crossing, so an alert is posted once per threshold per period."
    ),
    columns=(
        col(
            "crossing_id", "VARCHAR", "stable id: sha256 of budget, period_start, threshold_pct, basis", False
        ),
        col("budget", "VARCHAR", "the budget's name", False),
        col("scope", "VARCHAR", "what the budget covered on first_crossed_on", False, personal=USER_ID),
        col("period", "VARCHAR", "month or quarter", False),
        col("period_start", "DATE", "the period's first day", False),
        col("period_end", "DATE", "the period's last day", False),
        col("threshold_pct", PCT, "the threshold, in percent of the budget", False),
        col("basis", "VARCHAR", "actual (spend to date) or forecast (forecast to period end)", False),
        col(
            "first_crossed_on",
            "DATE",
            "the first day of the period whose status crossed the threshold",
            False,
        ),
        col("amount_usd", MONEY, "the budget in effect on first_crossed_on", False),
        col("threshold_usd", MONEY, "amount_usd x threshold_pct / 100", False),
        col("spend_to_date_usd", MONEY, "spend to date on first_crossed_on", False),
        col("forecast_usd", MONEY, "forecast to period end on first_crossed_on", False),
        col(
            "unsettled_spend_usd",
            MONEY,
            "the part of spend_to_date_usd not yet settled on first_crossed_on",
            False,
        ),
        col("explanation", "VARCHAR", "one line a person can read", False),
    ),
    grain=("crossing_id",),
)

"""The export tables (schema ``exports``), declared once: DDL, Dagster column schema and pandera schema come
from these declarations.

``exports.focus_cost`` holds the FOCUS 1.2 cost and usage dataset: the 21 columns FOCUS makes mandatory,
the conditional and recommended ones the data can fill, and the Anthropic dimensions as ``x_`` columns.
Its first two columns (``org_id``, ``usage_date``) partition the table like every daily table of the
warehouse; the monthly files carry every other column.
"""

import pandera.pandas as pa

from checks.schemas import DECIMAL, USD, staged_schema
from claude_assets.warehouse.contract import MONEY, ORG_ID, USER_ID, Table, col

#: the fixed values of every row: one provider, one service, usage charges billed per day
PROVIDER = "Anthropic"
SERVICE_NAME = "Claude"
SERVICE_CATEGORY = "AI and Machine Learning"
SERVICE_SUBCATEGORY = "Generative AI"
CHARGE_CATEGORY = "Usage"
CHARGE_FREQUENCY = "Usage-Based"
#: the cost reports bill each line as an amount without a quantity, so a row is priced as one unit
PRICING_UNIT = "Unit"
QUANTITY = "DECIMAL(18, 6)"

FOCUS_COLUMNS = (
    col("BillingAccountId", "VARCHAR", "the organization's Anthropic id (inventory), else its slug", False),
    col("BillingAccountName", "VARCHAR", "the organization's name (inventory), else its slug", False),
    col("SubAccountId", "VARCHAR", "the Console workspace; null for the default workspace and Enterprise"),
    col("SubAccountName", "VARCHAR", "the workspace's name on the charge's day (inventory), else its id"),
    col("InvoiceId", "VARCHAR", "always null: the cost reports are not invoices and name none"),
    col("InvoiceIssuerName", "VARCHAR", "always Anthropic", False),
    col("ProviderName", "VARCHAR", "always Anthropic", False),
    col("PublisherName", "VARCHAR", "always Anthropic", False),
    col("BillingPeriodStart", "TIMESTAMPTZ", "first instant of the charge's UTC month (inclusive)", False),
    col("BillingPeriodEnd", "TIMESTAMPTZ", "first instant of the next UTC month (exclusive)", False),
    col("ChargePeriodStart", "TIMESTAMPTZ", "the charge's UTC day, 00:00Z (inclusive)", False),
    col("ChargePeriodEnd", "TIMESTAMPTZ", "the next UTC day, 00:00Z (exclusive)", False),
    col("ChargeCategory", "VARCHAR", "always Usage", False),
    col("ChargeClass", "VARCHAR", "always null: no row corrects an invoiced period"),
    col("ChargeDescription", "VARCHAR", "the cost line's description, else its dimensions", False),
    col("ChargeFrequency", "VARCHAR", "always Usage-Based", False),
    col("BillingCurrency", "VARCHAR", "always USD", False),
    col("BilledCost", MONEY, "facts.cost billed_cost_usd: after the negotiated discount, exact", False),
    col("ContractedCost", MONEY, "the cost at the negotiated rate, before credits: billed_cost_usd", False),
    col("EffectiveCost", MONEY, "facts.cost effective_cost_usd: billed after credits", False),
    col(
        "ListCost",
        MONEY,
        "facts.cost list_cost_usd; BilledCost where the line has no list price (x_ListCostUnpriced)",
        False,
    ),
    col(
        "PricingQuantity",
        QUANTITY,
        "always 1: the line is billed as one amount (no quantity reported)",
        False,
    ),
    col("PricingUnit", "VARCHAR", "always Unit", False),
    col("ServiceCategory", "VARCHAR", "always AI and Machine Learning", False),
    col("ServiceSubcategory", "VARCHAR", "always Generative AI", False),
    col("ServiceName", "VARCHAR", "always Claude", False),
)

EXTENSION_COLUMNS = (
    col("x_OrgId", "VARCHAR", "the organization's slug (the configuration's org_id)", False),
    col("x_OrgKind", "VARCHAR", "console or enterprise", False),
    col("x_Product", "VARCHAR", "Claude product (Enterprise: chat, claude_code, …)"),
    col("x_Model", "VARCHAR", "model"),
    col("x_CostType", "VARCHAR", "tokens, web_search, code_execution, …"),
    col("x_TokenType", "VARCHAR", "token type of a tokens line"),
    col("x_ServiceTier", "VARCHAR", "standard, batch, …"),
    col("x_ContextWindow", "VARCHAR", "0-200k or 200k-1M"),
    col("x_InferenceGeo", "VARCHAR", "global, us, …"),
    col("x_Speed", "VARCHAR", "standard or fast"),
    col("x_ApiKeyId", "VARCHAR", "API key, where the source has it"),
    col("x_UserId", "VARCHAR", "user, where the source has it", personal=USER_ID),
    col("x_ListCostUnpriced", "BOOLEAN", "true when facts.cost has no list price for the line", False),
    col("x_Source", "VARCHAR", "the raw table the line comes from, e.g. raw.console_cost", False),
    col("x_SourceGrain", "VARCHAR", "the grain of that raw table", False),
    col("x_SourceRequest", "VARCHAR", "the request that produced the raw row", False),
    col("x_FetchedAt", "TIMESTAMPTZ", "when the API answered", False),
    col("x_DataRefreshedAt", "TIMESTAMPTZ", "the source's data_refreshed_at (Enterprise rows)"),
)

FOCUS_COST = Table(
    "exports",
    "focus_cost",
    columns=(
        ORG_ID,
        col("usage_date", "DATE", "the UTC day of the charge (ChargePeriodStart's date)", False),
        *FOCUS_COLUMNS,
        *EXTENSION_COLUMNS,
    ),
    # a facts.cost billed line is unique by its source, day and dimensions; the request tells two apart
    grain=(
        "org_id",
        "usage_date",
        "x_Source",
        "SubAccountId",
        "ChargeDescription",
        "x_Product",
        "x_Model",
        "x_CostType",
        "x_TokenType",
        "x_ServiceTier",
        "x_ContextWindow",
        "x_InferenceGeo",
        "x_Speed",
        "x_ApiKeyId",
        "x_UserId",
    ),
    description="FOCUS 1.2 cost and usage dataset (FinOps Open Cost and Usage Specification) built from the "
    "billed rows of facts.cost, one row per billed line and UTC day: BilledCost is billed_cost_usd (after "
    "the negotiated discount), ContractedCost the same amount (billed at the negotiated rate), "
    "EffectiveCost effective_cost_usd, ListCost list_cost_usd. Estimate rows (priority tier at list price, "
    "Claude Code's estimated cost) are not billed charges and are left out. The Anthropic dimensions are "
    "x_ columns. Written per month as Parquet and CSV under <data directory>/exports/focus/<org or all>/"
    "<YYYY-MM>.{parquet,csv}; the files carry every column but org_id and usage_date.",
    money=("BilledCost", "ContractedCost", "EffectiveCost", "ListCost"),
)

#: the columns the monthly files carry, in order
FILE_COLUMNS = tuple(c.name for c in (*FOCUS_COLUMNS, *EXTENSION_COLUMNS))


def _always(value: str) -> list[pa.Check]:
    return [pa.Check.isin([value], error=f"must be {value}")]


#: the pandera schema of the table's rows (money read as exact decimal strings)
SCHEMA = staged_schema(
    FOCUS_COST,
    {
        "ChargeCategory": _always(CHARGE_CATEGORY),
        "ChargeFrequency": _always(CHARGE_FREQUENCY),
        "ChargeClass": [pa.Check.isin(["Correction"], error="must be null or Correction")],
        "BillingCurrency": [USD],
        "ProviderName": _always(PROVIDER),
        "PublisherName": _always(PROVIDER),
        "InvoiceIssuerName": _always(PROVIDER),
        "ServiceName": _always(SERVICE_NAME),
        "ServiceCategory": _always(SERVICE_CATEGORY),
        "ServiceSubcategory": _always(SERVICE_SUBCATEGORY),
        "PricingUnit": _always(PRICING_UNIT),
        "x_OrgKind": [pa.Check.isin(["console", "enterprise"], error="must be console or enterprise")],
        **{name: [DECIMAL] for name in ("BilledCost", "ContractedCost", "EffectiveCost", "ListCost")},
    },
)

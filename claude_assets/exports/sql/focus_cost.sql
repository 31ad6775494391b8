-- exports.focus_cost for the UTC days [$1, $2): the billed rows of facts.cost as FOCUS 1.2 columns.
-- Estimate rows are not billed charges and stay out. Names come from the inventory where it knows them
-- (Console organizations and workspaces), else the ids stand for them.
WITH billed AS (
    SELECT *,
        usage_date::TIMESTAMP AT TIME ZONE 'UTC' AS day_start,
        (usage_date + INTERVAL 1 DAY)::TIMESTAMP AT TIME ZONE 'UTC' AS day_end,
        date_trunc('month', usage_date)::TIMESTAMP AT TIME ZONE 'UTC' AS month_start,
        (date_trunc('month', usage_date) + INTERVAL 1 MONTH)::TIMESTAMP AT TIME ZONE 'UTC' AS month_end
    FROM facts.cost
    WHERE usage_date >= $1 AND usage_date < $2 AND charge_kind = 'billed'
),
organization AS (  -- the organization as the latest snapshot saw it
    SELECT org_id, arg_max(organization_id, valid_from) AS organization_id, arg_max(name, valid_from) AS name
    FROM inventory.organization
    GROUP BY org_id
),
workspace_names AS (  -- each workspace's name on each day it was charged: the version valid by day's end
    SELECT b.org_id, b.usage_date, b.workspace_id, arg_max(w.name, w.valid_from) AS name
    FROM (SELECT DISTINCT org_id, usage_date, workspace_id, day_end FROM billed WHERE workspace_id IS NOT NULL) b
    JOIN inventory.workspaces w
        ON w.org_id = b.org_id AND w.workspace_id = b.workspace_id AND w.valid_from < b.day_end
    GROUP BY ALL
)
SELECT
    b.org_id,
    b.usage_date,
    coalesce(o.organization_id, b.org_id) AS "BillingAccountId",
    coalesce(o.name, b.org_id) AS "BillingAccountName",
    b.workspace_id AS "SubAccountId",
    CASE WHEN b.workspace_id IS NOT NULL THEN coalesce(wn.name, b.workspace_id) END AS "SubAccountName",
    NULL::VARCHAR AS "InvoiceId",
    'Anthropic' AS "InvoiceIssuerName",
    'Anthropic' AS "ProviderName",
    'Anthropic' AS "PublisherName",
    b.month_start AS "BillingPeriodStart",
    b.month_end AS "BillingPeriodEnd",
    b.day_start AS "ChargePeriodStart",
    b.day_end AS "ChargePeriodEnd",
    'Usage' AS "ChargeCategory",
    NULL::VARCHAR AS "ChargeClass",
    coalesce(
        b.description,
        nullif(concat_ws(' - ', b.product, b.model, b.cost_type, b.token_type), ''),
        b.source
    ) AS "ChargeDescription",
    'Usage-Based' AS "ChargeFrequency",
    b.currency AS "BillingCurrency",
    b.billed_cost_usd AS "BilledCost",
    b.billed_cost_usd AS "ContractedCost",
    b.effective_cost_usd AS "EffectiveCost",
    coalesce(b.list_cost_usd, b.billed_cost_usd) AS "ListCost",
    1::DECIMAL(18, 6) AS "PricingQuantity",
    'Unit' AS "PricingUnit",
    'AI and Machine Learning' AS "ServiceCategory",
    'Generative AI' AS "ServiceSubcategory",
    'Claude' AS "ServiceName",
    b.org_id AS "x_OrgId",
    b.org_kind AS "x_OrgKind",
    b.product AS "x_Product",
    b.model AS "x_Model",
    b.cost_type AS "x_CostType",
    b.token_type AS "x_TokenType",
    b.service_tier AS "x_ServiceTier",
    b.context_window AS "x_ContextWindow",
    b.inference_geo AS "x_InferenceGeo",
    b.speed AS "x_Speed",
    b.api_key_id AS "x_ApiKeyId",
    b.user_id AS "x_UserId",
    b.list_cost_usd IS NULL AS "x_ListCostUnpriced",
    b.source AS "x_Source",
    b.source_grain AS "x_SourceGrain",
    b.source_request AS "x_SourceRequest",
    b.fetched_at AS "x_FetchedAt",
    b.data_refreshed_at AS "x_DataRefreshedAt"
FROM billed b
LEFT JOIN organization o ON o.org_id = b.org_id
LEFT JOIN workspace_names wn
    ON wn.org_id = b.org_id AND wn.usage_date = b.usage_date AND wn.workspace_id = b.workspace_id

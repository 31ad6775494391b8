-- The parent lines: every billed line of facts.cost on the days [$1, $2), each with a readable key
-- (parent_line) that is unique per organization and day: the source table, then every dimension the
-- line has, by name (a null dimension is left out).
SELECT
    org_id,
    usage_date,
    org_kind,
    source,
    concat_ws(
        '; ',
        source,
        'workspace=' || workspace_id,
        'description=' || description,
        'product=' || product,
        'model=' || model,
        'cost_type=' || cost_type,
        'token_type=' || token_type,
        'service_tier=' || service_tier,
        'context_window=' || context_window,
        'inference_geo=' || inference_geo,
        'speed=' || speed
    ) AS parent_line,
    description,
    workspace_id,
    model,
    cost_type,
    token_type,
    service_tier,
    context_window,
    inference_geo,
    speed,
    billed_cost_usd AS parent_billed_cost_usd,
    -- money as a whole number of 1e-12 USD units: exact integer arithmetic from here on
    CAST(billed_cost_usd * 1000000000000 AS HUGEINT) AS parent_units,
    fetched_at,
    source_request
FROM facts.cost
WHERE charge_kind = 'billed' AND usage_date >= $1 AND usage_date < $2

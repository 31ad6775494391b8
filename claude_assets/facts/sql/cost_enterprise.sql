-- Enterprise billed lines of the days [$1, $2): raw.enterprise_cost rows of grouping 'token_type' (model x cost
-- type x token type), the grouping that partitions every charge of the organization (its sum is the ungrouped
-- total). Buckets the API split by hour or geo are summed back to one line per day. Amount is billed (after
-- the negotiated discount), list amount is the list cost. Organization-days whose record is the analytics API
-- (_analytics_record) are left out.
SELECT
    org_id,
    usage_date,
    'enterprise' AS org_kind,
    'raw.enterprise_cost' AS source,
    'day x model x cost type x token type' AS source_grain,
    'billed' AS charge_kind,
    concat_ws(' - ', coalesce(model, 'no model'), cost_type, token_type) AS description,
    NULL AS workspace_id,
    NULL AS api_key_id,
    NULL AS user_id,
    product,
    model,
    NULL AS service_tier,
    context_window,
    inference_geo,
    speed,
    cost_type,
    token_type,
    currency,
    sum(amount_usd) AS billed_cost_usd,
    sum(list_amount_usd) AS list_cost_usd,
    sum(amount_usd) AS effective_cost_usd,
    NULL AS estimated_cost_usd,
    max(data_refreshed_at) AS data_refreshed_at,
    max(fetched_at) AS fetched_at,
    string_agg(DISTINCT source_request, ' | ' ORDER BY source_request) AS source_request
FROM raw.enterprise_cost
WHERE grouping = 'token_type' AND usage_date >= $1 AND usage_date < $2
    AND (org_id, usage_date) NOT IN (SELECT (org_id, usage_date) FROM _analytics_record)
GROUP BY
    org_id, usage_date, product, model, context_window, inference_geo, speed, cost_type, token_type, currency

-- Estimate rows of the days [$1, $2): Console priority-tier usage (billed outside the cost report) at list
-- price, per day, workspace, API key, account, model, tier, context window, geo, speed and token type (web
-- searches per key). No billed money: billed and effective are 0, the list price is the estimate.
SELECT
    org_id,
    usage_date,
    'console' AS org_kind,
    'raw.console_usage' AS source,
    'day x workspace x API key x account x model x tier x context window x geo x speed x token type'
        AS source_grain,
    'estimate' AS charge_kind,
    'Priority tier usage at list price (billed outside the cost report)' AS description,
    workspace_id,
    api_key_id,
    user_id,
    NULL AS product,
    model,
    service_tier,
    context_window,
    inference_geo,
    speed,
    CASE WHEN token_type = 'web_search_requests' THEN 'web_search' ELSE 'tokens' END AS cost_type,
    CASE WHEN token_type = 'web_search_requests' THEN NULL ELSE token_type END AS token_type,
    'USD' AS currency,
    CAST(0 AS DECIMAL(38, 12)) AS billed_cost_usd,
    CASE WHEN count(*) = count(list_cost_usd) THEN sum(list_cost_usd) END AS list_cost_usd,
    CAST(0 AS DECIMAL(38, 12)) AS effective_cost_usd,
    CASE WHEN count(*) = count(list_cost_usd) THEN sum(list_cost_usd) END AS estimated_cost_usd,
    NULL AS data_refreshed_at,
    max(fetched_at) AS fetched_at,
    string_agg(DISTINCT source_request, ' | ' ORDER BY source_request) AS source_request
FROM _usage_priced
WHERE source = 'raw.console_usage'
    AND service_tier IN ('priority', 'priority_on_demand')
    AND token_type <> 'requests'
    AND usage_date >= $1 AND usage_date < $2
GROUP BY
    org_id, usage_date, workspace_id, api_key_id, user_id, model, service_tier, context_window, inference_geo,
    speed, token_type

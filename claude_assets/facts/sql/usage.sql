-- facts.usage of the days [$1, $2): the priced usage rows (_usage_priced), each measure in its own column.
SELECT
    org_id, usage_date, org_kind, source, source_grain, included_in,
    workspace_id, api_key_id, user_id, product, model, service_tier, context_window, inference_geo, speed, actor,
    token_type,
    CASE WHEN token_type NOT IN ('web_search_requests', 'requests') THEN quantity END AS tokens,
    CASE WHEN token_type = 'web_search_requests' THEN quantity END AS web_search_requests,
    CASE WHEN token_type = 'requests' THEN quantity END AS requests,
    list_cost_usd,
    price_rule,
    data_refreshed_at, fetched_at, source_request
FROM _usage_priced
WHERE usage_date >= $1 AND usage_date < $2

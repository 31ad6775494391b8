-- Enterprise usage (raw.enterprise_usage) of the days [$1, $2), from grouping 'product_model' (a grouping that
-- partitions the total): per day, product, model, context window, geo and speed (buckets the API split by
-- hour or geo are summed back to the day), one row per measure counted.
WITH daily AS (
    SELECT
        org_id, usage_date, product, model, context_window, inference_geo, speed,
        sum(uncached_input_tokens) AS uncached_input_tokens,
        sum(cache_creation_5m_input_tokens) AS cache_creation_5m_input_tokens,
        sum(cache_creation_1h_input_tokens) AS cache_creation_1h_input_tokens,
        sum(cache_read_input_tokens) AS cache_read_input_tokens,
        sum(output_tokens) AS output_tokens,
        sum(web_search_requests) AS web_search_requests,
        coalesce(sum(requests), 0) AS requests,
        max(data_refreshed_at) AS data_refreshed_at,
        max(fetched_at) AS fetched_at,
        string_agg(DISTINCT source_request, ' | ' ORDER BY source_request) AS source_request
    FROM raw.enterprise_usage
    WHERE grouping = 'product_model' AND usage_date >= $1 AND usage_date < $2
    GROUP BY org_id, usage_date, product, model, context_window, inference_geo, speed
)
SELECT
    org_id,
    usage_date,
    'enterprise' AS org_kind,
    'raw.enterprise_usage' AS source,
    'day x product x model x context window x geo x speed' AS source_grain,
    NULL::VARCHAR AS included_in,
    NULL::VARCHAR AS workspace_id,
    NULL::VARCHAR AS api_key_id,
    NULL::VARCHAR AS user_id,
    product,
    model,
    NULL::VARCHAR AS service_tier,
    context_window,
    inference_geo,
    speed,
    NULL::VARCHAR AS actor,
    usage_token_type(measure) AS token_type,
    CAST(quantity AS BIGINT) AS quantity,
    data_refreshed_at,
    fetched_at,
    source_request
FROM (
    UNPIVOT daily
    ON uncached_input_tokens, cache_creation_5m_input_tokens, cache_creation_1h_input_tokens,
       cache_read_input_tokens, output_tokens, web_search_requests, requests
    INTO NAME measure VALUE quantity
)
WHERE quantity <> 0

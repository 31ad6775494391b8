-- The Console usage report's rows in the pricing shape: one row per usage row and token type (tokens) or
-- web searches, with its quantity. Parameters: $1 first day, $2 day after the last.
SELECT org_id, usage_date, api_key_id, workspace_id, model, service_tier, context_window, inference_geo,
       speed,
       -- the cost report's token types, the facts layer's vocabulary
       CASE token_type
           WHEN 'cache_creation_5m_input_tokens' THEN 'cache_creation.ephemeral_5m_input_tokens'
           WHEN 'cache_creation_1h_input_tokens' THEN 'cache_creation.ephemeral_1h_input_tokens'
           ELSE token_type
       END AS token_type,
       quantity, fetched_at, source_request
FROM (
    UNPIVOT (
        SELECT * FROM raw.console_usage WHERE usage_date >= $1 AND usage_date < $2
    )
    ON uncached_input_tokens, cache_creation_5m_input_tokens, cache_creation_1h_input_tokens,
       cache_read_input_tokens, output_tokens, web_search_requests
    INTO NAME token_type VALUE quantity
)
WHERE quantity > 0

-- Console usage (raw.console_usage) of the days [$1, $2): one row per usage row and measure counted.
SELECT
    org_id,
    usage_date,
    'console' AS org_kind,
    'raw.console_usage' AS source,
    'day x workspace x API key x account x service account x model x tier x context window x geo x speed'
        AS source_grain,
    NULL::VARCHAR AS included_in,
    workspace_id,
    api_key_id,
    account_id AS user_id,
    NULL::VARCHAR AS product,
    model,
    service_tier,
    context_window,
    inference_geo,
    speed,
    service_account_id AS actor,
    usage_token_type(measure) AS token_type,
    quantity,
    NULL::TIMESTAMPTZ AS data_refreshed_at,
    fetched_at,
    source_request
FROM (
    UNPIVOT (
        SELECT * EXCLUDE (extra) FROM raw.console_usage WHERE usage_date >= $1 AND usage_date < $2
    )
    ON uncached_input_tokens, cache_creation_5m_input_tokens, cache_creation_1h_input_tokens,
       cache_read_input_tokens, output_tokens, web_search_requests
    INTO NAME measure VALUE quantity
)
WHERE quantity <> 0

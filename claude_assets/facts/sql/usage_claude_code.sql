-- Claude Code usage (raw.claude_code_model_usage) of the days [$1, $2): per day, actor and model (terminals
-- summed), one row per token type. An actor whose activity row says customer_type 'subscription' is billed
-- by its plan; every other actor calls the Console API (its API keys or Console login), so its usage is
-- already inside raw.console_usage (included_in), and never counted again. A user actor (an email) is shown as
-- pseudonym(org_id, actor_id): its keyed hash when the organization is pseudonymized (claude_assets.privacy).
WITH by_actor AS (
    SELECT
        m.org_id, m.usage_date, m.actor_type, m.actor_id, m.model,
        CASE WHEN a.customer_type = 'subscription' THEN NULL ELSE 'raw.console_usage' END AS included_in,
        sum(m.input_tokens) AS input_tokens,
        sum(m.output_tokens) AS output_tokens,
        sum(m.cache_read_tokens) AS cache_read_tokens,
        sum(m.cache_creation_tokens) AS cache_creation_tokens,
        max(m.fetched_at) AS fetched_at,
        string_agg(DISTINCT m.source_request, ' | ' ORDER BY m.source_request) AS source_request
    FROM raw.claude_code_model_usage AS m
    LEFT JOIN raw.claude_code_usage AS a
        ON a.org_id = m.org_id AND a.usage_date = m.usage_date AND a.actor_type = m.actor_type
        AND a.actor_id = m.actor_id AND a.terminal_type = m.terminal_type AND a.is_remote = m.is_remote
    WHERE m.usage_date >= $1 AND m.usage_date < $2
    GROUP BY ALL
)
SELECT
    org_id,
    usage_date,
    'console' AS org_kind,
    'raw.claude_code_model_usage' AS source,
    'day x Claude Code actor x model' AS source_grain,
    included_in,
    NULL::VARCHAR AS workspace_id,
    NULL::VARCHAR AS api_key_id,
    NULL::VARCHAR AS user_id,
    'claude_code' AS product,
    model,
    NULL::VARCHAR AS service_tier,
    NULL::VARCHAR AS context_window,
    NULL::VARCHAR AS inference_geo,
    NULL::VARCHAR AS speed,
    CASE WHEN actor_type = 'user_actor' THEN pseudonym(org_id, actor_id) ELSE actor_id END AS actor,
    usage_token_type(measure) AS token_type,
    CAST(quantity AS BIGINT) AS quantity,
    NULL::TIMESTAMPTZ AS data_refreshed_at,
    fetched_at,
    source_request
FROM (
    UNPIVOT by_actor
    ON input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens
    INTO NAME measure VALUE quantity
)
WHERE quantity <> 0

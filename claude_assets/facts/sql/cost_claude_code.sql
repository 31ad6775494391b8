-- Estimate rows of the days [$1, $2): Claude Code's own estimated cost (raw.claude_code_model_usage) per day,
-- actor and model, terminals summed, with the price book's list price of the same tokens (_usage_priced).
-- Never billed money: the Console cost report already bills this usage (billed and effective are 0). A user
-- actor (an email) is named by pseudonym(org_id, actor_id), as in facts.usage (claude_assets.privacy).
WITH estimated AS (
    SELECT
        org_id, usage_date, actor_type,
        CASE WHEN actor_type = 'user_actor' THEN pseudonym(org_id, actor_id) ELSE actor_id END AS actor,
        model,
        sum(estimated_cost_usd) AS estimated_cost_usd,
        max(fetched_at) AS fetched_at,
        string_agg(DISTINCT source_request, ' | ' ORDER BY source_request) AS source_request
    FROM raw.claude_code_model_usage
    WHERE usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
),
priced AS (
    SELECT
        org_id, usage_date, actor, model,
        CASE WHEN count(*) = count(list_cost_usd) THEN sum(list_cost_usd) END AS list_cost_usd
    FROM _usage_priced
    WHERE source = 'raw.claude_code_model_usage'
    GROUP BY ALL
)
SELECT
    e.org_id,
    e.usage_date,
    'console' AS org_kind,
    'raw.claude_code_model_usage' AS source,
    'day x Claude Code actor x model' AS source_grain,
    'estimate' AS charge_kind,
    'Claude Code estimated cost: ' || e.actor_type || ' ' || e.actor AS description,
    NULL AS workspace_id,
    NULL AS api_key_id,
    NULL AS user_id,
    'claude_code' AS product,
    e.model,
    NULL AS service_tier,
    NULL AS context_window,
    NULL AS inference_geo,
    NULL AS speed,
    'tokens' AS cost_type,
    NULL AS token_type,
    'USD' AS currency,
    CAST(0 AS DECIMAL(38, 12)) AS billed_cost_usd,
    p.list_cost_usd,
    CAST(0 AS DECIMAL(38, 12)) AS effective_cost_usd,
    e.estimated_cost_usd,
    NULL AS data_refreshed_at,
    e.fetched_at,
    e.source_request
FROM estimated AS e
LEFT JOIN priced AS p
    ON p.org_id = e.org_id AND p.usage_date = e.usage_date AND p.actor = e.actor AND p.model = e.model

-- Console billed lines of the days [$1, $2): every row of raw.console_cost (the record of Console billed money),
-- with its list cost: the priced Console usage the line bills (_usage_priced, billed tiers only: priority tier
-- is billed outside the cost report). A tokens line bills the usage of its day, workspace, model, token type,
-- tier, context window, geo and speed; a web search line the searches of its day and workspace. Code execution
-- has no usage to price: its list cost is its billed amount. A line whose usage is missing or unpriced keeps a
-- NULL list cost. Organization-days whose record is the analytics API (_analytics_record) are left out.
WITH billed_usage AS (
    SELECT
        org_id, usage_date, workspace_id, model, token_type, service_tier, context_window, inference_geo, speed,
        CASE WHEN count(*) = count(list_cost_usd) THEN sum(list_cost_usd) END AS list_cost_usd
    FROM _usage_priced
    WHERE source = 'raw.console_usage'
        AND token_type NOT IN ('web_search_requests', 'requests')
        AND service_tier NOT IN ('priority', 'priority_on_demand')
    GROUP BY ALL
),
billed_searches AS (
    SELECT
        org_id, usage_date, workspace_id,
        CASE WHEN count(*) = count(list_cost_usd) THEN sum(list_cost_usd) END AS list_cost_usd
    FROM _usage_priced
    WHERE source = 'raw.console_usage'
        AND token_type = 'web_search_requests'
        AND service_tier NOT IN ('priority', 'priority_on_demand')
    GROUP BY ALL
)
SELECT
    c.org_id,
    c.usage_date,
    'console' AS org_kind,
    'raw.console_cost' AS source,
    'day x workspace x cost line' AS source_grain,
    'billed' AS charge_kind,
    c.description,
    c.workspace_id,
    NULL AS api_key_id,
    NULL AS user_id,
    NULL AS product,
    c.model,
    c.service_tier,
    c.context_window,
    c.inference_geo,
    c.speed,
    c.cost_type,
    c.token_type,
    c.currency,
    c.amount_usd AS billed_cost_usd,
    CASE c.cost_type
        WHEN 'tokens' THEN u.list_cost_usd
        WHEN 'web_search' THEN s.list_cost_usd
        WHEN 'code_execution' THEN c.amount_usd
    END AS list_cost_usd,
    c.amount_usd AS effective_cost_usd,
    NULL AS estimated_cost_usd,
    NULL AS data_refreshed_at,
    c.fetched_at,
    c.source_request
FROM raw.console_cost AS c
LEFT JOIN billed_usage AS u
    ON c.cost_type = 'tokens'
    AND u.org_id = c.org_id AND u.usage_date = c.usage_date
    AND u.workspace_id IS NOT DISTINCT FROM c.workspace_id
    AND u.model = c.model AND u.token_type = c.token_type AND u.service_tier = c.service_tier
    AND u.context_window IS NOT DISTINCT FROM c.context_window
    AND u.inference_geo IS NOT DISTINCT FROM c.inference_geo
    AND u.speed IS NOT DISTINCT FROM c.speed
LEFT JOIN billed_searches AS s
    ON c.cost_type = 'web_search'
    AND s.org_id = c.org_id AND s.usage_date = c.usage_date
    AND s.workspace_id IS NOT DISTINCT FROM c.workspace_id
WHERE c.usage_date >= $1 AND c.usage_date < $2
    AND NOT EXISTS (SELECT 1 FROM _analytics_record r WHERE r.org_id = c.org_id AND r.usage_date = c.usage_date)

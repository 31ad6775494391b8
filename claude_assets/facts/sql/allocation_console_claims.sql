-- Console: the claims of each API key (null: key-less usage, its own claim) on a billed line, from
-- raw.console_usage rows of the same organization, day and workspace.
-- - A token line (cost_type 'tokens') is claimed by the usage of the same model, service tier, context
--   window, inference geo and speed, weighted by the tokens of the line's token type. Within one line every
--   token has the same list price (the price depends only on those dimensions and the day), so the token
--   share is the priced share: tokens are used directly.
-- - A web search line is claimed by web_search_requests. Priority tier usage is left out: that tier is
--   billed outside the cost report.
-- - Other lines (code execution: no usage-report counterpart) have no claims and stay whole.
WITH lines AS (
    SELECT * FROM parents WHERE org_kind = 'console' AND cost_type IN ('tokens', 'web_search')
),
usage AS (
    SELECT * FROM raw.console_usage WHERE usage_date >= $1 AND usage_date < $2
),
claims AS (
    SELECT
        l.org_id,
        l.usage_date,
        l.parent_line AS grp,
        l.parent_units AS total_units,
        CASE WHEN u.api_key_id IS NULL THEN 'keyless' ELSE 'api_key' END AS claimant_kind,
        u.api_key_id AS claimant_id,
        CAST(sum(
            CASE
                WHEN l.cost_type = 'web_search' THEN u.web_search_requests
                WHEN l.token_type = 'uncached_input_tokens' THEN u.uncached_input_tokens
                WHEN l.token_type = 'cache_creation.ephemeral_5m_input_tokens' THEN u.cache_creation_5m_input_tokens
                WHEN l.token_type = 'cache_creation.ephemeral_1h_input_tokens' THEN u.cache_creation_1h_input_tokens
                WHEN l.token_type = 'cache_read_input_tokens' THEN u.cache_read_input_tokens
                WHEN l.token_type = 'output_tokens' THEN u.output_tokens
            END
        ) AS HUGEINT) AS weight,
        CASE
            WHEN l.cost_type = 'web_search' THEN 'web search requests'
            ELSE 'priced tokens (tokens of the line''s type: one list price per token within a line)'
        END AS basis,
        string_agg(DISTINCT u.source_request, ' ; ') AS basis_source_request
    FROM lines AS l
    JOIN usage AS u
        ON u.org_id = l.org_id
        AND u.usage_date = l.usage_date
        AND u.workspace_id IS NOT DISTINCT FROM l.workspace_id
        AND (
            (
                l.cost_type = 'tokens'
                AND u.model = l.model
                AND u.service_tier IS NOT DISTINCT FROM l.service_tier
                AND u.context_window IS NOT DISTINCT FROM l.context_window
                AND u.inference_geo IS NOT DISTINCT FROM l.inference_geo
                AND u.speed IS NOT DISTINCT FROM l.speed
            )
            OR (l.cost_type = 'web_search' AND u.service_tier IS DISTINCT FROM 'priority')
        )
    GROUP BY ALL
)
SELECT * FROM claims WHERE weight > 0

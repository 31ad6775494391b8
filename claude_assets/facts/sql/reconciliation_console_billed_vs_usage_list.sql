-- Console billed cost (raw.console_cost) vs its usage priced at list (raw.console_usage x facts.price_book),
-- per organization, day, cost type, model and token type. The CTE priced is the usage rows priced by the
-- price book (reconciliation_console_usage_rows.sql through claude_assets.facts.pricing.priced_sql).
-- Parameters: $1 first day, $2 day after the last.
--   priority_tier_not_in_cost_report = -(priority-tier usage at list): billed outside the cost report
--   negotiated_discount              = -(the rest at list x the day's discount), the discount read off the
--                                      day's token and web-search lines (1 - billed / list, to basis points)
--   code_execution_not_in_usage      = +code execution lines: billed per container-hour, never in usage
--   keyless_workbench_usage          = 0: usage with no API key (Workbench, service accounts) is billed in
--                                      the default workspace's lines like keyed usage (memo_usd: its list cost)
--   rounding                         = the API bills each usage row's discounted amount rounded half-even to
--                                      a whole micro-cent (1e-8 USD): recomputed here row by row
--   revision_between_pulls           = the rest, on a day one of the two reports was read before it ended
--   unexplained                      = the rest
WITH priced AS (
    {priced_usage}
),
usage_rows AS (
    SELECT org_id, usage_date,
           CASE WHEN token_type = 'web_search_requests' THEN 'web_search' ELSE 'tokens' END AS cost_type,
           CASE WHEN token_type = 'web_search_requests' THEN NULL ELSE model END AS model,
           CASE WHEN token_type = 'web_search_requests' THEN NULL ELSE token_type END AS token_type,
           coalesce(service_tier LIKE 'priority%', false) AS priority_tier,
           api_key_id IS NULL AS keyless,
           CAST(coalesce(list_cost_usd, 0) AS DECIMAL(30, 12)) AS list_usd,
           fetched_at, source_request
    FROM priced
),
billed AS (
    SELECT org_id, usage_date, cost_type, model,
           token_type,
           sum(amount_usd) AS billed_usd,
           string_agg(DISTINCT source_request, ' ; ' ORDER BY source_request) AS requests
    FROM raw.console_cost
    WHERE usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
),
day_rate AS (
    -- round(10000 x billed / list) over the day's discounted lines, in exact integer arithmetic
    SELECT b.org_id, b.usage_date,
           CASE WHEN coalesce(u.list_usd, 0) = 0 THEN 10000
                ELSE (20000 * CAST(b.billed_usd * 1000000000000 AS HUGEINT) + CAST(u.list_usd * 1000000000000 AS HUGEINT))
                     // (2 * CAST(u.list_usd * 1000000000000 AS HUGEINT))
           END AS kept_basis_points
    FROM (SELECT org_id, usage_date, sum(billed_usd) AS billed_usd FROM billed
          WHERE cost_type IN ('tokens', 'web_search') GROUP BY ALL) b
    LEFT JOIN (SELECT org_id, usage_date, sum(list_usd) AS list_usd FROM usage_rows
               WHERE NOT priority_tier GROUP BY ALL) u USING (org_id, usage_date)
),
row_rounding AS (
    SELECT u.*, r.kept_basis_points,
           CAST(u.list_usd * CAST(r.kept_basis_points AS DECIMAL(6, 0)) * 10000 AS DECIMAL(38, 12)) AS exact_microcents
    FROM usage_rows u
    LEFT JOIN day_rate r USING (org_id, usage_date)
),
usage_grouped AS (
    SELECT org_id, usage_date, cost_type, model, token_type,
           sum(list_usd) AS list_usd,
           sum(list_usd) FILTER (WHERE priority_tier) AS priority_usd,
           sum(list_usd) FILTER (WHERE NOT priority_tier) AS discounted_list_usd,
           sum(list_usd) FILTER (WHERE keyless) AS keyless_usd,
           sum(CASE WHEN priority_tier THEN 0
                    WHEN exact_microcents - floor(exact_microcents) > 0.5
                      OR (exact_microcents - floor(exact_microcents) = 0.5 AND floor(exact_microcents) % 2 = 1)
                    THEN floor(exact_microcents) + 1 - exact_microcents
                    ELSE floor(exact_microcents) - exact_microcents END) AS rounding_microcents,
           string_agg(DISTINCT source_request, ' ; ' ORDER BY source_request) AS requests
    FROM row_rounding
    GROUP BY ALL
),
pulls AS (
    SELECT org_id, usage_date, min(fetched_at) AS fetched_at FROM (
        SELECT org_id, usage_date, fetched_at FROM raw.console_usage WHERE usage_date >= $1 AND usage_date < $2
        UNION ALL
        SELECT org_id, usage_date, fetched_at FROM raw.console_cost WHERE usage_date >= $1 AND usage_date < $2
    ) GROUP BY ALL
),
grouped AS (
    SELECT coalesce(u.org_id, b.org_id) AS org_id, coalesce(u.usage_date, b.usage_date) AS usage_date,
           coalesce(u.cost_type, b.cost_type) AS cost_type, coalesce(u.model, b.model) AS model,
           coalesce(u.token_type, b.token_type) AS token_type,
           CAST(coalesce(u.list_usd, 0) AS DECIMAL(38, 12)) AS from_figure_usd,
           CAST(coalesce(b.billed_usd, 0) AS DECIMAL(38, 12)) AS to_figure_usd,
           CAST(-coalesce(u.priority_usd, 0) AS DECIMAL(38, 12)) AS priority_amount_usd,
           CAST(-coalesce(u.discounted_list_usd, 0) * CAST(10000 - coalesce(r.kept_basis_points, 10000) AS DECIMAL(6, 0))
                / 10000 AS DECIMAL(38, 12)) AS discount_usd,
           CAST(CASE WHEN coalesce(u.cost_type, b.cost_type) = 'code_execution' THEN coalesce(b.billed_usd, 0) ELSE 0 END
                AS DECIMAL(38, 12)) AS code_execution_usd,
           CAST(coalesce(u.keyless_usd, 0) AS DECIMAL(38, 12)) AS keyless_list_usd,
           CAST(coalesce(u.rounding_microcents, 0) / 100000000 AS DECIMAL(38, 12)) AS rounding_usd,
           r.kept_basis_points,
           coalesce(p.fetched_at < coalesce(u.usage_date, b.usage_date) + INTERVAL 1 DAY, false) AS read_before_day_end,
           concat_ws(' ; ', u.requests, b.requests) AS requests
    FROM usage_grouped u
    FULL OUTER JOIN billed b
      ON b.org_id = u.org_id AND b.usage_date = u.usage_date AND b.cost_type = u.cost_type
     AND b.model IS NOT DISTINCT FROM u.model AND b.token_type IS NOT DISTINCT FROM u.token_type
    LEFT JOIN day_rate r ON r.org_id = coalesce(u.org_id, b.org_id) AND r.usage_date = coalesce(u.usage_date, b.usage_date)
    LEFT JOIN pulls p ON p.org_id = coalesce(u.org_id, b.org_id) AND p.usage_date = coalesce(u.usage_date, b.usage_date)
),
residuals AS (
    SELECT *, CAST(to_figure_usd - from_figure_usd - priority_amount_usd - discount_usd - code_execution_usd
                   - rounding_usd AS DECIMAL(38, 12)) AS residual_usd
    FROM grouped
)
SELECT org_id, usage_date, 'console_billed_vs_usage_list' AS comparison,
       CAST(NULL AS VARCHAR) AS product, model, cost_type, token_type,
       c.step, c.cause,
       CASE c.cause
            WHEN 'priority_tier_not_in_cost_report' THEN priority_amount_usd
            WHEN 'negotiated_discount' THEN discount_usd
            WHEN 'code_execution_not_in_usage' THEN code_execution_usd
            WHEN 'keyless_workbench_usage' THEN CAST(0 AS DECIMAL(38, 12))
            WHEN 'rounding' THEN rounding_usd
            WHEN 'revision_between_pulls' THEN CASE WHEN read_before_day_end THEN residual_usd ELSE 0 END
            ELSE CASE WHEN read_before_day_end THEN 0 ELSE residual_usd END
       END AS amount_usd,
       CASE c.cause WHEN 'keyless_workbench_usage' THEN keyless_list_usd END AS memo_usd,
       from_figure_usd, to_figure_usd,
       'usage at list price (raw.console_usage x facts.price_book)' AS from_figure,
       'billed cost (raw.console_cost)' AS to_figure,
       CASE c.cause
            WHEN 'priority_tier_not_in_cost_report' THEN 'priority-tier usage at list: billed outside the cost report (facts.cost carries it as an estimate)'
            WHEN 'negotiated_discount' THEN 'usage billed in the cost report, at list, x the day''s negotiated discount of ' || CAST(CAST(CAST(10000 - coalesce(kept_basis_points, 10000) AS DECIMAL(6, 0)) / 100 AS DECIMAL(6, 2)) AS VARCHAR) || ' % (1 - billed / list)'
            WHEN 'code_execution_not_in_usage' THEN 'code execution (container-hours beyond the daily free allowance): in the cost report, never in usage'
            WHEN 'keyless_workbench_usage' THEN 'usage with no API key (Workbench, service accounts) is billed in the default workspace''s lines like keyed usage: no gap (memo_usd: its list cost inside both figures)'
            WHEN 'rounding' THEN 'each usage row''s discounted amount rounded half-even to a whole micro-cent, as billed'
            WHEN 'revision_between_pulls' THEN CASE WHEN read_before_day_end
                 THEN 'a report was read before the day ended: the figures describe different states of the day'
                 ELSE 'both reports were read after the day ended' END
            ELSE 'what no named cause explains' END AS explanation,
       'raw.console_usage, raw.console_cost, facts.price_book' AS source_tables,
       strftime(usage_date, '%Y-%m-%d') || '|' || org_id AS source_partitions,
       requests AS source_requests,
       CAST(NULL AS TIMESTAMPTZ) AS from_refreshed_at, CAST(NULL AS TIMESTAMPTZ) AS to_refreshed_at
FROM residuals
CROSS JOIN (VALUES (1, 'priority_tier_not_in_cost_report'), (2, 'negotiated_discount'),
                   (3, 'code_execution_not_in_usage'), (4, 'keyless_workbench_usage'), (5, 'rounding'),
                   (6, 'revision_between_pulls'), (9, 'unexplained')) AS c(step, cause)

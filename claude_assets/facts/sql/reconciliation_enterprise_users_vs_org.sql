-- Sum of the per-seat-user cost report vs the organization's total, per organization, day, product and
-- model: raw.enterprise_user_cost vs raw.enterprise_cost rows of grouping 'product_model' (amounts after
-- the negotiated discount). Parameters: $1 first day, $2 day after the last.
--   non_seat_traffic       = the gap on the products that carry usage no seat user is accountable for:
--                            Claude in Slack channels and unconnected members' DMs (claude-tag and its
--                            spellings), Code Review (claude_code), unattributed usage ('other') and code
--                            execution (no product); the per-user report covers seat users only
--   revision_between_pulls = the gap on seat-only products when the two pulls saw the day at different
--                            export watermarks (data_refreshed_at): the day was revised in between
--   unexplained            = the gap on seat-only products between pulls of the same watermark
WITH users AS (
    SELECT org_id, usage_date, product, model, sum(amount_usd) AS amount_usd,
           string_agg(DISTINCT source_request, ' ; ' ORDER BY source_request) AS requests
    FROM raw.enterprise_user_cost
    WHERE usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
),
org AS (
    SELECT org_id, usage_date, product, model, sum(amount_usd) AS amount_usd,
           string_agg(DISTINCT source_request, ' ; ' ORDER BY source_request) AS requests
    FROM raw.enterprise_cost
    WHERE grouping = 'product_model' AND usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
),
user_pull AS (
    SELECT org_id, usage_date, max(data_refreshed_at) AS refreshed_at
    FROM raw.enterprise_user_cost WHERE usage_date >= $1 AND usage_date < $2 GROUP BY ALL
),
org_pull AS (
    SELECT org_id, usage_date, max(data_refreshed_at) AS refreshed_at
    FROM raw.enterprise_cost WHERE grouping = 'product_model' AND usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
),
grouped AS (
    SELECT coalesce(o.org_id, u.org_id) AS org_id, coalesce(o.usage_date, u.usage_date) AS usage_date,
           coalesce(o.product, u.product) AS product, coalesce(o.model, u.model) AS model,
           CAST(coalesce(u.amount_usd, 0) AS DECIMAL(38, 12)) AS from_figure_usd,
           CAST(coalesce(o.amount_usd, 0) AS DECIMAL(38, 12)) AS to_figure_usd,
           concat_ws(' ; ', u.requests, o.requests) AS requests
    FROM org o
    FULL OUTER JOIN users u
      ON u.org_id = o.org_id AND u.usage_date = o.usage_date
     AND u.product IS NOT DISTINCT FROM o.product AND u.model IS NOT DISTINCT FROM o.model
),
classified AS (
    SELECT g.*, up.refreshed_at AS from_refreshed_at, op.refreshed_at AS to_refreshed_at,
           CAST(g.to_figure_usd - g.from_figure_usd AS DECIMAL(38, 12)) AS gap_usd,
           (g.product IS NULL OR g.product IN ('claude-tag', 'claude_tag', 'claude-in-slack', 'claude_code', 'other'))
               AS carries_non_seat,
           (up.refreshed_at IS DISTINCT FROM op.refreshed_at) AS pulls_differ
    FROM grouped g
    LEFT JOIN user_pull up USING (org_id, usage_date)
    LEFT JOIN org_pull op USING (org_id, usage_date)
)
SELECT org_id, usage_date, 'enterprise_users_vs_org' AS comparison,
       product, model, CAST(NULL AS VARCHAR) AS cost_type, CAST(NULL AS VARCHAR) AS token_type,
       c.step, c.cause,
       CAST(CASE
            WHEN c.cause = 'non_seat_traffic' AND carries_non_seat THEN gap_usd
            WHEN c.cause = 'revision_between_pulls' AND NOT carries_non_seat AND pulls_differ THEN gap_usd
            WHEN c.cause = 'unexplained' AND NOT carries_non_seat AND NOT pulls_differ THEN gap_usd
            ELSE 0 END AS DECIMAL(38, 12)) AS amount_usd,
       CAST(NULL AS DECIMAL(38, 12)) AS memo_usd,
       from_figure_usd, to_figure_usd,
       'sum of the per-user report (raw.enterprise_user_cost)' AS from_figure,
       'organization total (raw.enterprise_cost, grouping product_model)' AS to_figure,
       CASE c.cause
            WHEN 'non_seat_traffic' THEN CASE WHEN carries_non_seat
                 THEN 'usage no seat user is accountable for (Claude in Slack channels, Code Review, other, code execution)'
                   || CASE WHEN pulls_differ THEN '; the pulls differ in data_refreshed_at, so this includes any revision of the day' ELSE '' END
                 ELSE 'a seat-only product: no non-seat usage' END
            WHEN 'revision_between_pulls' THEN CASE WHEN pulls_differ
                 THEN 'the two reports were read at different data_refreshed_at: the day changed in between'
                 ELSE 'both reports were read at the same data_refreshed_at' END
            ELSE 'what no named cause explains' END AS explanation,
       'raw.enterprise_user_cost, raw.enterprise_cost (grouping product_model)' AS source_tables,
       strftime(usage_date, '%Y-%m-%d') || '|' || org_id AS source_partitions,
       requests AS source_requests,
       from_refreshed_at, to_refreshed_at
FROM classified
CROSS JOIN (VALUES (1, 'non_seat_traffic'), (2, 'revision_between_pulls'), (9, 'unexplained')) AS c(step, cause)

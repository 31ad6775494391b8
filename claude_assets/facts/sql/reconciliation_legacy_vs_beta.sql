-- The legacy cost report vs the beta Cost Analytics endpoint (read only for organizations with
-- analytics_beta: true), per organization, day, product and model: raw.enterprise_cost rows of grouping
-- 'product_model' vs raw.analytics_cost (amounts after the negotiated discount).
-- Parameters: $1 first day, $2 day after the last.
--   revision_between_pulls = the gap when the two pulls saw the day at different data_refreshed_at
--   unexplained            = the gap between pulls of the same watermark (both endpoints report the same money)
-- The two endpoints spell Claude in Slack differently (legacy claude-tag, beta claude_tag; the docs say
-- claude-in-slack): compared under the legacy spelling.
WITH beta AS (
    SELECT org_id, usage_date,
           CASE WHEN product IN ('claude_tag', 'claude-in-slack') THEN 'claude-tag' ELSE product END AS product,
           model, sum(amount_usd) AS amount_usd,
           string_agg(DISTINCT source_request, ' ; ' ORDER BY source_request) AS requests
    FROM raw.analytics_cost
    WHERE usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
),
legacy AS (
    SELECT org_id, usage_date, product, model, sum(amount_usd) AS amount_usd,
           string_agg(DISTINCT source_request, ' ; ' ORDER BY source_request) AS requests
    FROM raw.enterprise_cost
    WHERE grouping = 'product_model' AND usage_date >= $1 AND usage_date < $2
      AND (org_id, usage_date) IN (SELECT (org_id, usage_date) FROM raw.analytics_cost)
    GROUP BY ALL
),
beta_pull AS (
    SELECT org_id, usage_date, max(data_refreshed_at) AS refreshed_at
    FROM raw.analytics_cost WHERE usage_date >= $1 AND usage_date < $2 GROUP BY ALL
),
legacy_pull AS (
    SELECT org_id, usage_date, max(data_refreshed_at) AS refreshed_at
    FROM raw.enterprise_cost WHERE grouping = 'product_model' AND usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
),
grouped AS (
    SELECT coalesce(l.org_id, b.org_id) AS org_id, coalesce(l.usage_date, b.usage_date) AS usage_date,
           coalesce(l.product, b.product) AS product, coalesce(l.model, b.model) AS model,
           CAST(coalesce(l.amount_usd, 0) AS DECIMAL(38, 12)) AS from_figure_usd,
           CAST(coalesce(b.amount_usd, 0) AS DECIMAL(38, 12)) AS to_figure_usd,
           concat_ws(' ; ', l.requests, b.requests) AS requests
    FROM legacy l
    FULL OUTER JOIN beta b
      ON b.org_id = l.org_id AND b.usage_date = l.usage_date
     AND b.product IS NOT DISTINCT FROM l.product AND b.model IS NOT DISTINCT FROM l.model
),
classified AS (
    SELECT g.*, lp.refreshed_at AS from_refreshed_at, bp.refreshed_at AS to_refreshed_at,
           CAST(g.to_figure_usd - g.from_figure_usd AS DECIMAL(38, 12)) AS gap_usd,
           (lp.refreshed_at IS DISTINCT FROM bp.refreshed_at) AS pulls_differ
    FROM grouped g
    LEFT JOIN legacy_pull lp USING (org_id, usage_date)
    LEFT JOIN beta_pull bp USING (org_id, usage_date)
)
SELECT org_id, usage_date, 'legacy_vs_beta' AS comparison,
       product, model, CAST(NULL AS VARCHAR) AS cost_type, CAST(NULL AS VARCHAR) AS token_type,
       c.step, c.cause,
       CAST(CASE WHEN (c.cause = 'revision_between_pulls') = pulls_differ THEN gap_usd ELSE 0 END
            AS DECIMAL(38, 12)) AS amount_usd,
       CAST(NULL AS DECIMAL(38, 12)) AS memo_usd,
       from_figure_usd, to_figure_usd,
       'legacy cost report (raw.enterprise_cost, grouping product_model)' AS from_figure,
       'beta Cost Analytics (raw.analytics_cost)' AS to_figure,
       CASE c.cause
            WHEN 'revision_between_pulls' THEN CASE WHEN pulls_differ
                 THEN 'the two endpoints were read at different data_refreshed_at: the day changed in between'
                 ELSE 'both endpoints were read at the same data_refreshed_at' END
            ELSE 'what no named cause explains (both endpoints report the same money)' END AS explanation,
       'raw.enterprise_cost (grouping product_model), raw.analytics_cost' AS source_tables,
       strftime(usage_date, '%Y-%m-%d') || '|' || org_id AS source_partitions,
       requests AS source_requests,
       from_refreshed_at, to_refreshed_at
FROM classified
CROSS JOIN (VALUES (2, 'revision_between_pulls'), (9, 'unexplained')) AS c(step, cause)

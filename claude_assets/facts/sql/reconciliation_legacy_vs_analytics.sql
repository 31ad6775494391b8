-- Parity of the legacy reports with the Usage and Cost Analytics API, per organization, day, model and cost
-- type, for Console and Enterprise organizations alike (amounts after the negotiated discount):
--   from: the legacy record: raw.console_cost (Console), raw.enterprise_cost grouping 'token_type' (Enterprise)
--   to:   raw.analytics_cost grouping 'billing'
-- Only days both sources were read for (raw.ingest_log), so a day one side has not pulled yet is no gap.
-- Non-token lines (web search, code execution, sessions) are compared per cost type with no model: the Console
-- cost report documents model null for non-token costs (reference A2), where the analytics API names the model.
-- Parameters: $1 first day, $2 day after the last.
--   revision_between_pulls = the gap when both pulls carry an export watermark (data_refreshed_at; Enterprise)
--                            and the two differ: the day was revised in between (reference B0)
--   unexplained            = any other gap: both report the same money for the same day (reference B13)
WITH read_days AS (
    SELECT org_id, usage_date,
           bool_or(table_name = 'raw.analytics_cost') AS analytics,
           bool_or(table_name IN ('raw.console_cost', 'raw.enterprise_cost')) AS legacy
    FROM raw.ingest_log
    WHERE table_name IN ('raw.analytics_cost', 'raw.console_cost', 'raw.enterprise_cost')
      AND usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
    HAVING analytics AND legacy
),
legacy_lines AS (
    SELECT org_id, usage_date, CASE WHEN cost_type = 'tokens' THEN model END AS model, cost_type, amount_usd,
           NULL::TIMESTAMPTZ AS data_refreshed_at, source_request, 'raw.console_cost' AS source_table
    FROM raw.console_cost WHERE usage_date >= $1 AND usage_date < $2
    UNION ALL
    SELECT org_id, usage_date, CASE WHEN cost_type = 'tokens' THEN model END, cost_type, amount_usd,
           data_refreshed_at, source_request,
           'raw.enterprise_cost (grouping token_type)'
    FROM raw.enterprise_cost WHERE grouping = 'token_type' AND usage_date >= $1 AND usage_date < $2
),
legacy AS (
    SELECT org_id, usage_date, model, cost_type, sum(amount_usd) AS amount_usd,
           string_agg(DISTINCT source_request, ' ; ' ORDER BY source_request) AS requests,
           min(source_table) AS source_table
    FROM legacy_lines SEMI JOIN read_days USING (org_id, usage_date)
    GROUP BY ALL
),
analytics AS (
    SELECT org_id, usage_date, CASE WHEN cost_type = 'tokens' THEN model END AS model, cost_type,
           sum(amount_usd) AS amount_usd,
           string_agg(DISTINCT source_request, ' ; ' ORDER BY source_request) AS requests
    FROM raw.analytics_cost SEMI JOIN read_days USING (org_id, usage_date)
    WHERE grouping = 'billing' AND usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
),
legacy_pull AS (
    SELECT org_id, usage_date, max(data_refreshed_at) AS refreshed_at, count(data_refreshed_at) > 0 AS stamped
    FROM legacy_lines GROUP BY ALL
),
analytics_pull AS (
    SELECT org_id, usage_date, max(data_refreshed_at) AS refreshed_at
    FROM raw.analytics_cost WHERE grouping = 'billing' AND usage_date >= $1 AND usage_date < $2 GROUP BY ALL
),
lines AS (
    SELECT coalesce(l.org_id, a.org_id) AS org_id, coalesce(l.usage_date, a.usage_date) AS usage_date,
           coalesce(l.model, a.model) AS model, coalesce(l.cost_type, a.cost_type) AS cost_type,
           CAST(coalesce(l.amount_usd, 0) AS DECIMAL(38, 12)) AS from_figure_usd,
           CAST(coalesce(a.amount_usd, 0) AS DECIMAL(38, 12)) AS to_figure_usd,
           concat_ws(' ; ', l.requests, a.requests) AS requests,
           l.source_table
    FROM legacy l
    FULL OUTER JOIN analytics a
      ON a.org_id = l.org_id AND a.usage_date = l.usage_date
     AND a.model IS NOT DISTINCT FROM l.model AND a.cost_type IS NOT DISTINCT FROM l.cost_type
),
classified AS (
    SELECT g.*, lp.refreshed_at AS from_refreshed_at, ap.refreshed_at AS to_refreshed_at,
           CAST(g.to_figure_usd - g.from_figure_usd AS DECIMAL(38, 12)) AS gap_usd,
           coalesce(lp.stamped AND ap.refreshed_at IS NOT NULL AND lp.refreshed_at <> ap.refreshed_at, false)
               AS pulls_differ
    FROM lines g
    LEFT JOIN legacy_pull lp USING (org_id, usage_date)
    LEFT JOIN analytics_pull ap USING (org_id, usage_date)
)
SELECT org_id, usage_date, 'legacy_vs_analytics' AS comparison,
       CAST(NULL AS VARCHAR) AS product, model, cost_type, CAST(NULL AS VARCHAR) AS token_type,
       c.step, c.cause,
       CAST(CASE WHEN (c.cause = 'revision_between_pulls') = pulls_differ THEN gap_usd ELSE 0 END
            AS DECIMAL(38, 12)) AS amount_usd,
       CAST(NULL AS DECIMAL(38, 12)) AS memo_usd,
       from_figure_usd, to_figure_usd,
       'legacy cost report (' || coalesce(source_table, 'raw.console_cost / raw.enterprise_cost: no line') || ')'
           AS from_figure,
       'Usage and Cost Analytics API (raw.analytics_cost, grouping billing)' AS to_figure,
       CASE c.cause
            WHEN 'revision_between_pulls' THEN CASE WHEN pulls_differ
                 THEN 'the two sources were read at different data_refreshed_at: the day changed in between'
                 ELSE 'no revision between the pulls (same data_refreshed_at, or the legacy report has none)' END
            ELSE 'what no documented cause explains (both sources report the same money for the day)' END
           AS explanation,
       coalesce(source_table, 'raw.console_cost / raw.enterprise_cost') || ', raw.analytics_cost (grouping billing)'
           AS source_tables,
       strftime(usage_date, '%Y-%m-%d') || '|' || org_id AS source_partitions,
       requests AS source_requests,
       from_refreshed_at, to_refreshed_at
FROM classified
CROSS JOIN (VALUES (2, 'revision_between_pulls'), (9, 'unexplained')) AS c(step, cause)

-- Billed lines of the days [$1, $2) whose record is the Usage and Cost Analytics API (cost_record: analytics;
-- the organization-days in _analytics_record, read for that organization): raw.analytics_cost rows of grouping
-- 'billing' (workspace x model x service tier x context window x geo x cost type x token type), a grouping that
-- partitions every charge (its sum is the ungrouped total). Amount is billed (after the negotiated discount),
-- list amount the list cost.
SELECT
    a.org_id,
    a.usage_date,
    r.org_kind,
    'raw.analytics_cost' AS source,
    'day x workspace x model x tier x context window x geo x cost type x token type' AS source_grain,
    'billed' AS charge_kind,
    concat_ws(' - ', coalesce(a.model, 'no model'), a.cost_type, a.token_type) AS description,
    a.workspace_id,
    NULL AS api_key_id,
    NULL AS user_id,
    NULL AS product,
    a.model,
    a.service_tier,
    a.context_window,
    a.inference_geo,
    NULL AS speed,
    a.cost_type,
    a.token_type,
    a.currency,
    sum(a.amount_usd) AS billed_cost_usd,
    sum(a.list_amount_usd) AS list_cost_usd,
    sum(a.amount_usd) AS effective_cost_usd,
    NULL AS estimated_cost_usd,
    max(a.data_refreshed_at) AS data_refreshed_at,
    max(a.fetched_at) AS fetched_at,
    string_agg(DISTINCT a.source_request, ' | ' ORDER BY a.source_request) AS source_request
FROM raw.analytics_cost AS a
JOIN _analytics_record AS r ON r.org_id = a.org_id AND r.usage_date = a.usage_date
WHERE a.grouping = 'billing' AND a.usage_date >= $1 AND a.usage_date < $2
GROUP BY
    a.org_id, a.usage_date, r.org_kind, a.workspace_id, a.model, a.service_tier, a.context_window, a.inference_geo,
    a.cost_type, a.token_type, a.currency

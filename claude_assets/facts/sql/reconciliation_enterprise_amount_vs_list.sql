-- Enterprise amount (after the negotiated discount) vs list amount, per organization, day, model, cost type
-- and token type, from the record: raw.enterprise_cost rows of grouping 'token_type'.
-- Parameters: $1 first day, $2 day after the last.
--   negotiated_discount = -(list x the day's discount), the discount read off the day's totals
--                         (1 - amount / list, to whole basis points: negotiated discounts are)
--   rounding            = what is left, up to half a micro-cent (5e-9 USD) per request of the model that
--                         day (the API rounds each record's discounted amount; a record has >= 1 request)
--   unexplained         = what is left beyond that bound
WITH lines AS (
    SELECT org_id, usage_date, model, cost_type,
           token_type,
           list_amount_usd, amount_usd, data_refreshed_at, source_request
    FROM raw.enterprise_cost
    WHERE grouping = 'token_type' AND usage_date >= $1 AND usage_date < $2
),
day_rate AS (
    SELECT org_id, usage_date,
           -- round(10000 x amount / list) in exact integer arithmetic (amounts are whole 1e-12 USD)
           CASE WHEN sum(list_amount_usd) = 0 THEN 10000
                ELSE (20000 * CAST(sum(amount_usd) * 1000000000000 AS HUGEINT)
                      + CAST(sum(list_amount_usd) * 1000000000000 AS HUGEINT))
                     // (2 * CAST(sum(list_amount_usd) * 1000000000000 AS HUGEINT))
           END AS kept_basis_points
    FROM lines GROUP BY ALL
),
model_requests AS (
    SELECT org_id, usage_date, model, sum(requests) AS requests
    FROM raw.enterprise_cost
    WHERE grouping = 'product_model' AND usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
),
grouped AS (
    SELECT l.org_id, l.usage_date, l.model, l.cost_type, l.token_type,
           CAST(sum(l.list_amount_usd) AS DECIMAL(38, 12)) AS from_figure_usd,
           CAST(sum(l.amount_usd) AS DECIMAL(38, 12)) AS to_figure_usd,
           any_value(r.kept_basis_points) AS kept_basis_points,
           CAST(coalesce(any_value(q.requests), 0) * CAST('0.000000005' AS DECIMAL(18, 12)) AS DECIMAL(38, 12)) AS rounding_bound_usd,
           max(l.data_refreshed_at) AS refreshed_at,
           string_agg(DISTINCT l.source_request, ' ; ' ORDER BY l.source_request) AS requests
    FROM lines l
    JOIN day_rate r USING (org_id, usage_date)
    LEFT JOIN model_requests q
      ON q.org_id = l.org_id AND q.usage_date = l.usage_date AND q.model IS NOT DISTINCT FROM l.model
    GROUP BY l.org_id, l.usage_date, l.model, l.cost_type, l.token_type
),
steps AS (
    SELECT *,
           CAST(-CAST(from_figure_usd AS DECIMAL(30, 12))
                * CAST(10000 - kept_basis_points AS DECIMAL(6, 0)) / 10000 AS DECIMAL(38, 12))
               AS discount_usd
    FROM grouped
),
residuals AS (
    SELECT *, CAST(to_figure_usd - from_figure_usd - discount_usd AS DECIMAL(38, 12)) AS residual_usd
    FROM steps
),
split AS (
    SELECT *,
           CAST(greatest(-rounding_bound_usd, least(rounding_bound_usd, residual_usd)) AS DECIMAL(38, 12))
               AS rounding_usd
    FROM residuals
)
SELECT org_id, usage_date, 'enterprise_amount_vs_list' AS comparison,
       CAST(NULL AS VARCHAR) AS product, model, cost_type, token_type,
       c.step, c.cause,
       CASE c.cause WHEN 'negotiated_discount' THEN discount_usd
                    WHEN 'rounding' THEN rounding_usd
                    ELSE CAST(residual_usd - rounding_usd AS DECIMAL(38, 12)) END AS amount_usd,
       CASE c.cause WHEN 'rounding' THEN rounding_bound_usd END AS memo_usd,
       from_figure_usd, to_figure_usd,
       'list amount (raw.enterprise_cost, grouping token_type)' AS from_figure,
       'amount after discount (raw.enterprise_cost, grouping token_type)' AS to_figure,
       CASE c.cause
            WHEN 'negotiated_discount' THEN 'list x the day''s negotiated discount of ' || CAST(CAST(CAST(10000 - kept_basis_points AS DECIMAL(6, 0)) / 100 AS DECIMAL(6, 2)) AS VARCHAR) || ' %, read off the day''s totals (1 - amount / list)'
            WHEN 'rounding' THEN 'per-record rounding of the discounted amount: at most half a micro-cent per request (memo_usd: the bound)'
            ELSE 'what no named cause explains' END AS explanation,
       'raw.enterprise_cost (grouping token_type; product_model for requests)' AS source_tables,
       strftime(usage_date, '%Y-%m-%d') || '|' || org_id AS source_partitions,
       requests AS source_requests,
       refreshed_at AS from_refreshed_at, refreshed_at AS to_refreshed_at
FROM split
CROSS JOIN (VALUES (1, 'negotiated_discount'), (2, 'rounding'), (9, 'unexplained')) AS c(step, cause)

-- Every row of the relation with its list cost from facts.price_book: list_cost_usd DECIMAL(38, 12) (NULL when
-- no base price matches: never 0) and price_rule (the base row and each multiplier applied).
-- The relation needs usage_date, model, token_type, service_tier, context_window, inference_geo, speed, quantity.
WITH rows AS (
    SELECT *, row_number() OVER () AS __pricing_row FROM {relation}
),
stems AS (  -- each model id's longest base-price stem: claude-sonnet-4-5-20250929 -> claude-sonnet-4-5
    SELECT m.model, arg_max(s.model, length(s.model)) AS stem
    FROM (SELECT DISTINCT model FROM rows WHERE model IS NOT NULL) AS m
    JOIN (SELECT DISTINCT model FROM facts.price_book WHERE condition = '' AND model <> '*') AS s
      ON m.model = s.model OR starts_with(m.model, s.model || '-')
    GROUP BY m.model
),
keyed AS (
    SELECT r.__pricing_row, r.usage_date, r.token_type, s.stem,
           ['service_tier=' || r.service_tier, 'context_window=' || r.context_window,
            'inference_geo=' || r.inference_geo, 'speed=' || r.speed] AS conditions
    FROM rows AS r LEFT JOIN stems AS s ON r.model = s.model
),
base AS (  -- the model's own price before a price for any model (*)
    SELECT k.__pricing_row, b.model, b.usd_per_unit, b.unit, b.units_per_price, b.effective_from, b.origin
    FROM keyed AS k
    JOIN facts.price_book AS b
      ON b.condition = '' AND b.token_type = k.token_type AND (b.model = k.stem OR b.model = '*')
     AND b.effective_from <= k.usage_date AND (b.effective_to IS NULL OR k.usage_date <= b.effective_to)
    QUALIFY row_number() OVER (PARTITION BY k.__pricing_row ORDER BY b.model = '*') = 1
),
multipliers AS (  -- per condition key, the model's own row before *, an exact token type before a glob
    SELECT k.__pricing_row, b.condition, b.multiplier
    FROM keyed AS k
    JOIN facts.price_book AS b
      ON b.multiplier IS NOT NULL AND list_contains(k.conditions, b.condition)
     AND (b.model = k.stem OR b.model = '*') AND k.token_type GLOB b.token_type
     AND b.effective_from <= k.usage_date AND (b.effective_to IS NULL OR k.usage_date <= b.effective_to)
    QUALIFY row_number() OVER (
        PARTITION BY k.__pricing_row, b.condition ORDER BY b.model = '*', contains(b.token_type, '*')
    ) = 1
),
factors AS (
    SELECT __pricing_row,
           -- one row per condition key at most: a product of four DECIMAL(4, 2) is an exact DECIMAL(16, 8)
           coalesce(max(multiplier) FILTER (WHERE starts_with(condition, 'service_tier=')), 1.00::DECIMAL(4, 2))
         * coalesce(max(multiplier) FILTER (WHERE starts_with(condition, 'context_window=')), 1.00::DECIMAL(4, 2))
         * coalesce(max(multiplier) FILTER (WHERE starts_with(condition, 'speed=')), 1.00::DECIMAL(4, 2))
         * coalesce(max(multiplier) FILTER (WHERE starts_with(condition, 'inference_geo=')), 1.00::DECIMAL(4, 2))
           AS factor,
           string_agg(' x ' || regexp_replace(multiplier::VARCHAR, '\.?0+$', '') || ' (' || condition || ')',
                      '' ORDER BY condition) AS applied
    FROM multipliers
    GROUP BY __pricing_row
),
priced AS (
    SELECT b.__pricing_row,
           -- usd per quantity unit (exact DECIMAL(18, 12): at most 6 decimals over at most 10^6 units),
           -- times the factor, is exact in DECIMAL(22, 20); times a quantity below 10^16, exact in
           -- DECIMAL(38, 20); rounded once to the column's 12 decimals
           CAST(
               CAST(r.quantity AS DECIMAL(16, 0))
             * CAST(
                   CAST(b.usd_per_unit * CASE b.units_per_price WHEN 1000000 THEN 0.000001 WHEN 1000 THEN 0.001
                                                   WHEN 1 THEN 1 END::DECIMAL(7, 6) AS DECIMAL(18, 12))
                 * coalesce(f.factor, 1.00::DECIMAL(4, 2))
                   AS DECIMAL(22, 20))
               AS DECIMAL(38, 12)) AS list_cost_usd,
           b.model || ' ' || r.token_type || ' ' || regexp_replace(b.usd_per_unit::VARCHAR, '\.?0+$', '')
             || ' USD/' || b.unit || ' from ' || b.effective_from::VARCHAR || ' (' || b.origin || ')'
             || coalesce(f.applied, '') AS price_rule
    FROM base AS b
    JOIN rows AS r USING (__pricing_row)
    LEFT JOIN factors AS f USING (__pricing_row)
)
SELECT r.* EXCLUDE (__pricing_row),
       p.list_cost_usd,
       coalesce(
           p.price_rule,
           'unpriced: no price for ' || coalesce(r.model, '(no model)') || ' ' || coalesce(r.token_type, '(no token type)')
             || ' on ' || coalesce(r.usage_date::VARCHAR, '(no date)')
       ) AS price_rule
FROM rows AS r
LEFT JOIN priced AS p USING (__pricing_row)

-- Enterprise, first step: what each seat user and the unattributed remainder hold of a model's billed
-- lines on a day. The per-user report (raw.enterprise_user_cost) gives amount_usd per user, product and
-- model, without cost or token type, so it is matched to the model's billed total (the sum of its lines
-- in facts.cost; a null model, e.g. code execution, has no per-user amount).
-- - Users claim their reported amount (summed over products); the remainder, billed total minus the
--   users' sum, is the explicit unattributed claim (non-seat traffic: Claude in Slack channels, Code
--   Review, usage no seat user is charged for).
-- - When the users' sum exceeds the billed total, no negative money is invented: the users' amounts are
--   scaled down to the total (users_scaled), there is no unattributed claim, and a check warns.
-- Every claim has the model's billed total as total_units: with the remainder among the claims, the
-- weights add up to that total and each claim comes out at its exact reported amount.
WITH models AS (
    SELECT org_id, usage_date, model, sum(parent_units) AS total_units
    FROM parents
    WHERE org_kind = 'enterprise'
    GROUP BY ALL
),
users AS (
    SELECT
        org_id,
        usage_date,
        model,
        user_id,
        CAST(sum(amount_usd) * 1000000000000 AS HUGEINT) AS units,
        string_agg(DISTINCT source_request, ' ; ') AS basis_source_request
    FROM raw.enterprise_user_cost
    WHERE usage_date >= $1 AND usage_date < $2
    GROUP BY ALL
),
matched AS (
    SELECT
        m.org_id,
        m.usage_date,
        m.model,
        m.total_units,
        u.user_id,
        u.units,
        u.basis_source_request,
        coalesce(sum(u.units) OVER (PARTITION BY m.org_id, m.usage_date, m.model), 0) AS users_units
    FROM models AS m
    LEFT JOIN users AS u
        ON u.org_id = m.org_id AND u.usage_date = m.usage_date AND u.model IS NOT DISTINCT FROM m.model
)
SELECT
    org_id,
    usage_date,
    model AS grp,
    model,
    total_units,
    'user' AS claimant_kind,
    user_id AS claimant_id,
    units AS weight,
    users_units > total_units AS users_scaled,
    basis_source_request
FROM matched
WHERE units > 0
UNION ALL
SELECT DISTINCT
    org_id,
    usage_date,
    model AS grp,
    model,
    total_units,
    'unattributed' AS claimant_kind,
    NULL AS claimant_id,
    total_units - users_units AS weight,
    FALSE AS users_scaled,
    NULL AS basis_source_request
FROM matched
WHERE total_units > users_units

-- Enterprise, second step: each billed line of a model split over the model's claims (users and the
-- unattributed remainder), in proportion to the claims' amounts (every claimant is assumed to have the
-- model's mix of token types, which the per-user report does not give).
-- Rounding keeps two totals exact at once: each line's allocations add up to the line, and each claim's
-- allocations over the model's lines add up to the claim (so a user's allocated cost is the reported
-- amount, and the unattributed rows are exactly billed minus the per-user sum). Each cell gets the floor
-- of its exact share in 1e-12 USD units; the units left over (fewer than the claims per line, and than
-- the lines per claim) are dealt out in order of line and claimant, each cell getting the overlap of
-- the line's and the claim's ranges of left-over units.
WITH lines AS (
    SELECT * FROM parents WHERE org_kind = 'enterprise'
),
cells AS (
    SELECT
        l.org_id,
        l.usage_date,
        l.model,
        l.parent_line,
        l.parent_units,
        c.claimant_kind,
        c.claimant_id,
        c.units AS claim_units,
        c.share_units,
        c.users_scaled,
        c.basis_source_request,
        CASE WHEN c.total_units = 0 THEN 0 ELSE l.parent_units * c.units // c.total_units END AS floor_units
    FROM lines AS l
    JOIN enterprise_claimed AS c
        ON c.org_id = l.org_id AND c.usage_date = l.usage_date AND c.model IS NOT DISTINCT FROM l.model
    WHERE c.units > 0
),
line_left AS (
    SELECT
        org_id,
        usage_date,
        model,
        parent_line,
        sum(needed) OVER (PARTITION BY org_id, usage_date, model ORDER BY parent_line) AS range_end,
        needed
    FROM (
        SELECT org_id, usage_date, model, parent_line, any_value(parent_units) - sum(floor_units) AS needed
        FROM cells
        GROUP BY ALL
    )
),
claim_left AS (
    SELECT
        org_id,
        usage_date,
        model,
        claimant_kind,
        claimant_id,
        sum(needed) OVER (
            PARTITION BY org_id, usage_date, model ORDER BY claimant_kind, claimant_id NULLS FIRST
        ) AS range_end,
        needed
    FROM (
        SELECT org_id, usage_date, model, claimant_kind, claimant_id, any_value(claim_units) - sum(floor_units) AS needed
        FROM cells
        GROUP BY ALL
    )
)
SELECT
    c.org_id,
    c.usage_date,
    c.parent_line,
    c.claimant_kind,
    c.claimant_id,
    c.share_units,
    c.users_scaled,
    c.basis_source_request,
    c.floor_units + greatest(
        0, least(l.range_end, k.range_end) - greatest(l.range_end - l.needed, k.range_end - k.needed)
    ) AS units
FROM cells AS c
JOIN line_left AS l
    ON l.org_id = c.org_id AND l.usage_date = c.usage_date AND l.parent_line = c.parent_line
JOIN claim_left AS k
    ON k.org_id = c.org_id
    AND k.usage_date = c.usage_date
    AND k.model IS NOT DISTINCT FROM c.model
    AND k.claimant_kind = c.claimant_kind
    AND k.claimant_id IS NOT DISTINCT FROM c.claimant_id

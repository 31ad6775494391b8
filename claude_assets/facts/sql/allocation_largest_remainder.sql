-- Largest remainder at the 1e-12 USD unit, over the claims of {claims} (org_id, usage_date, grp,
-- total_units, weight > 0, claimant_kind, claimant_id, and any columns to carry through).
-- Each claim of a group gets floor(total_units * weight / the group's weight) units; the units left over
-- (fewer than the group's claims) go one each to the claims with the largest remainders, ties broken by
-- claimant, so the claims of a group add up to total_units exactly: nothing lost, nothing invented.
WITH weighed AS (
    SELECT *, sum(weight) OVER (PARTITION BY org_id, usage_date, grp) AS group_weight
    FROM {claims}
),
floored AS (
    SELECT
        *,
        total_units * weight // group_weight AS floor_units,
        total_units * weight % group_weight AS remainder
    FROM weighed
),
ranked AS (
    SELECT
        *,
        total_units - sum(floor_units) OVER (PARTITION BY org_id, usage_date, grp) AS left_over,
        row_number() OVER (
            PARTITION BY org_id, usage_date, grp
            ORDER BY remainder DESC, claimant_kind, claimant_id NULLS FIRST
        ) AS remainder_rank
    FROM floored
)
SELECT
    * EXCLUDE (floor_units, remainder, left_over, remainder_rank),
    floor_units + CASE WHEN remainder_rank <= left_over THEN 1 ELSE 0 END AS units,
    weight * 1000000000000 // group_weight AS share_units
FROM ranked

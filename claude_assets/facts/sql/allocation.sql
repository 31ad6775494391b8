-- facts.cost_allocation for the days [$1, $2): every billed line of facts.cost (a parent) split to the
-- finest grain the data allows, each parent's rows adding up to it exactly. The parts are the
-- allocation_*.sql files beside this one, placed where their names stand in braces.
WITH parents AS ({parents}),
console_claims AS ({console_claims}),
console_split AS ({console_split}),
enterprise_claims AS ({enterprise_claims}),
enterprise_claimed AS ({enterprise_claimed}),
enterprise_split AS ({enterprise_split}),
allocated AS (
    SELECT
        org_id,
        usage_date,
        grp AS parent_line,
        claimant_kind AS allocated_to_kind,
        claimant_id AS api_key_id,
        NULL AS user_id,
        share_units,
        units,
        basis,
        NULL AS reason,
        FALSE AS users_scaled,
        'raw.console_usage' AS basis_table,
        basis_source_request
    FROM console_split
    UNION ALL
    SELECT
        org_id,
        usage_date,
        parent_line,
        claimant_kind,
        NULL,
        claimant_id,
        share_units,
        units,
        CASE claimant_kind
            WHEN 'user' THEN 'per-user report (user x model, spread over the model''s lines by amount)'
            ELSE 'billed total minus the per-user report'
        END,
        CASE
            WHEN claimant_kind = 'unattributed'
                THEN 'non-seat traffic: no seat user is charged for it in the per-user report'
            WHEN users_scaled
                THEN 'the per-user amounts of this model and day exceeded its billed lines: scaled down to them'
        END,
        users_scaled,
        'raw.enterprise_user_cost',
        basis_source_request
    FROM enterprise_split
),
whole AS (
    SELECT
        p.org_id,
        p.usage_date,
        p.parent_line,
        'whole_line' AS allocated_to_kind,
        NULL AS api_key_id,
        NULL AS user_id,
        CAST(1000000000000 AS HUGEINT) AS share_units,
        p.parent_units AS units,
        'whole line' AS basis,
        CASE
            WHEN p.parent_units = 0 THEN 'the line is zero'
            WHEN p.cost_type = 'code_execution' THEN 'code execution has no usage-report counterpart'
            WHEN p.org_kind = 'console' THEN 'no usage with the line''s dimensions on its day'
            ELSE 'no per-user amount and no remainder to split by'
        END AS reason,
        FALSE AS users_scaled,
        NULL AS basis_table,
        NULL AS basis_source_request
    FROM parents AS p
    ANTI JOIN allocated AS a
        ON a.org_id = p.org_id AND a.usage_date = p.usage_date AND a.parent_line = p.parent_line
)
SELECT
    p.org_id,
    p.usage_date,
    p.org_kind,
    p.parent_line,
    p.source,
    p.description,
    p.workspace_id,
    p.model,
    p.cost_type,
    p.token_type,
    p.service_tier,
    p.context_window,
    p.inference_geo,
    p.speed,
    p.parent_billed_cost_usd,
    r.allocated_to_kind,
    r.api_key_id,
    r.user_id,
    CAST(r.share_units AS DECIMAL(26, 0)) * CAST(0.000000000001 AS DECIMAL(13, 12)) AS share,
    CAST(r.units AS DECIMAL(26, 0)) * CAST(0.000000000001 AS DECIMAL(13, 12)) AS allocated_cost_usd,
    r.basis,
    r.reason,
    r.users_scaled,
    concat_ws('; ', 'facts.cost (from ' || p.source || ')', r.basis_table) AS source_tables,
    p.fetched_at,
    p.source_request,
    r.basis_source_request
FROM parents AS p
JOIN (SELECT * FROM allocated UNION ALL SELECT * FROM whole) AS r
    ON r.org_id = p.org_id AND r.usage_date = p.usage_date AND r.parent_line = p.parent_line

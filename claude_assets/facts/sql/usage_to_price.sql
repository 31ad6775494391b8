-- What the price book prices, per staged usage row (_usage_units): tokens (by the cost report's token types)
-- and web searches. A dimension the source does not report takes the value that has no
-- surcharge: standard tier, 0-200k context, global inference, standard speed. Requests are not a priced unit.
SELECT
    unit_id,
    usage_date,
    model,
    token_type,
    coalesce(service_tier, 'standard') AS service_tier,
    coalesce(context_window, '0-200k') AS context_window,
    coalesce(inference_geo, 'global') AS inference_geo,
    coalesce(speed, 'standard') AS speed,
    quantity
FROM _usage_units
WHERE token_type <> 'requests'

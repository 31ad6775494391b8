-- Every staged usage row (_usage_units) with its list price (_usage_prices, from the price book); requests and
-- rows the price book does not know keep a NULL list cost (unpriced, never zero).
SELECT u.*, p.list_cost_usd, p.price_rule
FROM _usage_units AS u
LEFT JOIN _usage_prices AS p USING (unit_id)

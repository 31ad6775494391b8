-- The measure a usage column counts, named as the cost reports name token types (cost_report token_type),
-- 'web_search_requests' for server-side web searches, 'requests' for requests. Claude Code reports cache writes
-- without their time to live: they are taken as 5-minute writes, Claude Code's default.
CREATE OR REPLACE TEMP MACRO usage_token_type(measure) AS CASE measure
    WHEN 'uncached_input_tokens' THEN 'uncached_input_tokens'
    WHEN 'input_tokens' THEN 'uncached_input_tokens'
    WHEN 'cache_creation_5m_input_tokens' THEN 'cache_creation.ephemeral_5m_input_tokens'
    WHEN 'cache_creation_tokens' THEN 'cache_creation.ephemeral_5m_input_tokens'
    WHEN 'cache_creation_1h_input_tokens' THEN 'cache_creation.ephemeral_1h_input_tokens'
    WHEN 'cache_read_input_tokens' THEN 'cache_read_input_tokens'
    WHEN 'cache_read_tokens' THEN 'cache_read_input_tokens'
    WHEN 'output_tokens' THEN 'output_tokens'
    WHEN 'web_search_requests' THEN 'web_search_requests'
    WHEN 'requests' THEN 'requests'
END

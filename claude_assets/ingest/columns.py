"""Columns several source families share because the API reports them alike: the token counts of a usage row."""

from claude_assets.warehouse.contract import col

#: the token counts of a usage report row, cache writes split by their time to live
USAGE_TOKEN_COLUMNS = (
    col("uncached_input_tokens", "BIGINT", nullable=False),
    col("cache_creation_5m_input_tokens", "BIGINT", "5-minute cache writes", False),
    col("cache_creation_1h_input_tokens", "BIGINT", "1-hour cache writes", False),
    col("cache_read_input_tokens", "BIGINT", nullable=False),
    col("output_tokens", "BIGINT", nullable=False),
    col("web_search_requests", "BIGINT", "server-side web searches", False),
)
USAGE_TOKENS = tuple(c.name for c in USAGE_TOKEN_COLUMNS)

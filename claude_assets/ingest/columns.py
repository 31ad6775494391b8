"""Columns several source families share because the API reports them alike: the token counts of a usage row."""

from claude_assets.warehouse.contract import col

#: the token counts of a usage report row, cache writes split by their time to live
USAGE_TOKEN_COLUMNS = (
    col(
        "uncached_input_tokens",
        "BIGINT",
        "input tokens neither read from nor written to the prompt cache",
        False,
    ),
    col(
        "cache_creation_5m_input_tokens",
        "BIGINT",
        "input tokens written to the prompt cache with a 5-minute lifetime",
        False,
    ),
    col(
        "cache_creation_1h_input_tokens",
        "BIGINT",
        "input tokens written to the prompt cache with a 1-hour lifetime",
        False,
    ),
    col("cache_read_input_tokens", "BIGINT", "input tokens read from the prompt cache", False),
    col("output_tokens", "BIGINT", "output tokens generated", False),
    col("web_search_requests", "BIGINT", "server-side web searches", False),
)
USAGE_TOKENS = tuple(c.name for c in USAGE_TOKEN_COLUMNS)

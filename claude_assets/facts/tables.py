"""The facts tables (schema ``facts``), declared once: DDL, Dagster column schema and pandera schema come
from these declarations. Each part of the layer declares its tables here, in dependency order."""

from claude_assets.warehouse.contract import LINEAGE, MONEY, ORG_ID, Table, col  # noqa: F401

# -- the price book ------------------------------------------------------------------------------------

PRICE_BOOK = Table(
    schema="facts",
    name="price_book",
    description=(
        "List prices, effective-dated: one row per published fact. A row with an empty condition is a base "
        "price (USD per unit of a token type, web search or code execution); a row with a condition "
        "(service_tier=batch, context_window=200k-1M, speed=fast, inference_geo=us) is a multiplier on the "
        "base prices it matches. Built from the data file claude_assets/facts/price_book.csv plus the rows of "
        "the configuration's price_book_file (same model, token type, condition and effective_from: the "
        "override wins). A model id matches the longest model stem it starts with; a price applies from "
        "effective_from to effective_to (inclusive). A usage row no base price matches is unpriced (NULL), "
        "never zero."
    ),
    columns=(
        col(
            "model",
            "VARCHAR",
            "API model id stem (a model id matches the longest stem it starts with); * = any model",
            False,
        ),
        col(
            "token_type",
            "VARCHAR",
            "token type as in facts.usage (uncached_input_tokens, cache_creation_5m_input_tokens, "
            "cache_creation_1h_input_tokens, cache_read_input_tokens, output_tokens, web_search_requests, "
            "code_execution_hours), or a glob over them on multiplier rows (*_tokens, *_input_tokens)",
            False,
        ),
        col(
            "condition",
            "VARCHAR",
            "empty for a base price; else key=value the multiplier (or alternative price) applies under",
            False,
        ),
        col(
            "usd_per_unit",
            "DECIMAL(18, 6)",
            "list price in USD per unit (base rows and alternative-price rows)",
        ),
        col(
            "unit", "VARCHAR", "the unit of usd_per_unit: MTok (million tokens), 1K searches, container-hour"
        ),
        col(
            "units_per_price",
            "BIGINT",
            "quantity units in one price unit: 1,000,000 tokens; 1,000 searches; 1,000,000 micro-hours",
        ),
        col("multiplier", "DECIMAL(4, 2)", "factor on the matching base prices (condition rows)"),
        col("effective_from", "DATE", "first usage day the row applies to", False),
        col(
            "effective_to",
            "DATE",
            "last usage day the row applies to (the day before the next effective_from of the same model, token type and condition); NULL while current",
        ),
        col("derived", "BOOLEAN", "computed from published ratios rather than read from the page", False),
        col("source", "VARCHAR", "where the fact comes from (the page)", False),
        col("note", "VARCHAR", "what the row means where it is not obvious"),
        col("origin", "VARCHAR", "'default' (the project's data file) or the override file's name", False),
    ),
    grain=("model", "token_type", "condition", "effective_from"),
    counts=(),
)

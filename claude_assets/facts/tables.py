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
        col("org_id", "VARCHAR", "* : list prices are the same for every organization", False),
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

# -- the reconciliation of figures that disagree ----------------------------------------------------------

COST_RECONCILIATION = Table(
    schema="facts",
    name="cost_reconciliation",
    description=(
        "Why two cost figures disagree: per organization, day, comparison and line (product, model, cost type, "
        "token type), a waterfall from from_figure_usd to to_figure_usd, one row per named cause (amount_usd); "
        "from_figure_usd + sum(amount_usd) = to_figure_usd exactly. Comparisons: console_billed_vs_usage_list "
        "(usage x list price -> billed), enterprise_amount_vs_list (list amount -> amount), "
        "enterprise_users_vs_org (per-user sum -> organization total), legacy_vs_beta (legacy cost report -> "
        "beta Cost Analytics, only with analytics_beta). Causes: negotiated_discount, "
        "priority_tier_not_in_cost_report, code_execution_not_in_usage, keyless_workbench_usage, "
        "non_seat_traffic, revision_between_pulls, rounding, unexplained. Each row names the raw tables, the "
        "partition (day|org) and the source_request values it came from. Read by cause: sum(amount_usd) "
        "GROUP BY comparison, cause (from/to figures repeat on every cause row of a line)."
    ),
    columns=(
        ORG_ID,
        col("usage_date", "DATE", "the UTC day", False),
        col("comparison", "VARCHAR", "which two figures the waterfall joins", False),
        col("product", "VARCHAR", "Enterprise product (per-user and beta comparisons); null otherwise"),
        col("model", "VARCHAR", "model; null for web search and code execution lines, or no model"),
        col("cost_type", "VARCHAR", "tokens, web_search or code_execution (where the comparison has it)"),
        col("token_type", "VARCHAR", "token type as in facts.usage (where the comparison has it)"),
        col("step", "INTEGER", "the cause's place in the waterfall (unexplained last)", False),
        col("cause", "VARCHAR", "the named cause", False),
        col("amount_usd", MONEY, "what this cause moves from the from figure towards the to figure", False),
        col(
            "memo_usd",
            MONEY,
            "context that moves no money: the key-less usage at list inside both figures (keyless_workbench_"
            "usage), the rounding bound (Enterprise rounding)",
        ),
        col("from_figure_usd", MONEY, "the line's from figure (repeated on each cause row)", False),
        col("to_figure_usd", MONEY, "the line's to figure (repeated on each cause row)", False),
        col("from_figure", "VARCHAR", "what the from figure is and where it comes from", False),
        col("to_figure", "VARCHAR", "what the to figure is and where it comes from", False),
        col("explanation", "VARCHAR", "how this cause's amount is computed, for this line", False),
        col("source_tables", "VARCHAR", "the tables (and groupings) the line was computed from", False),
        col("source_partitions", "VARCHAR", "the raw partition (day|org) the line came from", False),
        col("source_requests", "VARCHAR", "the raw rows' source_request values (' ; '-separated)"),
        col("from_refreshed_at", "TIMESTAMPTZ", "data_refreshed_at of the from figure's pull (Enterprise)"),
        col("to_refreshed_at", "TIMESTAMPTZ", "data_refreshed_at of the to figure's pull (Enterprise)"),
    ),
    grain=("org_id", "usage_date", "comparison", "product", "model", "cost_type", "token_type", "cause"),
    money=("amount_usd",),
)

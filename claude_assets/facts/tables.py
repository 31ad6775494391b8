"""The facts tables (schema ``facts``), declared once: DDL, Dagster column schema and pandera schema come
from these declarations. Each part of the layer declares its tables here, in dependency order."""

from claude_assets.warehouse.contract import EMAIL, LINEAGE, MONEY, ORG_ID, USER_ID, Table, col  # noqa: F401

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
            "token type as in facts.usage (uncached_input_tokens, cache_creation.ephemeral_5m_input_tokens, "
            "cache_creation.ephemeral_1h_input_tokens, cache_read_input_tokens, output_tokens, web_search_requests, "
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


# -- unified cost and usage -----------------------------------------------------------------------------

_DAY = col("usage_date", "DATE", "the UTC day of the usage or charge", False)
_ORG_KIND = col("org_kind", "VARCHAR", "console or enterprise", False)
_SOURCE = col("source", "VARCHAR", "the raw table the row comes from, e.g. raw.console_cost", False)
_SOURCE_GRAIN = col(
    "source_grain", "VARCHAR", "what one row stands for, e.g. 'day x workspace x cost line'", False
)
#: the Anthropic dimensions both tables carry (null when the source lacks the dimension)
_DIMENSIONS = (
    col("workspace_id", "VARCHAR", "Console workspace; null is the default workspace (or not in the source)"),
    col("api_key_id", "VARCHAR", "Console API key"),
    col("user_id", "VARCHAR", "user account (Console key-less usage by a member)", personal=USER_ID),
    col("product", "VARCHAR", "Claude product (Enterprise usage; claude_code for Claude Code)"),
    col("model", "VARCHAR", "model id"),
    col("service_tier", "VARCHAR", "standard, batch, priority, …"),
    col("context_window", "VARCHAR", "0-200k or 200k-1M"),
    col("inference_geo", "VARCHAR", "global, us or not_available"),
    col("speed", "VARCHAR", "standard or fast"),
)
_FETCH_LINEAGE = (
    col("data_refreshed_at", "TIMESTAMPTZ", "the Enterprise API's export watermark of the raw rows read"),
    col("fetched_at", "TIMESTAMPTZ", "when the API answered (the latest raw row behind this one)", False),
    col("source_request", "VARCHAR", "the request(s) that produced the raw rows, ' | '-separated", False),
)
#: a cost line's identity: every dimension, the source and the kind of charge
COST_GRAIN = (
    "org_id",
    "usage_date",
    "source",
    "charge_kind",
    "description",
    *(c.name for c in _DIMENSIONS),
    "cost_type",
    "token_type",
)

FACTS_COST = Table(
    "facts",
    "cost",
    description=(
        "Every billed line of every organization, Console and Enterprise, in exact USD, one meaning per column: "
        "billed_cost_usd (after the negotiated discount), list_cost_usd (at list price), effective_cost_usd "
        "(billed after credits; equal to billed), and charge_kind. The record of billed money: for Console, "
        "raw.console_cost (every line of the cost report); for Enterprise, the rows of raw.enterprise_cost in "
        "grouping 'token_type' (model x cost type x token type), a grouping that partitions every charge and "
        "sums to the ungrouped total; the per-user report (raw.enterprise_user_cost) and the 'product_model' "
        "grouping describe the same money and feed allocation and reconciliation only. Console list cost is "
        "the price book applied to the Console usage each line bills (same day, workspace, model, token type, "
        "tier, context window, geo and speed); web search lines are priced per search; code execution lines "
        "have no published list price, so their list cost equals the billed amount. Rows with charge_kind "
        "'estimate' carry no billed money (billed and effective are 0): priority-tier Console usage (billed "
        "outside the cost report) at list price, and Claude Code's own estimated cost. Never add "
        "estimated_cost_usd to billed totals: billed spend is sum(billed_cost_usd)."
    ),
    columns=(
        ORG_ID,
        _DAY,
        _ORG_KIND,
        _SOURCE,
        _SOURCE_GRAIN,
        col("charge_kind", "VARCHAR", "billed, or estimate (never part of billed totals)", False),
        col(
            "description",
            "VARCHAR",
            "the cost line (the cost report's description for Console lines; a Claude Code estimate names its "
            "actor)",
            personal=EMAIL,
        ),
        *_DIMENSIONS,
        col("cost_type", "VARCHAR", "tokens, web_search, code_execution or session_usage"),
        col("token_type", "VARCHAR", "token type of a tokens line, as the cost reports name it"),
        col("currency", "VARCHAR", "always USD", False),
        col(
            "billed_cost_usd", MONEY, "billed amount after the negotiated discount; 0 on estimate rows", False
        ),
        col(
            "list_cost_usd",
            MONEY,
            "at list price (Enterprise: the API's list amount; Console: the price book applied to the usage "
            "the line bills; code execution: equal to billed, no list price is published); null when unpriced",
        ),
        col("effective_cost_usd", MONEY, "billed after credits: equals billed; 0 on estimate rows", False),
        col(
            "estimated_cost_usd",
            MONEY,
            "estimate rows only: priority-tier usage at list price, or Claude Code's estimated cost",
        ),
        *_FETCH_LINEAGE,
    ),
    grain=COST_GRAIN,
    money=("billed_cost_usd", "list_cost_usd", "effective_cost_usd", "estimated_cost_usd"),
)

FACTS_USAGE = Table(
    "facts",
    "usage",
    description=(
        "Token usage by token type, web searches and requests of every organization, unified across the "
        "Console usage report (source raw.console_usage), the Enterprise usage report (raw.enterprise_usage, "
        "grouping 'product_model': product x model x context window x geo x speed, a grouping that partitions "
        "the total) and Claude Code (raw.claude_code_model_usage), priced at list with the price book. One "
        "row per source row and measure: token_type is one of the five token types (tokens set), "
        "'web_search_requests' (web_search_requests set) or 'requests' (requests set; Enterprise only, execution spans "
        "on code-execution rows). Claude Code usage is never counted twice: a Claude Code row whose actor uses "
        "the Console API (customer_type api: the organization's API keys or Console login) is already inside "
        "the Console usage report, so it carries included_in = 'raw.console_usage' and is kept only to "
        "break that usage down by Claude Code actor. Rule for totals: sum the rows WHERE included_in IS NULL."
    ),
    columns=(
        ORG_ID,
        _DAY,
        _ORG_KIND,
        _SOURCE,
        _SOURCE_GRAIN,
        col(
            "included_in",
            "VARCHAR",
            "the source that already counts this usage (Claude Code rows inside raw.console_usage); null "
            "when the row is counted here. Totals: sum only rows with included_in null",
        ),
        *_DIMENSIONS,
        col(
            "actor",
            "VARCHAR",
            "Claude Code's actor (user email or API key name); Console service account (OIDC federation)",
            personal=EMAIL,
        ),
        col(
            "token_type",
            "VARCHAR",
            "a token type as the cost reports name it, 'web_search_requests' or 'requests'",
            False,
        ),
        col("tokens", "BIGINT", "tokens of token_type (null on web search and requests rows)"),
        col("web_search_requests", "BIGINT", "server-side web searches (web_search_requests rows only)"),
        col("requests", "BIGINT", "requests (requests rows only; Enterprise)"),
        col(
            "list_cost_usd", MONEY, "tokens or searches at list price from the price book; null when unpriced"
        ),
        col(
            "price_rule",
            "VARCHAR",
            "how the price book priced the row, or why not ('unpriced: …'); null on requests rows",
        ),
        *_FETCH_LINEAGE,
    ),
    grain=(
        "org_id",
        "usage_date",
        "source",
        "included_in",
        *(c.name for c in _DIMENSIONS),
        "actor",
        "token_type",
    ),
    money=("list_cost_usd",),
    counts=("tokens", "web_search_requests", "requests"),
    totals_where="included_in IS NULL",
)


# -- cost allocation ------------------------------------------------------------------------------------

#: what an allocated row is allocated to
ALLOCATED_TO_KINDS = ("api_key", "keyless", "user", "unattributed", "whole_line")
COST_ALLOCATION = Table(
    "facts",
    "cost_allocation",
    description=(
        "Billed cost split to the finest grain the data allows: every billed line of facts.cost (the parent, "
        "named by parent_line) becomes one or more rows whose allocated_cost_usd add up to the parent's billed "
        "cost exactly (split in units of 1e-12 USD; a blocking check proves it for every parent). Console: each "
        "cost line (day x workspace x description) over the API keys of raw.console_usage with the same day, "
        "workspace, model, service tier, context window, inference geo and speed, by tokens of the line's "
        "token type (the priced share: one list price per token within a line); web search lines by web "
        "search requests (priority tier left out: billed outside the cost report); key-less usage is its own "
        "'keyless' row; code execution (no usage counterpart) stays one 'whole_line' row. Enterprise: each line "
        "(day x model x cost type x token type) over the seat users of raw.enterprise_user_cost, whose "
        "amounts per user and model are spread over the model's lines by amount (the per-user report has no "
        "cost or token type), plus an 'unattributed' row for billed minus the users' sum (non-seat traffic); "
        "a user's rows add up to the reported amount and the unattributed rows to the gap, exactly. Where the "
        "users' sum exceeds the billed total the users are scaled down to it (users_scaled; a check warns)."
    ),
    columns=(
        ORG_ID,
        col("usage_date", "DATE", "the UTC day of the parent line", False),
        col("org_kind", "VARCHAR", "console or enterprise", False),
        col(
            "parent_line",
            "VARCHAR",
            "the parent line of facts.cost: its source and every dimension it has, by name (unique per "
            "organization and day)",
            False,
        ),
        col("source", "VARCHAR", "the parent's raw table (facts.cost.source)", False),
        col("description", "VARCHAR", "the parent's description (Console cost line)"),
        col("workspace_id", "VARCHAR", "the parent's workspace (Console; null is the default workspace)"),
        col("model", "VARCHAR", "the parent's model"),
        col("cost_type", "VARCHAR", "the parent's cost type"),
        col("token_type", "VARCHAR", "the parent's token type"),
        col("service_tier", "VARCHAR", "the parent's service tier (Console)"),
        col("context_window", "VARCHAR", "the parent's context window (Console)"),
        col("inference_geo", "VARCHAR", "the parent's inference geo (Console)"),
        col("speed", "VARCHAR", "the parent's speed (Console)"),
        col("parent_billed_cost_usd", MONEY, "the parent's billed cost (facts.cost.billed_cost_usd)", False),
        col("allocated_to_kind", "VARCHAR", " | ".join(ALLOCATED_TO_KINDS), False),
        col("api_key_id", "VARCHAR", "the API key (api_key rows)"),
        col("user_id", "VARCHAR", "the seat user (user rows)", personal=USER_ID),
        col(
            "share",
            "DECIMAL(38, 12)",
            "the row's fraction of the parent before rounding (truncated at 1e-12): the key's share of the "
            "line's tokens or searches; the user's or remainder's share of the model's billed total; 1 for a "
            "whole line",
            False,
        ),
        col("allocated_cost_usd", MONEY, "the billed cost allocated to the row", False),
        col("basis", "VARCHAR", "what the split is by, e.g. priced tokens, per-user report", False),
        col("reason", "VARCHAR", "why a row is unattributed, a whole line or scaled down"),
        col(
            "users_scaled",
            "BOOLEAN",
            "the per-user amounts of the model and day exceeded its billed lines and were scaled down to them",
            False,
        ),
        col("source_tables", "VARCHAR", "the tables the row comes from", False),
        col(
            "fetched_at",
            "TIMESTAMPTZ",
            "when the API answered for the parent line (facts.cost.fetched_at)",
            False,
        ),
        col(
            "source_request",
            "VARCHAR",
            "the request(s) behind the parent line (facts.cost.source_request)",
            False,
        ),
        col("basis_source_request", "VARCHAR", "the request(s) behind the usage or per-user rows split by"),
    ),
    grain=("org_id", "usage_date", "parent_line", "allocated_to_kind", "api_key_id", "user_id"),
    money=("allocated_cost_usd",),
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
        "enterprise_users_vs_org (per-user sum -> organization total), legacy_vs_analytics (legacy cost "
        "report -> Usage and Cost Analytics API, per model and cost type, Console and Enterprise). Causes: negotiated_discount, "
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

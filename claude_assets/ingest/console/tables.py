"""The raw Console tables (schema ``raw``): token usage, billed cost and Claude Code activity, declared once.

Each declaration gives the table's DDL, its Dagster column schema and (``SCHEMAS``) the pandera schema of
the rows staged for it.
"""

from checks import schemas as sc
from claude_assets.ingest.columns import USAGE_TOKEN_COLUMNS, USAGE_TOKENS
from claude_assets.warehouse.contract import EMAIL, LINEAGE, MONEY, ORG_ID, USER_ID, Table
from claude_assets.warehouse.contract import col as _c

KEYS = (ORG_ID, _c("usage_date", "DATE", "the UTC day of the bucket", False))
#: the usage report's ``group_by[]`` dimensions, every one requested (so nothing is summed away)
USAGE_DIM_COLUMNS = (
    _c("account_id", "VARCHAR", "user account (OAuth / Workbench usage); null otherwise", personal=USER_ID),
    _c("api_key_id", "VARCHAR", "API key; null for Console/Workbench usage without a key"),
    _c("service_account_id", "VARCHAR", "service account (OIDC federation)"),
    _c("workspace_id", "VARCHAR", "workspace; null is the default workspace"),
    _c("model", "VARCHAR", "model id, e.g. claude-sonnet-4-5"),
    _c("service_tier", "VARCHAR", "standard, batch, priority, …"),
    _c("context_window", "VARCHAR", "0-200k or 200k-1M"),
    _c("inference_geo", "VARCHAR", "global, us or not_available"),
    _c("speed", "VARCHAR", "standard or fast (fast-mode beta)"),
)
USAGE_DIMS = tuple(c.name for c in USAGE_DIM_COLUMNS)
TOKEN_COLUMNS = USAGE_TOKENS

CONSOLE_USAGE = Table(
    "raw",
    "console_usage",
    description="Console token usage per UTC day, grouped by every dimension the usage report offers.",
    columns=(*KEYS, *USAGE_DIM_COLUMNS, *USAGE_TOKEN_COLUMNS, *LINEAGE),
    grain=("org_id", "usage_date", *USAGE_DIMS),
    counts=USAGE_TOKENS,
)

#: the cost report's fields: its two ``group_by[]`` dimensions and what it parses out of the description
COST_FIELD_COLUMNS = (
    _c("workspace_id", "VARCHAR", "workspace; null is the default workspace"),
    _c("description", "VARCHAR", "the cost line, e.g. 'Claude Sonnet 4.5 Usage - Input Tokens'"),
    _c("cost_type", "VARCHAR", "tokens, web_search, code_execution or session_usage"),
    _c(
        "model",
        "VARCHAR",
        "model id parsed from the cost line; null for costs of no model (web search, code execution)",
    ),
    _c(
        "token_type",
        "VARCHAR",
        "uncached_input_tokens, output_tokens, cache_read_input_tokens, cache_creation.ephemeral_5m_input_tokens "
        "or cache_creation.ephemeral_1h_input_tokens; null for costs other than tokens",
    ),
    _c("service_tier", "VARCHAR", "standard or batch (priority tier is billed outside this report)"),
    _c("context_window", "VARCHAR", "0-200k or 200k-1M; null for costs other than tokens"),
    _c("inference_geo", "VARCHAR", "global, us or not_available; null for costs other than tokens"),
    _c("speed", "VARCHAR", "standard or fast (fast-mode beta); null when the API does not send it"),
)
COST_FIELDS = tuple(c.name for c in COST_FIELD_COLUMNS)
CONSOLE_COST = Table(
    "raw",
    "console_cost",
    description="Console billed cost per UTC day, by workspace and cost description (model, cost type, token type, "
    "tier, context window and geo parsed out). Amounts converted once from cents to exact USD.",
    columns=(
        *KEYS,
        *COST_FIELD_COLUMNS,
        _c("currency", "VARCHAR", "always USD", False),
        _c("amount_usd", MONEY, "billed amount in USD (the API's cents / 100, exact)", False),
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", *COST_FIELDS),
    money=("amount_usd",),
)

TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
ACTOR = ("actor_type", "actor_id", "terminal_type", "is_remote")
TERMINAL = _c(
    "terminal_type",
    "VARCHAR",
    "the terminal or IDE Claude Code ran in, as the API names it (vscode, tmux, …)",
    False,
)
REMOTE = _c(
    "is_remote",
    "BOOLEAN",
    "remote use (e.g. Claude Code on the web); remote and local use are separate rows",
    False,
)
CLAUDE_CODE_USAGE = Table(
    "raw",
    "claude_code_usage",
    description="Claude Code activity per actor (user or API key), UTC day, terminal and local/remote flag.",
    columns=(
        *KEYS,
        _c("actor_type", "VARCHAR", "user_actor or api_actor", False),
        _c("actor_id", "VARCHAR", "the user's email address or the API key's name", False, personal=EMAIL),
        _c(
            "email_address",
            "VARCHAR",
            "a user actor's email address; null for an API key actor",
            personal=EMAIL,
        ),
        _c("api_key_name", "VARCHAR", "an API key actor's key name; null for a user actor"),
        TERMINAL,
        REMOTE,
        _c("customer_type", "VARCHAR", "api or subscription"),
        _c(
            "subscription_type",
            "VARCHAR",
            "enterprise or team for a subscription customer; null for API customers",
        ),
        _c("anthropic_organization_id", "VARCHAR", "the API's organization UUID"),
        _c("num_sessions", "BIGINT", "Claude Code sessions (core_metrics.num_sessions)", False),
        _c("lines_added", "BIGINT", "lines of code added (core_metrics.lines_of_code.added)", False),
        _c("lines_removed", "BIGINT", "lines of code removed (core_metrics.lines_of_code.removed)", False),
        _c("commits", "BIGINT", "commits made by Claude Code (core_metrics.commits_by_claude_code)", False),
        _c(
            "pull_requests",
            "BIGINT",
            "pull requests created by Claude Code (core_metrics.pull_requests_by_claude_code)",
            False,
        ),
        *(
            _c(
                f"{t.removesuffix('_tool')}_{x}",
                "BIGINT",
                f"proposals of the {t} the user {x} (tool_actions.{t}.{x}; 0 when the tool is not listed)",
                False,
            )
            for t in TOOLS
            for x in ("accepted", "rejected")
        ),
        _c("tool_actions", "JSON", "every tool's accepted/rejected counts, as the API sent them"),
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", *ACTOR),
)
CLAUDE_CODE_MODELS = Table(
    "raw",
    "claude_code_model_usage",
    description="Claude Code tokens and estimated cost per actor, day, terminal, remote flag and model.",
    columns=(
        *KEYS,
        _c("actor_type", "VARCHAR", "user_actor or api_actor", False),
        _c("actor_id", "VARCHAR", "the user's email address or the API key's name", False, personal=EMAIL),
        TERMINAL,
        REMOTE,
        _c("model", "VARCHAR", "model id (model_breakdown[].model)", False),
        _c("input_tokens", "BIGINT", "input tokens (model_breakdown[].tokens.input)", False),
        _c("output_tokens", "BIGINT", "output tokens (model_breakdown[].tokens.output)", False),
        _c("cache_read_tokens", "BIGINT", "prompt cache reads (model_breakdown[].tokens.cache_read)", False),
        _c(
            "cache_creation_tokens",
            "BIGINT",
            "prompt cache writes (model_breakdown[].tokens.cache_creation)",
            False,
        ),
        _c("currency", "VARCHAR", "always USD", False),
        _c("estimated_cost_usd", MONEY, "estimated cost in USD (the API's cents / 100)", False),
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", *ACTOR, "model"),
    money=("estimated_cost_usd",),
    counts=("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens"),
)

_TOKENS = [sc.NON_NEGATIVE]
SCHEMAS = {
    CONSOLE_USAGE: sc.staged_schema(CONSOLE_USAGE, {c: _TOKENS for c in TOKEN_COLUMNS}),
    CONSOLE_COST: sc.staged_schema(
        CONSOLE_COST, {"currency": [sc.USD], "amount_usd": [sc.NON_NEGATIVE_DECIMAL]}
    ),
    CLAUDE_CODE_USAGE: sc.staged_schema(
        CLAUDE_CODE_USAGE, {c.name: _TOKENS for c in CLAUDE_CODE_USAGE.columns if c.type == "BIGINT"}
    ),
    CLAUDE_CODE_MODELS: sc.staged_schema(
        CLAUDE_CODE_MODELS,
        {
            **{
                c: _TOKENS
                for c in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")
            },
            "currency": [sc.USD],
            "estimated_cost_usd": [sc.NON_NEGATIVE_DECIMAL],
        },
    ),
}

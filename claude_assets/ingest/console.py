"""Raw Console tables: token usage, billed cost and Claude Code activity (group ``console``, schema ``raw``)."""

import json
from datetime import date, timedelta

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from checks import schemas as sc
from checks import window as window_checks
from claude_assets.asset_defaults import OWNERS
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.ingest.runner import Fetched, describe_request, extra_json, now_iso, run_windows
from claude_assets.partitions import daily_by_org
from claude_assets.warehouse.contract import LINEAGE, MONEY, ORG_ID, Table, cents_to_usd
from claude_assets.warehouse.contract import col as _c
from resources.apis import ConsoleAdminApi
from resources.client import ApiClient, CallStats

FAST_MODE_BETA = {"anthropic-beta": "fast-mode-2026-02-01"}


KEYS = (ORG_ID, _c("usage_date", "DATE", "the UTC day of the bucket", False))
USAGE_DIMS = (
    "account_id",
    "api_key_id",
    "service_account_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)
TOKEN_COLUMNS = (
    "uncached_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "web_search_requests",
)

CONSOLE_USAGE = Table(
    "raw",
    "console_usage",
    description="Console token usage per UTC day, grouped by every dimension the usage report offers.",
    columns=(
        *KEYS,
        _c("account_id", "VARCHAR", "user account (OAuth / Workbench usage); null otherwise"),
        _c("api_key_id", "VARCHAR", "API key; null for Console/Workbench usage without a key"),
        _c("service_account_id", "VARCHAR", "service account (OIDC federation)"),
        _c("workspace_id", "VARCHAR", "workspace; null is the default workspace"),
        _c("model", "VARCHAR"),
        _c("service_tier", "VARCHAR", "standard, batch, priority, …"),
        _c("context_window", "VARCHAR", "0-200k or 200k-1M"),
        _c("inference_geo", "VARCHAR", "global, us or not_available"),
        _c("speed", "VARCHAR", "standard or fast (fast-mode beta)"),
        _c("uncached_input_tokens", "BIGINT", nullable=False),
        _c("cache_creation_5m_input_tokens", "BIGINT", "5-minute cache writes", False),
        _c("cache_creation_1h_input_tokens", "BIGINT", "1-hour cache writes", False),
        _c("cache_read_input_tokens", "BIGINT", nullable=False),
        _c("output_tokens", "BIGINT", nullable=False),
        _c("web_search_requests", "BIGINT", nullable=False),
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", *USAGE_DIMS),
)

COST_FIELDS = (
    "workspace_id",
    "description",
    "cost_type",
    "model",
    "token_type",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)
CONSOLE_COST = Table(
    "raw",
    "console_cost",
    description="Console billed cost per UTC day, by workspace and cost description (model, cost type, token type, "
    "tier, context window and geo parsed out). Amounts converted once from cents to exact USD.",
    columns=(
        *KEYS,
        _c("workspace_id", "VARCHAR", "workspace; null is the default workspace"),
        _c("description", "VARCHAR", "the cost line, e.g. 'Claude Sonnet 4.5 Usage - Input Tokens'"),
        _c("cost_type", "VARCHAR", "tokens, web_search, code_execution or session_usage"),
        _c("model", "VARCHAR"),
        _c("token_type", "VARCHAR"),
        _c("service_tier", "VARCHAR", "standard or batch (priority tier is billed outside this report)"),
        _c("context_window", "VARCHAR"),
        _c("inference_geo", "VARCHAR"),
        _c("speed", "VARCHAR"),
        _c("currency", "VARCHAR", "always USD", False),
        _c("amount_usd", MONEY, "billed amount in USD (the API's cents / 100, exact)", False),
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", *COST_FIELDS),
    money=("amount_usd",),
)

TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
ACTOR = ("actor_type", "actor_id", "terminal_type", "is_remote")
CLAUDE_CODE_USAGE = Table(
    "raw",
    "claude_code_usage",
    description="Claude Code activity per actor (user or API key), UTC day, terminal and local/remote flag.",
    columns=(
        *KEYS,
        _c("actor_type", "VARCHAR", "user_actor or api_actor", False),
        _c("actor_id", "VARCHAR", "the user's email address or the API key's name", False),
        _c("email_address", "VARCHAR"),
        _c("api_key_name", "VARCHAR"),
        _c("terminal_type", "VARCHAR", nullable=False),
        _c("is_remote", "BOOLEAN", nullable=False),
        _c("customer_type", "VARCHAR", "api or subscription"),
        _c("subscription_type", "VARCHAR"),
        _c("anthropic_organization_id", "VARCHAR", "the API's organization UUID"),
        _c("num_sessions", "BIGINT", nullable=False),
        _c("lines_added", "BIGINT", nullable=False),
        _c("lines_removed", "BIGINT", nullable=False),
        _c("commits", "BIGINT", nullable=False),
        _c("pull_requests", "BIGINT", nullable=False),
        *(
            _c(f"{t.removesuffix('_tool')}_{x}", "BIGINT", nullable=False)
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
        _c("actor_type", "VARCHAR", nullable=False),
        _c("actor_id", "VARCHAR", nullable=False),
        _c("terminal_type", "VARCHAR", nullable=False),
        _c("is_remote", "BOOLEAN", nullable=False),
        _c("model", "VARCHAR", nullable=False),
        _c("input_tokens", "BIGINT", nullable=False),
        _c("output_tokens", "BIGINT", nullable=False),
        _c("cache_read_tokens", "BIGINT", nullable=False),
        _c("cache_creation_tokens", "BIGINT", nullable=False),
        _c("currency", "VARCHAR", nullable=False),
        _c("estimated_cost_usd", MONEY, "estimated cost in USD (the API's cents / 100)", False),
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", *ACTOR, "model"),
    money=("estimated_cost_usd",),
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


def _instant(d: date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


def _frame(rows: list[dict], table: Table) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=table.column_names)


def _report_rows(
    client: ApiClient, path: str, params: dict, stats: CallStats, days: set[date], headers: dict | None = None
):
    """Each (bucket, result) of every page; records in ``days`` every bucket the API returned."""
    for page in client.pages(path, params, stats=stats, headers=headers):
        for bucket in page.get("data", []):
            days.add(date.fromisoformat(bucket["starting_at"][:10]))
            for result in bucket.get("results", []):
                yield bucket, result


# -- fetchers ---------------------------------------------------------------------------------------------
def fetch_usage(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
    path = "/v1/organizations/usage_report/messages"
    params = {
        "starting_at": _instant(start),
        "ending_at": _instant(end),
        "bucket_width": "1d",
        "limit": 31,
        "group_by[]": list(USAGE_DIMS),
    }
    known = {
        *USAGE_DIMS,
        "uncached_input_tokens",
        "cache_creation",
        "cache_read_input_tokens",
        "output_tokens",
        "server_tool_use",
    }
    fetched_at, rows, days = now_iso(), [], set()
    for bucket, r in _report_rows(client, path, params, stats, days, FAST_MODE_BETA):
        cache = r.get("cache_creation") or {}
        rows.append(
            {
                "org_id": org.slug,
                "usage_date": bucket["starting_at"][:10],
                **{d: r.get(d) for d in USAGE_DIMS},
                "uncached_input_tokens": r["uncached_input_tokens"],
                "cache_creation_5m_input_tokens": cache.get("ephemeral_5m_input_tokens", 0),
                "cache_creation_1h_input_tokens": cache.get("ephemeral_1h_input_tokens", 0),
                "cache_read_input_tokens": r["cache_read_input_tokens"],
                "output_tokens": r["output_tokens"],
                "web_search_requests": (r.get("server_tool_use") or {}).get("web_search_requests", 0),
                "extra": extra_json(r, known),
                "fetched_at": fetched_at,
                "source_request": describe_request(path, params),
            }
        )
    return Fetched(
        {CONSOLE_USAGE: _frame(rows, CONSOLE_USAGE)}, frozenset(days), describe_request(path, params)
    )


def fetch_cost(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
    path = "/v1/organizations/cost_report"
    params = {
        "starting_at": _instant(start),
        "ending_at": _instant(end),
        "bucket_width": "1d",
        "limit": 31,
        "group_by[]": ["workspace_id", "description"],
    }
    known = {*COST_FIELDS, "currency", "amount"}
    fetched_at, rows, days = now_iso(), [], set()
    for bucket, r in _report_rows(client, path, params, stats, days, FAST_MODE_BETA):
        rows.append(
            {
                "org_id": org.slug,
                "usage_date": bucket["starting_at"][:10],
                **{f: r.get(f) for f in COST_FIELDS},
                "currency": r.get("currency"),
                "amount_usd": cents_to_usd(r["amount"]),
                "extra": extra_json(r, known),
                "fetched_at": fetched_at,
                "source_request": describe_request(path, params),
            }
        )
    return Fetched(
        {CONSOLE_COST: _frame(rows, CONSOLE_COST)}, frozenset(days), describe_request(path, params)
    )


def fetch_claude_code(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
    path = "/v1/organizations/usage_report/claude_code"
    usage, models, requests = [], [], []
    day = start
    while day < end:
        params = {"starting_at": day.isoformat(), "limit": 1000}
        requests.append(describe_request(path, params))
        fetched_at = now_iso()
        known = {
            "date",
            "actor",
            "organization_id",
            "customer_type",
            "subscription_type",
            "terminal_type",
            "is_remote",
            "core_metrics",
            "tool_actions",
            "model_breakdown",
        }
        for page in client.pages(path, params, stats=stats):
            for r in page.get("data", []):
                actor = r.get("actor") or {}
                actor_type = actor.get("type", "unknown")
                actor_id = (
                    actor.get("email_address") or actor.get("api_key_name") or actor.get("id") or "unknown"
                )
                core = r.get("core_metrics") or {}
                lines = core.get("lines_of_code") or {}
                tools = r.get("tool_actions") or {}
                ident = {
                    "org_id": org.slug,
                    "usage_date": day.isoformat(),
                    "actor_type": actor_type,
                    "actor_id": actor_id,
                    "terminal_type": r.get("terminal_type") or "unknown",
                    "is_remote": bool(r.get("is_remote")),
                }
                lineage = {"fetched_at": fetched_at, "source_request": requests[-1]}
                usage.append(
                    {
                        **ident,
                        "email_address": actor.get("email_address"),
                        "api_key_name": actor.get("api_key_name"),
                        "customer_type": r.get("customer_type"),
                        "subscription_type": r.get("subscription_type"),
                        "anthropic_organization_id": r.get("organization_id"),
                        "num_sessions": core.get("num_sessions", 0),
                        "lines_added": lines.get("added", 0),
                        "lines_removed": lines.get("removed", 0),
                        "commits": core.get("commits_by_claude_code", 0),
                        "pull_requests": core.get("pull_requests_by_claude_code", 0),
                        **{
                            f"{t.removesuffix('_tool')}_{x}": (tools.get(t) or {}).get(x, 0)
                            for t in TOOLS
                            for x in ("accepted", "rejected")
                        },
                        "tool_actions": json.dumps(tools, sort_keys=True),
                        "extra": extra_json(r, known),
                        **lineage,
                    }
                )
                for m in r.get("model_breakdown") or []:
                    tokens, cost = m.get("tokens") or {}, m.get("estimated_cost") or {}
                    models.append(
                        {
                            **ident,
                            "model": m.get("model") or "unknown",
                            "input_tokens": tokens.get("input", 0),
                            "output_tokens": tokens.get("output", 0),
                            "cache_read_tokens": tokens.get("cache_read", 0),
                            "cache_creation_tokens": tokens.get("cache_creation", 0),
                            "currency": cost.get("currency", "USD"),
                            "estimated_cost_usd": cents_to_usd(cost.get("amount", 0)),
                            "extra": extra_json(m, {"model", "tokens", "estimated_cost"}),
                            **lineage,
                        }
                    )
        day += timedelta(days=1)
    return Fetched(
        {
            CLAUDE_CODE_USAGE: _frame(usage, CLAUDE_CODE_USAGE),
            CLAUDE_CODE_MODELS: _frame(models, CLAUDE_CODE_MODELS),
        },
        frozenset(start + timedelta(days=i) for i in range((end - start).days)),
        "; ".join(requests),
    )


# -- assets ---------------------------------------------------------------------------------------------------
def console_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    partitions = daily_by_org(config, "console")
    common = {
        "partitions_def": partitions,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "group_name": "console",
        "kinds": {"duckdb", "python"},
        "owners": OWNERS,
    }

    def single(table: Table, fetch, max_days: int):
        @dg.asset(
            key=table.asset_key,
            description=table.description,
            check_specs=window_checks.specs(table),
            **common,
        )
        def _asset(context: dg.AssetExecutionContext, console_api: ConsoleAdminApi, duckdb: DuckDBResource):
            yield from run_windows(
                context,
                config=config,
                api=console_api,
                duckdb=duckdb,
                tables=[table],
                schemas=SCHEMAS,
                fetch=fetch,
                max_days=max_days,
            )

        return _asset

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                t.asset_key,
                description=t.description,
                group_name="console",
                kinds={"duckdb", "python"},
                owners=OWNERS,
            )
            for t in (CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS)
        ],
        check_specs=[*window_checks.specs(CLAUDE_CODE_USAGE), *window_checks.specs(CLAUDE_CODE_MODELS)],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        name="raw__claude_code",
    )
    def claude_code(context: dg.AssetExecutionContext, console_api: ConsoleAdminApi, duckdb: DuckDBResource):
        """Claude Code analytics: one request per day (up to 1,000 actor rows a page)."""
        yield from run_windows(
            context,
            config=config,
            api=console_api,
            duckdb=duckdb,
            tables=[CLAUDE_CODE_USAGE, CLAUDE_CODE_MODELS],
            schemas=SCHEMAS,
            fetch=fetch_claude_code,
            max_days=1,
        )

    return [single(CONSOLE_USAGE, fetch_usage, 31), single(CONSOLE_COST, fetch_cost, 31), claude_code]

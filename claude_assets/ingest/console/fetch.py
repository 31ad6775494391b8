"""Console requests and the pure functions that turn their pages into rows of the raw Console tables."""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from claude_assets.config import OrgConfig
from claude_assets.ingest.console.tables import (
    CLAUDE_CODE_MODELS,
    CLAUDE_CODE_USAGE,
    CONSOLE_COST,
    CONSOLE_USAGE,
    COST_FIELDS,
    TOOLS,
    USAGE_DIMS,
)
from claude_assets.ingest.runner import Fetched, describe_request, extra_json, now_iso
from claude_assets.ingest.staging import values_of
from claude_assets.warehouse.contract import Table, cents_to_usd
from resources.client import ApiClient, CallStats

FAST_MODE_BETA = {"anthropic-beta": "fast-mode-2026-02-01"}
USAGE_PATH = "/v1/organizations/usage_report/messages"
COST_PATH = "/v1/organizations/cost_report"
CLAUDE_CODE_PATH = "/v1/organizations/usage_report/claude_code"
#: a result's fields that have a column (anything else goes to ``extra``)
USAGE_KNOWN = {
    *USAGE_DIMS,
    "uncached_input_tokens",
    "cache_creation",
    "cache_read_input_tokens",
    "output_tokens",
    "server_tool_use",
}
COST_KNOWN = {*COST_FIELDS, "currency", "amount"}
CLAUDE_CODE_KNOWN = {
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


def _instant(d: date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


def _frame(rows: list[dict], table: Table) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=table.column_names)


def _report_rows(
    client: ApiClient, path: str, params: dict, stats: CallStats, days: set[date], headers: dict | None = None
) -> Iterator[tuple[dict, dict]]:
    """Each (bucket, result) of every page; records in ``days`` every bucket the API returned."""
    for page in client.pages(path, params, stats=stats, headers=headers):
        for bucket in page.get("data", []):
            days.add(date.fromisoformat(bucket["starting_at"][:10]))
            for result in bucket.get("results", []):
                yield bucket, result


def usage_values(r: dict) -> dict:
    """One usage report result's dimensions and token counts (cache writes split by TTL)."""
    cache = r.get("cache_creation") or {}
    return {
        **{d: r.get(d) for d in USAGE_DIMS},
        "uncached_input_tokens": r["uncached_input_tokens"],
        "cache_creation_5m_input_tokens": cache.get("ephemeral_5m_input_tokens", 0),
        "cache_creation_1h_input_tokens": cache.get("ephemeral_1h_input_tokens", 0),
        "cache_read_input_tokens": r["cache_read_input_tokens"],
        "output_tokens": r["output_tokens"],
        "web_search_requests": (r.get("server_tool_use") or {}).get("web_search_requests", 0),
    }


def cost_values(r: dict) -> dict:
    """One cost report result's fields, its amount converted once from cents to exact USD."""
    return {
        **{f: r.get(f) for f in COST_FIELDS},
        "currency": r.get("currency"),
        "amount_usd": cents_to_usd(r["amount"], "amount"),
    }


@dataclass(frozen=True)
class DailyReport:
    """A daily-bucket report read into one table: one row per (bucket, result)."""

    table: Table
    path: str
    group_by: tuple[str, ...]
    values: Callable[[dict], dict]  # a result's column values
    known: frozenset[str]  # a result's fields that have a column (anything else goes to ``extra``)

    def fetch(self, client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
        """One window ``[start, end)`` and the days the API returned buckets for."""
        params = {
            "starting_at": _instant(start),
            "ending_at": _instant(end),
            "bucket_width": "1d",
            "limit": 31,
            "group_by[]": list(self.group_by),
        }
        fetched_at, rows, days = now_iso(), [], set()
        request = describe_request(self.path, params)
        for bucket, r in _report_rows(client, self.path, params, stats, days, FAST_MODE_BETA):
            with values_of(self.table, request, org.slug, bucket["starting_at"]):
                values = self.values(r)
            rows.append(
                {
                    "org_id": org.slug,
                    "usage_date": bucket["starting_at"][:10],
                    **values,
                    "extra": extra_json(r, self.known),
                    "fetched_at": fetched_at,
                    "source_request": request,
                }
            )
        return Fetched({self.table: _frame(rows, self.table)}, frozenset(days), request)


USAGE_REPORT = DailyReport(CONSOLE_USAGE, USAGE_PATH, USAGE_DIMS, usage_values, frozenset(USAGE_KNOWN))
COST_REPORT = DailyReport(
    CONSOLE_COST, COST_PATH, ("workspace_id", "description"), cost_values, frozenset(COST_KNOWN)
)
fetch_usage = USAGE_REPORT.fetch
fetch_cost = COST_REPORT.fetch


def claude_code_rows(org: OrgConfig, day: date, r: dict, lineage: dict) -> tuple[dict, list[dict]]:
    """One Claude Code record as its ``raw.claude_code_usage`` row and its per-model rows."""
    actor = r.get("actor") or {}
    core = r.get("core_metrics") or {}
    lines = core.get("lines_of_code") or {}
    tools = r.get("tool_actions") or {}
    ident = {
        "org_id": org.slug,
        "usage_date": str(r.get("date") or day.isoformat())[
            :10
        ],  # the record's own day (the runner checks it)
        "actor_type": actor.get("type", "unknown"),
        "actor_id": actor.get("email_address") or actor.get("api_key_name") or actor.get("id") or "unknown",
        "terminal_type": r.get("terminal_type") or "unknown",
        "is_remote": bool(r.get("is_remote")),
    }
    usage = {
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
        "extra": extra_json(r, CLAUDE_CODE_KNOWN),
        **lineage,
    }
    models = []
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
                "estimated_cost_usd": cents_to_usd(
                    cost.get("amount", 0), "model_breakdown[].estimated_cost.amount"
                ),
                "extra": extra_json(m, {"model", "tokens", "estimated_cost"}),
                **lineage,
            }
        )
    return usage, models


def fetch_claude_code(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
    """Claude Code analytics, one request per day (the endpoint takes a single day)."""
    usage, models, requests = [], [], []
    day = start
    while day < end:
        params = {"starting_at": day.isoformat(), "limit": 1000}
        requests.append(describe_request(CLAUDE_CODE_PATH, params))
        lineage = {"fetched_at": now_iso(), "source_request": requests[-1]}
        for page in client.pages(CLAUDE_CODE_PATH, params, stats=stats):
            for r in page.get("data", []):
                with values_of(CLAUDE_CODE_MODELS, requests[-1], org.slug, r.get("date") or day):
                    row, model_rows = claude_code_rows(org, day, r, lineage)
                usage.append(row)
                models.extend(model_rows)
        day += timedelta(days=1)
    return Fetched(
        {
            CLAUDE_CODE_USAGE: _frame(usage, CLAUDE_CODE_USAGE),
            CLAUDE_CODE_MODELS: _frame(models, CLAUDE_CODE_MODELS),
        },
        frozenset(start + timedelta(days=i) for i in range((end - start).days)),
        "; ".join(requests),
    )

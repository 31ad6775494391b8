"""Raw Claude Enterprise usage and cost (group ``enterprise``, schema ``raw``).

Six tables, partitioned by UTC day x Enterprise organization, each row an exact copy of what the
Enterprise Analytics API said, plus ``data_refreshed_at`` (the API's export watermark: rows of days
after it, or inside the 30-day revision window, are provisional):

- ``raw.enterprise_usage`` / ``raw.enterprise_cost`` (``/analytics/usage_report`` and ``/cost_report``):
  daily buckets under several *groupings* (column ``grouping``): ``total`` (ungrouped),
  ``product_model`` (product, model, context window, inference geo, speed), ``claude_tag`` (Slack
  channel, Claude Tag category and Slack user), ``rbac_group`` (RBAC group and product; groups
  overlap) and, for cost, ``token_type`` (model, cost type, token type). The API returns only the
  top 100 groups of a bucket with no remainder row, so a bucket that comes back with 100 results
  is never kept: its day is asked again per ``inference_geos[]`` (global, us, not_available: a
  partition of every row), and a slice still at 100 again with hourly buckets (``split_filter``
  and ``starting_at``/``ending_at`` say which). Every kept bucket has fewer than 100 results, so
  nothing was cut; the blocking check ``grouped_equals_total`` proves it per day and grouping.
- ``raw.enterprise_user_usage`` / ``raw.enterprise_user_cost`` (``/user_usage_report``,
  ``/user_cost_report``): per seat user, day, product and model (``bucket_width=1d`` over 31-day
  windows, 1,000 rows a page). Deleted users are kept (``user_deleted``, no email).
- ``raw.analytics_usage`` / ``raw.analytics_cost`` (beta ``/analytics/usage`` and ``/cost``) for
  organizations with ``analytics_beta: true``: per actor, product, model, context window and
  inference geo per day (cost also per cost type); every combination comes back across pages.

Requests never reach before 2026-01-01 or beyond the 365-day lookback: such days are skipped and
the materialization says so. The groupings of one bucketed report must all be read under the same
``data_refreshed_at`` (else that report's window is pulled again), so they can be compared exactly.
"""

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
from dagster_duckdb import DuckDBResource

from checks import enterprise_reports as report_checks
from checks import schemas as sc
from checks import window as window_checks
from claude_assets.asset_defaults import OWNERS
from claude_assets.config import OrgConfig, ProjectConfig
from claude_assets.ingest.runner import Availability, Fetched, Windows, describe_request, now_iso, run_windows
from claude_assets.ingest.staging import RowBuffer
from claude_assets.partitions import contiguous, daily_by_org
from claude_assets.warehouse.contract import LINEAGE, MONEY, ORG_ID, Table, cents_to_usd
from claude_assets.warehouse.contract import col as _c
from resources.apis import EnterpriseAnalyticsApi
from resources.client import ApiClient, CallStats

BASE = "/v1/organizations/analytics"
BETA_HEADERS = {"anthropic-beta": "analytics-usage-cost-2026-08-24"}
DATA_FLOOR = date(2026, 1, 1)  # the API holds nothing before it
LOOKBACK_DAYS = 365
CLOCK_MARGIN = timedelta(hours=1)  # our clock may run behind the API's
MAX_WINDOW_DAYS = 31  # every report: starting_at .. ending_at spans at most 31 days
TOP_GROUPS = 100  # bucketed reports: at most the top 100 groups per bucket, no remainder row
BUCKET_LIMIT = {"1d": 31, "1h": 168}  # the largest page (in buckets) per bucket width
GEO_SLICES = (
    "global",
    "us",
    "not_available",
)  # inference_geos[] values: not_available matches an unset region
ROW_LIMIT = 1000  # per-user and beta reports: rows per page
REFRESH_ATTEMPTS = 3
GROUP = "enterprise"
KINDS = {"duckdb", "python"}
BETA_DISABLED = (
    "analytics_beta is not enabled for this organization (the beta usage/cost endpoints are not read)"
)


# -- tables -----------------------------------------------------------------------------------------------
KEYS = (ORG_ID, _c("usage_date", "DATE", "the UTC day of the bucket or row", False))
ENVELOPE = (
    _c("anthropic_organization_id", "VARCHAR", "the API's organization id (org_…)"),
    _c(
        "data_refreshed_at",
        "TIMESTAMPTZ",
        "the API's export watermark when the row was read: days after "
        "it are incomplete, days within 30 days before it may still be revised",
    ),
)
SPAN = (
    _c("starting_at", "TIMESTAMPTZ", "start of the bucket (inclusive)", False),
    _c("ending_at", "TIMESTAMPTZ", "end of the bucket (exclusive)", False),
)
LEGACY_DIMS = (
    "product",
    "model",
    "context_window",
    "inference_geo",
    "speed",
    "rbac_group_id",
    "slack_channel_id",
    "claude_tag_category",
    "claude_tag_user_id",
)
DIM_DOC = {
    "product": "chat, claude_code, cowork, office_agent, claude_in_chrome, claude_design, claude-tag, other; null = "
    "not grouped or not attributable (code execution)",
    "model": "model id; null = not grouped or no model (code execution)",
    "context_window": "0-200k or 200k-1M",
    "inference_geo": "global or us; null = not grouped or region not set",
    "speed": "standard or fast",
    "rbac_group_id": "RBAC group (groups overlap); null = not grouped or in no group",
    "slack_channel_id": "Claude in Slack channel",
    "claude_tag_category": "dm, engaged, monitoring, proactive, scheduled",
    "claude_tag_user_id": "Slack member id of Claude Tag usage",
}
DIMS = tuple(_c(d, "VARCHAR", DIM_DOC[d] + " (null unless grouped)") for d in LEGACY_DIMS)
TOKENS = (
    "uncached_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "web_search_requests",
)
TOKEN_COLUMNS = (
    _c("uncached_input_tokens", "BIGINT", nullable=False),
    _c("cache_creation_5m_input_tokens", "BIGINT", "5-minute cache writes", False),
    _c("cache_creation_1h_input_tokens", "BIGINT", "1-hour cache writes", False),
    _c("cache_read_input_tokens", "BIGINT", nullable=False),
    _c("output_tokens", "BIGINT", nullable=False),
    _c("web_search_requests", "BIGINT", "server-side web searches", False),
)
REQUESTS = _c(
    "requests", "BIGINT", "requests (execution spans on code-execution rows); null when the API gives none"
)
MONEY_COLUMNS = (
    _c("currency", "VARCHAR", "always USD", False),
    _c(
        "amount_usd",
        MONEY,
        "cost after the negotiated discount, before credits, in USD (the API's cents / 100, exact)",
        False,
    ),
    _c("list_amount_usd", MONEY, "cost at list price in USD (cents / 100, exact)", False),
)
COST_DIMS = (
    _c("cost_type", "VARCHAR", "tokens, web_search, code_execution (null unless grouped)"),
    _c("token_type", "VARCHAR", "token type of a tokens cost line (null unless grouped)"),
)
GROUPING = (
    _c("grouping", "VARCHAR", "which grouping of the report the row belongs to (total = ungrouped)", False),
    _c(
        "split_filter",
        "VARCHAR",
        "the filter that split a bucket which hit the top-100 cap (e.g. "
        "inference_geos[]=us); null when the bucket came whole",
    ),
)
USER = (
    _c("user_id", "VARCHAR", "the seat user (user_…)", False),
    _c("email", "VARCHAR", "the user's email (API field email or email_address); null for deleted users"),
    _c("user_name", "VARCHAR", "the user's name ('Deleted User' for deleted users)"),
    _c("user_deleted", "BOOLEAN", "the user is no longer a member (kept, with no email)", False),
    _c("actor_type", "VARCHAR", "user_actor"),
)

#: the ungrouped rows of a table holding several groupings: summing every grouping would count the facts several times
TOTAL_ROWS = "grouping = 'total'"
ENTERPRISE_USAGE = Table(
    "raw",
    "enterprise_usage",
    description="Claude Enterprise token usage per UTC day (usage_report), under several groupings (column "
    "grouping; 'total' is ungrouped). A bucket the API cut at its top 100 groups is never kept: it is "
    "asked again per inference geo, then per hour (split_filter, starting_at). Sum a grouping over "
    "usage_date for daily figures; rbac_group rows overlap.",
    columns=(*KEYS, *GROUPING, *SPAN, *DIMS, REQUESTS, *TOKEN_COLUMNS, *ENVELOPE, *LINEAGE),
    grain=("org_id", "usage_date", "grouping", "split_filter", "starting_at", *LEGACY_DIMS),
    counts=(*TOKENS, "requests"),
    totals_where=TOTAL_ROWS,
)
ENTERPRISE_COST = Table(
    "raw",
    "enterprise_cost",
    description="Claude Enterprise cost per UTC day (cost_report), under several groupings (column grouping; "
    "'total' is ungrouped), amount and list amount in exact USD. Buckets cut at the top 100 groups are "
    "asked again per inference geo, then per hour. rbac_group rows overlap.",
    columns=(*KEYS, *GROUPING, *SPAN, *DIMS, *COST_DIMS, *MONEY_COLUMNS, REQUESTS, *ENVELOPE, *LINEAGE),
    grain=(
        "org_id",
        "usage_date",
        "grouping",
        "split_filter",
        "starting_at",
        *LEGACY_DIMS,
        "cost_type",
        "token_type",
    ),
    money=("amount_usd", "list_amount_usd"),
    totals_where=TOTAL_ROWS,
)
ENTERPRISE_USER_USAGE = Table(
    "raw",
    "enterprise_user_usage",
    description="Token usage per seat user, UTC day, product and model (user_usage_report). Seat users only: "
    "Claude in Slack channels, Code Review and unattributed usage are in raw.enterprise_usage only.",
    columns=(
        *KEYS,
        *USER,
        *SPAN,
        *DIMS,
        REQUESTS,
        _c("total_tokens", "BIGINT", nullable=False),
        *TOKEN_COLUMNS,
        *ENVELOPE,
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", "user_id", *LEGACY_DIMS),
)
ENTERPRISE_USER_COST = Table(
    "raw",
    "enterprise_user_cost",
    description="Cost per seat user, UTC day, product and model (user_cost_report), amount and list amount in "
    "exact USD. Seat users only, so the daily sum is below the organization's total.",
    columns=(*KEYS, *USER, *SPAN, *DIMS, *COST_DIMS, *MONEY_COLUMNS, REQUESTS, *ENVELOPE, *LINEAGE),
    grain=("org_id", "usage_date", "user_id", *LEGACY_DIMS, "cost_type", "token_type"),
    money=("amount_usd", "list_amount_usd"),
)

V2_DIMS = (
    "actor_type",
    "agent_id",
    "api_key_id",
    "claude_tag_category",
    "claude_tag_user_id",
    "context_window",
    "deployment_id",
    "environment_id",
    "inference_geo",
    "model",
    "organization_id",
    "product",
    "rbac_group_id",
    "service_tier",
    "session_id",
    "slack_channel_id",
    "speed",
    "user_profile_id",
    "workspace_id",
)
ACTOR = (
    _c(
        "actor",
        "JSON",
        "the actor object as returned (user, service account, API key or federated); null "
        "unless grouped by actor, or usage with no actor",
    ),
    _c("actor_id", "VARCHAR", "user_id, service_account_id, api_key_id or federated subject of the actor"),
    _c("actor_email", "VARCHAR", "a user actor's email (email_address or email); null for deleted users"),
    _c("actor_name", "VARCHAR", "a user actor's name ('Deleted User' for deleted users)"),
    _c("user_deleted", "BOOLEAN", "a user actor that is no longer a member (kept, with no email)"),
)
V2_DIM_COLUMNS = tuple(_c(d, "VARCHAR", "group dimension (null unless grouped)") for d in V2_DIMS)
ANALYTICS_USAGE = Table(
    "raw",
    "analytics_usage",
    description="Beta Usage Analytics (/v1/organizations/analytics/usage): tokens per actor, product, model, context "
    "window and inference geo per UTC day, every combination (no top-N cut). Only for organizations "
    "with analytics_beta: true.",
    columns=(
        *KEYS,
        *SPAN,
        *ACTOR,
        *V2_DIM_COLUMNS,
        REQUESTS,
        _c("total_tokens", "BIGINT", nullable=False),
        *TOKEN_COLUMNS,
        *ENVELOPE,
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", "starting_at", "actor_id", *V2_DIMS),
)
ANALYTICS_COST = Table(
    "raw",
    "analytics_cost",
    description="Beta Cost Analytics (/v1/organizations/analytics/cost): amount and list amount (exact USD) per "
    "actor, product, model, context window, inference geo and cost type per UTC day, every combination. "
    "Only for organizations with analytics_beta: true.",
    columns=(
        *KEYS,
        *SPAN,
        *ACTOR,
        *V2_DIM_COLUMNS,
        *COST_DIMS,
        *MONEY_COLUMNS,
        REQUESTS,
        *ENVELOPE,
        *LINEAGE,
    ),
    grain=("org_id", "usage_date", "starting_at", "actor_id", *V2_DIMS, "cost_type", "token_type"),
    money=("amount_usd", "list_amount_usd"),
)
#: tables whose rows hold several groupings (their totals come from TOTAL_ROWS)
GROUPED_TABLES = (ENTERPRISE_USAGE, ENTERPRISE_COST)


def _schema(table: Table):
    checks: dict = {c: [sc.NON_NEGATIVE] for c in (*TOKENS, "requests", "total_tokens")}
    checks |= {
        "currency": [sc.USD],
        "amount_usd": [sc.NON_NEGATIVE_DECIMAL],
        "list_amount_usd": [sc.NON_NEGATIVE_DECIMAL],
        "usage_date": [sc.ISO_DATE],
    }
    if "grouping" in table.column_names:
        names = sorted({g.name for g in (*USAGE_GROUPINGS, *COST_GROUPINGS)})
        checks["grouping"] = [pa.Check.isin(names, error="unknown grouping")]
    return sc.staged_schema(table, {k: v for k, v in checks.items() if k in table.column_names})


# -- the plan of the bucketed reports ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Grouping:
    """One ``group_by[]`` of a bucketed report: its rows add up to the total unless groups overlap."""

    name: str
    group_by: tuple[str, ...]
    partitions: bool = True


TOTAL = Grouping("total", ())
PRODUCT_MODEL = Grouping("product_model", ("product", "model", "context_window", "inference_geo", "speed"))
TOKEN_TYPE = Grouping("token_type", ("model", "cost_type", "token_type"))
CLAUDE_TAG = Grouping("claude_tag", ("slack_channel_id", "claude_tag_category", "claude_tag_user_id"))
RBAC_GROUP = Grouping("rbac_group", ("rbac_group_id", "product"), partitions=False)
USAGE_GROUPINGS = (TOTAL, PRODUCT_MODEL, CLAUDE_TAG, RBAC_GROUP)
COST_GROUPINGS = (TOTAL, PRODUCT_MODEL, TOKEN_TYPE, CLAUDE_TAG, RBAC_GROUP)


def _schemas() -> dict:
    return {
        t: _schema(t)
        for t in (
            ENTERPRISE_USAGE,
            ENTERPRISE_COST,
            ENTERPRISE_USER_USAGE,
            ENTERPRISE_USER_COST,
            ANALYTICS_USAGE,
            ANALYTICS_COST,
        )
    }


class TopGroupsCut(RuntimeError):
    """A bucket still holds 100 groups after splitting by inference geo and by hour."""


@dataclass
class PlanLog:
    """What the run asked, per endpoint and refinement step (shown in the materialization metadata)."""

    counts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def markdown(self) -> str:
        return "\n".join(f"- {k}: {v}" for k, v in sorted(self.counts.items())) or "(no requests)"


def _instant(d: date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


def _day(stamp: str) -> date:
    return date.fromisoformat(str(stamp)[:10])


def _envelope_extra(
    page: dict, known=frozenset({"data", "has_more", "next_page", "data_refreshed_at", "organization_id"})
) -> dict:
    return {k: v for k, v in page.items() if k not in known}


def _extra(
    record: dict, known: set[str], nested: dict[str, set[str]] | None = None, **more: dict
) -> str | None:
    """Fields without a column: unknown top-level keys, unknown keys of known nested objects, and ``more``."""
    extra = {k: v for k, v in record.items() if k not in known}
    for key, inner in (nested or {}).items():
        value = record.get(key)
        if isinstance(value, dict):
            unknown = {k: v for k, v in value.items() if k not in inner}
            if unknown:
                extra[key] = unknown
    extra |= {k: v for k, v in more.items() if v}
    return json.dumps(extra, sort_keys=True, default=str) if extra else None


TOKEN_NESTED = {
    "cache_creation": {"ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens"},
    "server_tool_use": {"web_search_requests"},
}
TOKEN_KNOWN = {
    "uncached_input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "server_tool_use",
}


def _tokens(r: dict) -> dict:
    cache, tool = r.get("cache_creation") or {}, r.get("server_tool_use") or {}
    return {
        "uncached_input_tokens": r.get("uncached_input_tokens"),
        "cache_creation_5m_input_tokens": cache.get("ephemeral_5m_input_tokens"),
        "cache_creation_1h_input_tokens": cache.get("ephemeral_1h_input_tokens"),
        "cache_read_input_tokens": r.get("cache_read_input_tokens"),
        "output_tokens": r.get("output_tokens"),
        "web_search_requests": tool.get("web_search_requests"),
    }


def _money(r: dict) -> dict:
    amount, lst = r.get("amount"), r.get("list_amount")
    return {
        "currency": r.get("currency"),
        "amount_usd": None if amount is None else cents_to_usd(amount),
        "list_amount_usd": None if lst is None else cents_to_usd(lst),
    }


@dataclass
class _Kept:
    """One result the API returned in a bucket we keep (fewer than 100 results)."""

    bucket: dict
    result: dict
    page: dict
    split: str | None
    request: str


def _pull_bucketed(
    client: ApiClient,
    path: str,
    grouping: Grouping,
    start: date,
    end: date,
    stats: CallStats,
    refreshes: set,
    plan: PlanLog,
) -> tuple[list[_Kept], set[date], list[str]]:
    """Every result of one grouping over ``[start, end)``, with no bucket cut at the top 100 groups.

    Daily buckets first; the days with a bucket at 100 results are asked again once per inference
    geo (a partition of all rows), and any (day, geo) still at 100 again with hourly buckets. A
    bucket with fewer than 100 results holds every group, so every kept bucket is complete.
    """
    kept: list[_Kept] = []
    answered: set[date] = set()
    requests: list[str] = []
    endpoint = path.rsplit("/", 1)[-1]

    def pull(s: date, e: date, width: str, geo: str | None, only: set[date] | None = None) -> set[date]:
        params: dict = {
            "starting_at": _instant(s),
            "ending_at": _instant(e),
            "bucket_width": width,
            "limit": BUCKET_LIMIT[width],
        }
        if grouping.group_by:
            params["group_by[]"] = list(grouping.group_by)
        if geo:
            params["inference_geos[]"] = [geo]
        request = describe_request(path, params)
        requests.append(request)
        split = f"inference_geos[]={geo}" if geo else None
        cut: set[date] = set()
        mark, answered_before = len(kept), set(answered)

        def restart() -> None:  # the data was refreshed mid-query: forget its pages
            del kept[mark:]
            cut.clear()
            answered.intersection_update(answered_before)

        step = "daily" if width == "1d" and not geo else ("per geo" if width == "1d" else "per geo and hour")
        for page in client.iter_pages(path, params, stats=stats, restart=restart):
            plan.add(f"{endpoint} {grouping.name} {step}: requests")
            refreshes.add(page.get("data_refreshed_at"))
            for bucket in page["data"]:
                day = _day(bucket["starting_at"])
                if only is not None and day not in only:
                    continue  # a day between two refined ones: already kept at a coarser step
                if width == "1d" and not geo:
                    answered.add(day)
                results = bucket.get("results") or []
                if len(results) >= TOP_GROUPS:
                    if width == "1h":
                        raise TopGroupsCut(
                            f"GET {path} group_by {list(grouping.group_by)}: the hour {bucket['starting_at']} "
                            f"(inference geo {geo}) still holds {len(results)} groups, the API's cap; nothing was "
                            "written. Use a smaller grouping for this organization."
                        )
                    cut.add(day)
                    continue
                kept.extend(_Kept(bucket, r, page, split, request) for r in results)
        if cut:
            plan.add(f"{endpoint} {grouping.name} {step}: buckets at the top-100 cap", len(cut))
        return cut

    cut = pull(start, end, "1d", None)
    for geo in GEO_SLICES if cut else ():
        for s, e in _spans(cut, "1d"):
            still = pull(s, e, "1d", geo, cut)
            for s2, e2 in _spans(still, "1h"):
                pull(s2, e2, "1h", geo, still)
    return kept, answered, requests


def _spans(days: set[date], width: str) -> list[tuple[date, date]]:
    """Request spans covering ``days``: runs of days are merged while that costs no extra page."""
    per_day = 1 if width == "1d" else 24
    limit = BUCKET_LIMIT[width]

    def pages(span: tuple[date, date]) -> int:
        return -(-(span[1] - span[0]).days * per_day // limit)

    out: list[tuple[date, date]] = []
    for run in contiguous(sorted(days)):
        if out and pages((out[-1][0], run[1])) <= pages(out[-1]) + pages(run):
            out[-1] = (out[-1][0], run[1])
        else:
            out.append(run)
    return out


# -- row builders -----------------------------------------------------------------------------------------------
def _lineage(k: _Kept, fetched_at: str) -> dict:
    return {
        "anthropic_organization_id": k.page.get("organization_id"),
        "data_refreshed_at": k.page.get("data_refreshed_at"),
        "fetched_at": fetched_at,
        "source_request": k.request,
    }


def _bucket_row(org: OrgConfig, grouping: Grouping, k: _Kept, fetched_at: str, *, cost: bool) -> dict:
    r = k.result
    row = {
        "org_id": org.slug,
        "usage_date": k.bucket["starting_at"][:10],
        "grouping": grouping.name,
        "split_filter": k.split,
        "starting_at": k.bucket["starting_at"],
        "ending_at": k.bucket["ending_at"],
        **{d: r.get(d) for d in LEGACY_DIMS},
        "requests": r.get("requests"),
        **_lineage(k, fetched_at),
    }
    bucket_more = {k2: v for k2, v in k.bucket.items() if k2 not in ("starting_at", "ending_at", "results")}
    if cost:
        row |= {
            "cost_type": r.get("cost_type"),
            "token_type": r.get("token_type"),
            **_money(r),
            "extra": _extra(
                r,
                {*LEGACY_DIMS, "cost_type", "token_type", "currency", "amount", "list_amount", "requests"},
                bucket=bucket_more,
                envelope=_envelope_extra(k.page),
            ),
        }
    else:
        row |= {
            **_tokens(r),
            "extra": _extra(
                r,
                {*LEGACY_DIMS, "requests", *TOKEN_KNOWN},
                TOKEN_NESTED,
                bucket=bucket_more,
                envelope=_envelope_extra(k.page),
            ),
        }
    return row


ACTOR_KNOWN = {"type", "user_id", "email", "email_address", "name", "deleted"}


def _user(actor: dict | None) -> dict:
    actor = actor or {}
    deleted = bool(actor.get("deleted"))
    return {
        "user_id": actor.get("user_id"),
        "email": None if deleted else (actor.get("email") or actor.get("email_address")),
        "user_name": actor.get("name"),
        "user_deleted": deleted,
        "actor_type": actor.get("type"),
    }


def _user_row(org: OrgConfig, r: dict, page: dict, request: str, fetched_at: str, *, cost: bool) -> dict:
    actor = r.get("actor") or {}
    unknown_actor = {k: v for k, v in actor.items() if k not in ACTOR_KNOWN}
    row = {
        "org_id": org.slug,
        "usage_date": str(r.get("starting_at") or "")[:10] or None,
        **_user(actor),
        "starting_at": r.get("starting_at"),
        "ending_at": r.get("ending_at"),
        **{d: r.get(d) for d in LEGACY_DIMS},
        "requests": r.get("requests"),
        "anthropic_organization_id": page.get("organization_id"),
        "data_refreshed_at": page.get("data_refreshed_at"),
        "fetched_at": fetched_at,
        "source_request": request,
    }
    common = {"actor", "starting_at", "ending_at", *LEGACY_DIMS, "requests"}
    if cost:
        row |= {
            "cost_type": r.get("cost_type"),
            "token_type": r.get("token_type"),
            **_money(r),
            "extra": _extra(
                r,
                {*common, "cost_type", "token_type", "currency", "amount", "list_amount"},
                actor=unknown_actor,
                envelope=_envelope_extra(page),
            ),
        }
    else:
        row |= {
            "total_tokens": r.get("total_tokens"),
            **_tokens(r),
            "extra": _extra(
                r,
                {*common, "total_tokens", *TOKEN_KNOWN},
                TOKEN_NESTED,
                actor=unknown_actor,
                envelope=_envelope_extra(page),
            ),
        }
    return row


def _v2_actor(actor: dict | None) -> dict:
    if not actor:
        return {
            "actor": None,
            "actor_id": None,
            "actor_email": None,
            "actor_name": None,
            "user_deleted": None,
        }
    user = actor.get("type") == "user_actor"
    deleted = bool(actor.get("deleted")) if user else None
    ident = (
        actor.get("user_id")
        or actor.get("service_account_id")
        or actor.get("api_key_id")
        or actor.get("subject")
    )
    return {
        "actor": json.dumps(actor, sort_keys=True, default=str),
        "actor_id": ident,
        "actor_email": None if deleted else (actor.get("email_address") or actor.get("email")),
        "actor_name": actor.get("name"),
        "user_deleted": deleted,
    }


def _v2_row(org: OrgConfig, r: dict, page: dict, request: str, fetched_at: str, *, cost: bool) -> dict:
    group = r.get("group") or {}
    row = {
        "org_id": org.slug,
        "usage_date": str(r.get("starting_at") or "")[:10] or None,
        "starting_at": r.get("starting_at"),
        "ending_at": r.get("ending_at"),
        **_v2_actor(group.get("actor")),
        **{d: group.get(d) for d in V2_DIMS},
        "anthropic_organization_id": page.get("organization_id"),
        "data_refreshed_at": page.get("data_refreshed_at"),
        "fetched_at": fetched_at,
        "source_request": request,
    }
    group_known = {"actor", *V2_DIMS} | ({"cost_type", "token_type"} if cost else set())
    unknown_group = {k: v for k, v in group.items() if k not in group_known}
    if cost:
        c = r.get("cost") or {}
        row |= {
            "cost_type": group.get("cost_type"),
            "token_type": group.get("token_type"),
            **_money(c),
            "requests": c.get("requests"),
            "extra": _extra(
                r,
                {"starting_at", "ending_at", "group", "cost"},
                group=unknown_group,
                cost={
                    k: v for k, v in c.items() if k not in ("amount", "list_amount", "currency", "requests")
                },
                envelope=_envelope_extra(page),
            ),
        }
    else:
        u = r.get("usage") or {}
        unknown_usage = {k: v for k, v in u.items() if k not in {*TOKEN_KNOWN, "total_tokens", "requests"}}
        for key, inner in TOKEN_NESTED.items():
            if isinstance(u.get(key), dict) and set(u[key]) - inner:
                unknown_usage[key] = {k: v for k, v in u[key].items() if k not in inner}
        row |= {
            "requests": u.get("requests"),
            "total_tokens": u.get("total_tokens"),
            **_tokens(u),
            "extra": _extra(
                r,
                {"starting_at", "ending_at", "group", "usage"},
                group=unknown_group,
                usage=unknown_usage,
                envelope=_envelope_extra(page),
            ),
        }
    return row


# -- fetchers: one endpoint over one window -> rows -------------------------------------------------------------
Part = Callable[
    [ApiClient, OrgConfig, date, date, CallStats, set, PlanLog],
    tuple[dict[Table, pd.DataFrame], set[date], list[str]],
]


def _window_days(start: date, end: date) -> set[date]:
    return {start + timedelta(days=i) for i in range((end - start).days)}


def bucketed_part(table: Table, endpoint: str, groupings: Sequence[Grouping]) -> Part:
    """Every grouping of a bucketed report over one window, all read under one ``data_refreshed_at``.

    The groupings are separate requests; were the data refreshed between them, their sums could
    differ from the total for a reason other than a lost group, so the endpoint is pulled again.
    """
    cost = table is ENTERPRISE_COST
    path = f"{BASE}/{endpoint}"

    def part(client, org, start, end, stats, refreshes, plan):
        seen: list[list[str]] = []
        for _ in range(REFRESH_ATTEMPTS):
            mine: set = set()
            fetched_at, rows, days, requests = now_iso(), RowBuffer(table), None, []
            for grouping in groupings:
                kept, answered, reqs = _pull_bucketed(client, path, grouping, start, end, stats, mine, plan)
                for k in kept:
                    rows.add(_bucket_row(org, grouping, k, fetched_at, cost=cost))
                days = answered if days is None else days & answered
                requests += reqs
            if len(mine) <= 1:
                refreshes |= mine
                return {table: rows.frame()}, days or set(), requests
            seen.append(sorted(map(str, mine)))
            plan.add(f"{endpoint}: windows pulled again (the data was refreshed between its groupings)")
        raise RuntimeError(
            f"{org.slug} {start}..{end}: {endpoint} was refreshed during each of {REFRESH_ATTEMPTS} "
            f"pulls of its groupings (data_refreshed_at {seen}); nothing was written. Retry the run."
        )

    return part


def ranked_part(
    table: Table, path: str, params: dict, *, cost: bool, v2: bool, headers: dict | None = None
) -> Part:
    """A report ranked and paged by rows (per-user and beta reports): one paginated request per window."""
    build = _v2_row if v2 else _user_row

    def part(client, org, start, end, stats, refreshes, plan):
        query = {"starting_at": _instant(start), "ending_at": _instant(end), **params}
        request = describe_request(path, query)
        fetched_at, rows = now_iso(), RowBuffer(table)
        for page in client.iter_pages(
            path, query, stats=stats, headers=headers, restart=lambda: rows.truncate(0)
        ):
            plan.add(f"{path.rsplit('/', 1)[-1]}: requests")
            refreshes.add(page.get("data_refreshed_at"))
            for r in page["data"]:
                rows.add(build(org, r, page, request, fetched_at, cost=cost))
        return {table: rows.frame()}, _window_days(start, end), [request]

    return part


USER_GROUP_BY = ["product", "model"]
V2_GROUP_BY = ["actor", "product", "model", "context_window", "inference_geo"]
PARTS: dict[Table, Part] = {
    ENTERPRISE_USAGE: bucketed_part(ENTERPRISE_USAGE, "usage_report", USAGE_GROUPINGS),
    ENTERPRISE_COST: bucketed_part(ENTERPRISE_COST, "cost_report", COST_GROUPINGS),
    ENTERPRISE_USER_USAGE: ranked_part(
        ENTERPRISE_USER_USAGE,
        f"{BASE}/user_usage_report",
        {"bucket_width": "1d", "limit": ROW_LIMIT, "group_by[]": USER_GROUP_BY},
        cost=False,
        v2=False,
    ),
    ENTERPRISE_USER_COST: ranked_part(
        ENTERPRISE_USER_COST,
        f"{BASE}/user_cost_report",
        {"bucket_width": "1d", "limit": ROW_LIMIT, "group_by[]": USER_GROUP_BY},
        cost=True,
        v2=False,
    ),
    ANALYTICS_USAGE: ranked_part(
        ANALYTICS_USAGE,
        f"{BASE}/usage",
        {"time_bucket_width": "1d", "limit": ROW_LIMIT, "group_by[]": V2_GROUP_BY},
        cost=False,
        v2=True,
        headers=BETA_HEADERS,
    ),
    ANALYTICS_COST: ranked_part(
        ANALYTICS_COST,
        f"{BASE}/cost",
        {"time_bucket_width": "1d", "limit": ROW_LIMIT, "group_by[]": [*V2_GROUP_BY, "cost_type"]},
        cost=True,
        v2=True,
        headers=BETA_HEADERS,
    ),
}


def combined_fetcher(tables: Sequence[Table], plan: PlanLog):
    """One window of every selected table, written together (each row keeps the data_refreshed_at it was read at).

    The groupings of one bucketed report always share one refresh (see ``bucketed_part``); different
    endpoints may straddle an export, which only the (warning) user-vs-organization check could notice.
    """

    def fetch(client: ApiClient, org: OrgConfig, start: date, end: date, stats: CallStats) -> Fetched:
        refreshes: set = set()
        frames: dict[Table, pd.DataFrame] = {}
        days: set[date] | None = None
        requests: list[str] = []
        for table in tables:
            got, answered, reqs = PARTS[table](client, org, start, end, stats, refreshes, plan)
            frames |= got
            days = answered if days is None else days & answered
            requests += reqs
        if len(refreshes) > 1:
            plan.add("windows whose endpoints were read under different data_refreshed_at")
        return Fetched(frames, frozenset(days or ()), "; ".join(requests))

    return fetch


# -- availability -----------------------------------------------------------------------------------------------
def first_available_day(now: datetime | None = None) -> tuple[date, str]:
    """The first day a report can start on: 2026-01-01, or the 365-day lookback once that is later."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    edge = now - timedelta(days=LOOKBACK_DAYS) + CLOCK_MARGIN
    lookback = edge.date() + (timedelta(days=1) if edge.time() != time(0) else timedelta(0))
    if lookback > DATA_FLOOR:
        return lookback, f"beyond the API's 365-day lookback (the first day it serves is {lookback})"
    return DATA_FLOOR, "before 2026-01-01 (the Enterprise Analytics API has no data before it)"


def availability(*, beta: bool, now: datetime | None = None) -> Availability:
    floor, reason = first_available_day(now)

    def skip(org: OrgConfig) -> str | None:
        return None if getattr(org, "analytics_beta", False) else BETA_DISABLED

    return Availability(floor=floor, floor_reason=reason, skip=skip if beta else None)


# -- checks and metadata ------------------------------------------------------------------------------------------
def _extra_checks(selected_checks: set[dg.AssetCheckKey], tables: Sequence[Table]):
    def run(con: duckdb.DuckDBPyConnection, covered: Windows) -> Iterator[dg.AssetCheckResult]:
        def want(table: Table, name: str) -> bool:
            return dg.AssetCheckKey(table.asset_key, name) in selected_checks

        if ENTERPRISE_USAGE in tables and want(ENTERPRISE_USAGE, report_checks.GROUPED_EQUALS_TOTAL):
            yield report_checks.grouped_equals_total(
                con,
                ENTERPRISE_USAGE,
                covered,
                groupings=[g.name for g in USAGE_GROUPINGS[1:] if g.partitions],
                measures=[*TOKENS, "requests"],
                nullable=["requests"],
            )
        if ENTERPRISE_COST in tables and want(ENTERPRISE_COST, report_checks.GROUPED_EQUALS_TOTAL):
            yield report_checks.grouped_equals_total(
                con,
                ENTERPRISE_COST,
                covered,
                groupings=[g.name for g in COST_GROUPINGS[1:] if g.partitions],
                measures=["amount_usd", "list_amount_usd", "requests"],
                nullable=["requests"],
            )
        for table in (ENTERPRISE_COST, ENTERPRISE_USER_COST, ANALYTICS_COST):
            if table in tables and want(table, report_checks.AMOUNT_WITHIN_LIST):
                yield report_checks.amount_within_list(con, table, covered)
        if ENTERPRISE_USER_COST in tables and want(ENTERPRISE_USER_COST, report_checks.USER_COST_VS_ORG_COST):
            yield report_checks.user_cost_vs_org_cost(con, ENTERPRISE_USER_COST, ENTERPRISE_COST, covered)

    return run


def check_specs(table: Table) -> list[dg.AssetCheckSpec]:
    specs = list(window_checks.specs(table))
    if table in GROUPED_TABLES:
        specs.append(report_checks.grouped_spec(table))
    if table in (ENTERPRISE_COST, ENTERPRISE_USER_COST, ANALYTICS_COST):
        specs.append(report_checks.amount_spec(table))
    if table is ENTERPRISE_USER_COST:
        specs.append(report_checks.user_vs_org_spec(ENTERPRISE_USER_COST, ENTERPRISE_COST))
    return specs


def _run(
    context: dg.AssetExecutionContext,
    *,
    config: ProjectConfig,
    api: EnterpriseAnalyticsApi,
    duckdb_resource: DuckDBResource,
    tables: list[Table],
    beta: bool,
) -> Iterator:
    plan = PlanLog()
    outputs = list(
        run_windows(
            context,
            config=config,
            api=api,
            duckdb=duckdb_resource,
            tables=tables,
            schemas=_schemas(),
            fetch=combined_fetcher(tables, plan),
            max_days=MAX_WINDOW_DAYS,
            availability=availability(beta=beta),
            extra_checks=_extra_checks(set(context.selected_asset_check_keys), tables),
        )
    )
    for out in outputs:
        if isinstance(out, dg.MaterializeResult):
            meta = {**(out.metadata or {}), "request_plan": dg.MetadataValue.md(plan.markdown())}
            out = dg.MaterializeResult(asset_key=out.asset_key, metadata=meta)
        yield out


# -- assets -----------------------------------------------------------------------------------------------------
def _multi(name: str, tables: list[Table], config: ProjectConfig, *, beta: bool, description: str):
    @dg.multi_asset(
        name=name,
        description=description,
        specs=[
            dg.AssetSpec(
                t.asset_key,
                description=t.description,
                group_name=GROUP,
                kinds=KINDS,
                owners=OWNERS,
                skippable=True,
            )
            for t in tables
        ],
        check_specs=[s for t in tables for s in check_specs(t)],
        partitions_def=daily_by_org(config, "enterprise"),
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
    )
    def _asset(
        context: dg.AssetExecutionContext, analytics_api: EnterpriseAnalyticsApi, duckdb: DuckDBResource
    ):
        selected = [t for t in tables if t.asset_key in context.selected_asset_keys]
        yield from _run(
            context, config=config, api=analytics_api, duckdb_resource=duckdb, tables=selected, beta=beta
        )

    return _asset


def report_assets(config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The Enterprise usage and cost raw assets (group ``enterprise``)."""
    legacy = _multi(
        "raw__enterprise_reports",
        [ENTERPRISE_USAGE, ENTERPRISE_COST, ENTERPRISE_USER_USAGE, ENTERPRISE_USER_COST],
        config,
        beta=False,
        description="Claude Enterprise usage and cost reports (organization-level by several groupings, and per "
        "seat user), one 31-day window at a time, every selected table of a window written in one "
        "transaction.",
    )
    beta = _multi(
        "raw__analytics_usage_cost",
        [ANALYTICS_USAGE, ANALYTICS_COST],
        config,
        beta=True,
        description="Beta Usage and Cost Analytics endpoints, for organizations with analytics_beta: true; other "
        "organizations' partitions send no request and say so in their metadata.",
    )
    return [legacy, beta]

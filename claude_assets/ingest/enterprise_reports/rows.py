"""Pure functions from the reports' pages to rows of the raw tables: what has no column goes to ``extra``."""

import json
from dataclasses import dataclass

from claude_assets.config import OrgConfig
from claude_assets.ingest.enterprise_reports.groupings import Grouping
from claude_assets.ingest.enterprise_reports.tables import LEGACY_DIMS, V2_DIMS
from claude_assets.warehouse.contract import cents_to_usd


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


#: Claude Tag's product on the legacy reports: ``claude-in-slack`` in the docs (2026-08), ``claude-tag`` in the
#: SDK (2.12); stored as ``claude-tag`` whichever the API sends (``claude_in_slack``, the retiring v1 Slack bot,
#: is another product)
PRODUCT_SPELLINGS = {"claude-in-slack": "claude-tag"}


def _legacy_dims(r: dict) -> dict:
    dims = {d: r.get(d) for d in LEGACY_DIMS}
    dims["product"] = PRODUCT_SPELLINGS.get(dims["product"], dims["product"])
    return dims


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


def _money(r: dict, prefix: str = "") -> dict:
    amount, lst = r.get("amount"), r.get("list_amount")
    return {
        "currency": r.get("currency"),
        "amount_usd": None if amount is None else cents_to_usd(amount, f"{prefix}amount"),
        "list_amount_usd": None if lst is None else cents_to_usd(lst, f"{prefix}list_amount"),
    }


@dataclass
class Kept:
    """One result the API returned in a bucket we keep (fewer than 100 results)."""

    bucket: dict
    result: dict
    page: dict
    split: str | None
    request: str


def _lineage(page: dict, request: str, fetched_at: str) -> dict:
    """Where a row came from: the page's envelope, the request and when the API answered."""
    return {
        "anthropic_organization_id": page.get("organization_id"),
        "data_refreshed_at": page.get("data_refreshed_at"),
        "fetched_at": fetched_at,
        "source_request": request,
    }


def _ranked_row(org: OrgConfig, r: dict, page: dict, request: str, fetched_at: str) -> dict:
    """The columns every row of a report ranked by rows has: its day, its span and its lineage."""
    return {
        "org_id": org.slug,
        "usage_date": str(r.get("starting_at") or "")[:10] or None,
        "starting_at": r.get("starting_at"),
        "ending_at": r.get("ending_at"),
        **_lineage(page, request, fetched_at),
    }


def bucket_row(org: OrgConfig, grouping: Grouping, k: Kept, fetched_at: str, *, cost: bool) -> dict:
    r = k.result
    row = {
        "org_id": org.slug,
        "usage_date": k.bucket["starting_at"][:10],
        "grouping": grouping.name,
        "split_filter": k.split,
        "starting_at": k.bucket["starting_at"],
        "ending_at": k.bucket["ending_at"],
        **_legacy_dims(r),
        "requests": r.get("requests"),
        **_lineage(k.page, k.request, fetched_at),
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


def user(actor: dict | None) -> dict:
    actor = actor or {}
    deleted = bool(actor.get("deleted"))
    return {
        "user_id": actor.get("user_id"),
        "email": None if deleted else (actor.get("email") or actor.get("email_address")),
        "user_name": actor.get("name"),
        "user_deleted": deleted,
        "actor_type": actor.get("type"),
    }


def user_row(org: OrgConfig, r: dict, page: dict, request: str, fetched_at: str, *, cost: bool) -> dict:
    actor = r.get("actor") or {}
    unknown_actor = {k: v for k, v in actor.items() if k not in ACTOR_KNOWN}
    row = {
        **_ranked_row(org, r, page, request, fetched_at),
        **user(actor),
        **_legacy_dims(r),
        "requests": r.get("requests"),
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


def v2_actor(actor: dict | None) -> dict:
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


def v2_row(org: OrgConfig, r: dict, page: dict, request: str, fetched_at: str, *, cost: bool) -> dict:
    group = r.get("group") or {}
    row = {
        **_ranked_row(org, r, page, request, fetched_at),
        **v2_actor(group.get("actor")),
        **{d: group.get(d) for d in V2_DIMS},
    }
    group_known = {"actor", *V2_DIMS} | ({"cost_type", "token_type"} if cost else set())
    unknown_group = {k: v for k, v in group.items() if k not in group_known}
    if cost:
        c = r.get("cost") or {}
        row |= {
            "cost_type": group.get("cost_type"),
            "token_type": group.get("token_type"),
            **_money(c, "cost."),
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

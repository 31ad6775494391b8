"""Ground truth of the engagement endpoints, and the fewest requests of the client's engagement pull."""

from __future__ import annotations

import math
from datetime import date

from simulator.generators.engagement.arrays import Scope
from simulator.generators.engagement.generator import EngagementData, day_range, engagement


def truth_summaries(sim, org, start: date, end: date, params: dict):
    eng = engagement(sim, org)
    return {
        "organization_id": org.analytics_id,
        "days": [
            {"date": d.isoformat(), **row}
            for d, row in zip(day_range(start, end), eng.summaries(start, end), strict=True)
        ],
    }


def truth_user_activity(sim, org, start: date, end: date, params: dict):
    """Per-day totals of /analytics/users as the API shows them at the simulator's clock (``as_of=now``,
    the default) or once every revision is in (``as_of=final``)."""
    mode = params.get("as_of", "now")
    if mode not in ("now", "final"):
        raise ValueError("as_of must be 'now' (what the API shows at the simulator's clock) or 'final'")
    now = sim.now() if mode == "now" else None
    eng = engagement(sim, org)
    out = []
    for d in day_range(start, end):
        t = eng.user_table([d], now)
        out.append(
            {
                "date": d.isoformat(),
                "active_user_count": int(t["user"].size),
                "chat_message_count": int(t["chat_metrics.message_count"].sum()),
                "chat_conversation_count": int(t["chat_metrics.distinct_conversation_count"].sum()),
                "claude_code_session_count": int(
                    t["claude_code_metrics.core_metrics.distinct_session_count"].sum()
                ),
                "claude_code_commit_count": int(t["claude_code_metrics.core_metrics.commit_count"].sum()),
                "claude_code_pull_request_count": int(
                    t["claude_code_metrics.core_metrics.pull_request_count"].sum()
                ),
                "claude_code_lines_added": int(
                    t["claude_code_metrics.core_metrics.lines_of_code.added_count"].sum()
                ),
                "cowork_message_count": int(t["cowork_metrics.message_count"].sum()),
                "web_search_count": int(t["web_search_count"].sum()),
            }
        )
    return {"organization_id": org.analytics_id, "days": out}


#: The ``group_by[]`` the client sends on each per-day activity endpoint (``/users`` is read ungrouped). It
#: mirrors ``DAILY_ENDPOINTS`` of ``claude_assets/ingest/enterprise_engagement/tables.py``: keep the two in step,
#: or ``min_requests_engagement`` no longer counts the pages of the responses the client reads.
CLIENT_GROUP_BY: dict[str, tuple[str, ...]] = {
    "users": (),
    "projects": ("user_id",),
    "skills": ("product", "user_id"),
    "connectors": ("user_id",),
    "plugins": ("product", "user_id"),
    "artifacts": ("product", "user_id"),
}
#: The client's page size (the largest ``limit`` of the engagement endpoints).
CLIENT_PAGE_LIMIT = 1000
#: ``/summaries`` returns at most this many days in its single page (its largest date range).
SUMMARY_MAX_DAYS = 366


def client_rows(eng: EngagementData, kind: str, d: date) -> int:
    """Rows of the client's single-day (``date=d``) query of ``kind``, unfiltered, as the route builds them."""
    scope = Scope(group_by=CLIENT_GROUP_BY[kind])
    if kind == "users":
        return eng.users_query([d], scope, None).n
    return eng.entity_query(kind, [d], scope, start=d).n


def truth_min_requests(sim, org, start: date, end: date, params: dict):
    """Fewest requests of the client's pull of [start, end): the pages of the responses it reads.

    ``summaries``: one ranged request per 366 days (one page each). Every other endpoint: one
    ``date``-mode request per day with the client's ``group_by[]`` (``CLIENT_GROUP_BY``) at
    ``limit=1000``, i.e. ``max(1, ceil(rows / 1000))`` pages per day, ``rows`` being what the route
    returns for that query: active users on ``/users``; distinct (entity, user) on projects and
    connectors, and (entity, product, user) on skills, plugins and artifacts.
    """
    eng = engagement(sim, org)
    days = day_range(start, end)
    counts = {"summaries": math.ceil(len(days) / SUMMARY_MAX_DAYS)}
    counts |= {kind: 0 for kind in ("users", "projects", "skills", "connectors", "artifacts", "plugins")}
    for d in days:
        for kind in CLIENT_GROUP_BY:
            counts[kind] += max(1, math.ceil(client_rows(eng, kind, d) / CLIENT_PAGE_LIMIT))
    counts["total"] = sum(counts.values())
    return counts

"""Enterprise Analytics engagement endpoints (reference B0, B0.1, B1-B7), over real loopback HTTP.

Expected values come from independent computations: sums over per-user rows against summaries,
grouped rows against ungrouped ones, complete pagination against a single large page, the world's
own membership and invite records, and the documented freshness rule (day D is published at
10:00 UTC on D + lag). The module runs its own server with a raised rate limit, so the ~300 requests
here do not eat into the 60/minute budget of the session-wide ``enterprise`` fixture.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import anthropic
import httpx
import pytest

from simulator.app import Simulator
from simulator.clock import SimClock
from simulator.serve import serve_in_thread
from simulator.truth import truth
from simulator.world import World, day_start
from tests.conftest import FIXED_NOW, client_for

ORG = "acme-enterprise"
B = "/v1/organizations/analytics"
LATEST = date(2026, 11, 21)  # now = 2026-11-22T12:00Z, lag 1: day D is published at 10:00 UTC on D + 1
DAY = date(2026, 11, 18)  # a Wednesday
WEEKEND = date(2026, 11, 15)
ENTITY_PATHS = {
    "projects": "/apps/chat/projects",
    "skills": "/skills",
    "connectors": "/connectors",
    "plugins": "/plugins",
}
SORT_COLUMN = {
    "projects": "project_id",
    "skills": "skill_name",
    "connectors": "connector_name",
    "plugins": "plugin_name",
}


def _sim(world: str = "demo", now: datetime = FIXED_NOW, **kw) -> Simulator:
    return Simulator(
        World.build(world, 7, rate_limits={"enterprise": 1_000_000, "console": 1_000_000}),
        clock=SimClock(now),
        **kw,
    )


@pytest.fixture(scope="module")
def server():
    with serve_in_thread(_sim()) as running:
        yield running


@pytest.fixture(scope="module")
def api(server) -> httpx.Client:
    with client_for(server, ORG) as c:
        yield c


@pytest.fixture(scope="module")
def org(server):
    return server.sim.world.by_slug(ORG)


def get(api: httpx.Client, path: str, **params) -> dict:
    r = api.get(B + path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def error(api: httpx.Client, path: str, **params) -> tuple[int, str]:
    r = api.get(B + path, params=params)
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"], body
    return r.status_code, body["error"]["message"]


def pull(api: httpx.Client, path: str, **params) -> tuple[list[dict], int]:
    """Every row of a cursor-paginated query, and the number of requests it took."""
    rows, page, requests = [], None, 0
    while True:
        body = get(api, path, **params, **({"page": page} if page else {}))
        requests += 1
        assert set(body) == {"data", "next_page"}, "opaque-cursor envelope: data and next_page only"
        rows += body["data"]
        page = body["next_page"]
        if page is None:
            return rows, requests
        assert requests < 500


def summary(api, d: date, **params) -> dict:
    (row,) = get(
        api,
        "/summaries",
        starting_date=d.isoformat(),
        ending_date=(d + timedelta(days=1)).isoformat(),
        **params,
    )["data"]
    return row


def users_on(api, d: date, **params) -> list[dict]:
    return pull(api, "/users", date=d.isoformat(), limit=1000, **params)[0]


# -- summaries (B1) --------------------------------------------------------------------------------------
SUMMARY_REQUIRED = {
    "starting_at",
    "ending_at",
    "daily_active_user_count",
    "weekly_active_user_count",
    "monthly_active_user_count",
    "cowork_daily_active_user_count",
    "cowork_weekly_active_user_count",
    "cowork_monthly_active_user_count",
    "assigned_seat_count",
    "pending_invite_count",
    "daily_adoption_rate",
    "weekly_adoption_rate",
    "monthly_adoption_rate",
}


def test_summaries_envelope_series_and_seat_fields(api, org):
    start, end = date(2026, 10, 30), date(2026, 11, 6)
    body = get(api, "/summaries", starting_date=start.isoformat(), ending_date=end.isoformat())
    assert set(body) == {"data", "summaries", "next_page"}
    assert body["summaries"] == body["data"] and body["next_page"] is None
    rows = body["data"]
    assert [r["starting_at"] for r in rows] == [f"{start + timedelta(days=i)}T00:00:00Z" for i in range(7)]
    for i, r in enumerate(rows):
        d = start + timedelta(days=i)
        assert set(r) >= SUMMARY_REQUIRED
        assert r["ending_at"] == f"{d + timedelta(days=1)}T00:00:00Z"
        assert not any("chrome" in k for k in r)
        seats = sum(u.member_on(d) for u in org.users)
        end_of_day = day_start(d + timedelta(days=1))
        pending = sum(
            1 for inv in org.invites if inv.invited < end_of_day and inv.status_at(end_of_day) == "pending"
        )
        assert r["assigned_seat_count"] == seats
        assert r["pending_invite_count"] == pending
        for w in ("daily", "weekly", "monthly"):
            assert r[f"{w}_adoption_rate"] == pytest.approx(
                r[f"{w}_active_user_count"] / seats * 100, abs=0.006
            )
        assert (
            r["daily_active_user_count"]
            <= r["weekly_active_user_count"]
            <= r["monthly_active_user_count"]
            <= seats
        )
        for p in ("chat", "claude_code", "cowork", "claude_design", "office_agent"):
            assert r[f"{p}_daily_active_user_count"] <= r["daily_active_user_count"]
            assert (
                r[f"{p}_daily_active_user_count"]
                <= r[f"{p}_weekly_active_user_count"]
                <= r[f"{p}_monthly_active_user_count"]
            )
    # the limit parameter is accepted but does not shorten the series
    assert (
        len(
            get(api, "/summaries", starting_date=start.isoformat(), ending_date=end.isoformat(), limit=1)[
                "data"
            ]
        )
        == 7
    )


def test_summaries_default_ending_date_is_latest_available_day(api):
    rows = get(api, "/summaries", starting_date="2026-11-01")["data"]
    assert rows[-1]["starting_at"] == f"{LATEST}T00:00:00Z"
    assert len(rows) == (LATEST - date(2026, 11, 1)).days + 1


@pytest.mark.parametrize("d", [DAY, WEEKEND, date(2026, 3, 2)])
def test_dau_and_product_dau_equal_user_rows(api, d):
    s = summary(api, d)
    rows = users_on(api, d)
    assert s["daily_active_user_count"] == len(rows) > 0
    active = {
        "chat": lambda r: r["chat_metrics"]["message_count"] > 0,
        "claude_code": lambda r: r["claude_code_metrics"]["core_metrics"]["distinct_session_count"] > 0,
        "cowork": lambda r: r["cowork_metrics"]["distinct_session_count"] > 0,
        "claude_design": lambda r: r["design_metrics"]["distinct_session_count"] > 0,
        "office_agent": lambda r: any(a["distinct_session_count"] > 0 for a in r["office_metrics"].values()),
    }
    for product, used in active.items():
        assert s[f"{product}_daily_active_user_count"] == sum(map(used, rows)), product


def test_wau_and_mau_are_distinct_users_over_trailing_windows(api):
    s = summary(api, DAY)
    for days, field in ((7, "weekly_active_user_count"), (30, "monthly_active_user_count")):
        rows, _ = pull(
            api,
            "/users",
            starting_date=(DAY - timedelta(days=days - 1)).isoformat(),
            ending_date=(DAY + timedelta(days=1)).isoformat(),
            limit=1000,
        )
        assert len({r["user"]["id"] for r in rows}) == len(rows) == s[field]


def test_summaries_scoped_to_rbac_group(api):
    group = get(api, "/users", date=DAY.isoformat(), **{"group_by[]": "rbac_group_id"})["data"][0]
    gid = group["rbac_group_id"]
    scoped = summary(api, DAY, **{"filter[]": f"rbac_group_id:{gid}"})
    for k in (
        "assigned_seat_count",
        "pending_invite_count",
        "daily_adoption_rate",
        "weekly_adoption_rate",
        "monthly_adoption_rate",
    ):
        assert scoped[k] is None, k
    members = users_on(api, DAY, **{"filter[]": f"rbac_group_id:{gid}"})
    assert scoped["daily_active_user_count"] == len(members) == group["distinct_user_count"]
    assert scoped["daily_active_user_count"] < summary(api, DAY)["daily_active_user_count"]


# -- users (B2) ----------------------------------------------------------------------------------------
USER_KEYS = {
    "user",
    "chat_metrics",
    "claude_code_metrics",
    "cowork_metrics",
    "design_metrics",
    "office_metrics",
    "science_metrics",
    "web_search_count",
    "last_activity_date",
    "distinct_user_count",
    "rbac_group_id",
    "rbac_group_name",
    "chat_cowork_unified_metrics",
    "claude_tag_metrics",
}
CHAT_KEYS = {
    "message_count",
    "thinking_message_count",
    "distinct_conversation_count",
    "distinct_files_uploaded_count",
    "distinct_projects_created_count",
    "distinct_projects_used_count",
    "distinct_artifacts_created_count",
    "distinct_shared_artifacts_viewed_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_connectors_used_count",
    "shared_conversations_viewed_count",
}
COWORK_NOT_ENABLED = {
    "plugins_used_count",
    "distinct_plugins_used_count",
    "file_edit_count",
    "edit_tool_count",
    "multi_edit_tool_count",
    "write_tool_count",
    "notebook_edit_tool_count",
    "sessions_with_file_edits_count",
}
OFFICE_KEYS = {
    "distinct_session_count",
    "message_count",
    "skills_used_count",
    "distinct_skills_used_count",
    "connectors_used_count",
    "distinct_connectors_used_count",
}


def test_user_record_shape(api, org):
    rows = users_on(api, DAY)
    ids = {u.id: u for u in org.users}
    for r in rows:
        assert set(r) == USER_KEYS
        assert set(r["user"]) == {"id", "email_address", "type"} and r["user"]["type"] == "user"
        assert ids[r["user"]["id"]].email == r["user"]["email_address"]
        assert set(r["chat_metrics"]) == CHAT_KEYS
        assert set(r["claude_code_metrics"]) == {"core_metrics", "tool_actions"}
        assert set(r["claude_code_metrics"]["core_metrics"]) == {
            "distinct_session_count",
            "commit_count",
            "pull_request_count",
            "artifacts_created_count",
            "lines_of_code",
        }
        assert set(r["claude_code_metrics"]["tool_actions"]) == {
            "edit_tool",
            "multi_edit_tool",
            "notebook_edit_tool",
            "write_tool",
        }
        assert set(r["office_metrics"]) == {"excel", "outlook", "powerpoint", "word"}
        assert all(set(v) == OFFICE_KEYS for v in r["office_metrics"].values())
        assert set(r["science_metrics"]) == {
            "distinct_session_count",
            "message_count",
            "delegation_count",
            "remote_compute_job_count",
            "skills_used_count",
        }
        assert set(r["design_metrics"]) == {
            "distinct_session_count",
            "message_count",
            "distinct_projects_created_count",
            "distinct_projects_used_count",
        }
        assert all(r["cowork_metrics"][k] is None for k in COWORK_NOT_ENABLED)
        for block in ("chat_metrics", "design_metrics", "science_metrics"):  # zero-filled, never null
            assert all(isinstance(v, int) for v in r[block].values()), block
        assert r["last_activity_date"] == DAY.isoformat()
        assert (
            r["distinct_user_count"] is None and r["rbac_group_id"] is None and r["rbac_group_name"] is None
        )
        assert r["chat_cowork_unified_metrics"] is None
        assert set(r["claude_tag_metrics"]) == {"active_day_count", "active_message_count"}
        cc = r["claude_code_metrics"]["core_metrics"]
        assert cc["pull_request_count"] <= cc["commit_count"]
        chat = r["chat_metrics"]
        assert chat["thinking_message_count"] <= chat["message_count"]
        assert chat["distinct_conversation_count"] <= chat["message_count"]


def test_users_sorted_by_email_and_paginate_completely(api):
    full = users_on(api, DAY)
    paged, requests = pull(api, "/users", date=DAY.isoformat(), limit=7)
    assert requests == -(-len(full) // 7)
    assert paged == full
    emails = [r["user"]["email_address"] for r in paged]
    assert emails == sorted(emails) and len(set(emails)) == len(emails)
    desc = pull(api, "/users", date=DAY.isoformat(), limit=1000, order="desc")[0]
    assert [r["user"]["email_address"] for r in desc] == emails[::-1]
    # default page size is 100
    assert len(get(api, "/users", date=DAY.isoformat())["data"]) == min(100, len(full))


def test_users_order_by_metric(api):
    d = DAY.isoformat()
    ranked = users_on(api, DAY, order_by="chat_metrics.message_count")
    counts = [r["chat_metrics"]["message_count"] for r in ranked]
    assert counts == sorted(counts, reverse=True)
    asc = users_on(api, DAY, order_by="chat_metrics.message_count", order="asc")
    assert [r["chat_metrics"]["message_count"] for r in asc] == sorted(counts)
    by_leaf = users_on(api, DAY, order_by="commit_count")  # a unique leaf name works too
    commits = [r["claude_code_metrics"]["core_metrics"]["commit_count"] for r in by_leaf]
    assert commits == sorted(commits, reverse=True)
    assert error(api, "/users", date=d, order_by="message_count")[0] == 400  # ambiguous leaf
    assert error(api, "/users", date=d, order_by="favourite_colour")[0] == 400
    assert error(api, "/users", date=d, order="sideways")[0] == 400


def test_users_group_by_rbac_group(api):
    d = DAY.isoformat()
    groups, _ = pull(api, "/users", date=d, limit=3, **{"group_by[]": "rbac_group_id"})
    dau = summary(api, DAY)["daily_active_user_count"]
    ids = [g["rbac_group_id"] for g in groups]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and all(i.startswith("rbac_group_") for i in ids)
    assert sum(g["distinct_user_count"] for g in groups) >= dau  # not an exclusive partition
    for g in groups:
        assert g["user"] is None and g["rbac_group_name"]
        assert g["chat_metrics"]["distinct_projects_used_count"] is None  # cannot be computed across users
        members = users_on(api, DAY, **{"filter[]": f"rbac_group_id:{g['rbac_group_id']}"})
        assert g["distinct_user_count"] == len(members)
        assert g["chat_metrics"]["message_count"] == sum(m["chat_metrics"]["message_count"] for m in members)
        assert g["web_search_count"] == sum(m["web_search_count"] for m in members)
        assert g["claude_code_metrics"]["core_metrics"]["commit_count"] == sum(
            m["claude_code_metrics"]["core_metrics"]["commit_count"] for m in members
        )
    # a user holding two groups is counted in both
    seen = Counter()
    for g in groups:
        for m in users_on(api, DAY, **{"filter[]": f"rbac_group_id:{g['rbac_group_id']}"}):
            seen[m["user"]["id"]] += 1
    assert sum(g["distinct_user_count"] for g in groups) == sum(seen.values())
    assert max(seen.values()) >= 2


def test_users_filters(api):
    rows = users_on(api, DAY)
    pick = [rows[0]["user"]["id"], rows[5]["user"]["id"]]
    filtered = users_on(api, DAY, **{"filter[]": [f"user_id:{u}" for u in pick]})  # OR within a dimension
    assert [r["user"]["id"] for r in filtered] == pick  # still in email order
    groups = [
        g["rbac_group_id"]
        for g in get(api, "/users", date=DAY.isoformat(), **{"group_by[]": "rbac_group_id"})["data"]
    ]
    holds = {
        g: pick[0] in {r["user"]["id"] for r in users_on(api, DAY, **{"filter[]": f"rbac_group_id:{g}"})}
        for g in groups
    }
    for g, member in holds.items():  # AND across dimensions
        both = users_on(api, DAY, **{"filter[]": [f"user_id:{pick[0]}", f"rbac_group_id:{g}"]})
        assert [r["user"]["id"] for r in both] == ([pick[0]] if member else [])
    assert any(holds.values()) and not all(holds.values())
    assert users_on(api, DAY, **{"filter[]": "user_id:user_01doesnotexist"}) == []
    # project filter: each row is the member's chat activity in that project only
    projects = pull(
        api, "/apps/chat/projects", date=DAY.isoformat(), limit=1000, **{"group_by[]": "user_id"}
    )[0]
    proj = projects[0]["project_id"]
    in_project = users_on(api, DAY, **{"filter[]": f"project_id:{proj}"})
    expected = {p["user_id"]: p for p in projects if p["project_id"] == proj}
    assert {r["user"]["id"] for r in in_project} == set(expected)
    full = {r["user"]["id"]: r for r in rows}
    for r in in_project:
        assert r["chat_metrics"]["message_count"] == expected[r["user"]["id"]]["message_count"]
        assert r["chat_metrics"]["message_count"] <= full[r["user"]["id"]]["chat_metrics"]["message_count"]
        assert r["chat_metrics"]["distinct_projects_used_count"] == 1
        assert r["claude_code_metrics"]["core_metrics"]["distinct_session_count"] == 0
    status, msg = error(
        api,
        "/users",
        date=DAY.isoformat(),
        **{"filter[]": f"project_id:{proj}", "group_by[]": "rbac_group_id"},
    )
    assert status == 400 and "project_id" in msg


def test_users_rollup_mode(api):
    start, end = date(2026, 11, 9), date(2026, 11, 16)
    rollup = pull(api, "/users", starting_date=start.isoformat(), ending_date=end.isoformat(), limit=1000)[0]
    daily = defaultdict(list)
    for i in range(7):
        d = start + timedelta(days=i)
        for r in users_on(api, d):
            daily[r["user"]["id"]].append((d, r))
    assert {r["user"]["id"] for r in rollup} == set(daily)
    for r in rollup:
        days = daily[r["user"]["id"]]
        assert r["last_activity_date"] == max(d for d, _ in days).isoformat()
        assert r["chat_metrics"]["message_count"] == sum(x["chat_metrics"]["message_count"] for _, x in days)
        assert r["cowork_metrics"]["skills_used_count"] == sum(
            x["cowork_metrics"]["skills_used_count"] for _, x in days
        )
        # distinct projects over the window: never more than the sum of the daily counts, never less than the max
        used = [x["chat_metrics"]["distinct_projects_used_count"] for _, x in days]
        assert max(used) <= r["chat_metrics"]["distinct_projects_used_count"] <= sum(used)


# -- deleted users ---------------------------------------------------------------------------------------
def test_deleted_user_appears_only_while_member(api, org):
    floor = date(2026, 1, 1)
    candidates = [u for u in org.users if u.removed and floor + timedelta(days=30) < u.removed <= LATEST]
    assert candidates, "the demo world has users removed during 2026"
    found = 0
    for u in candidates[:4]:
        start = max(floor, u.added)
        before = pull(
            api,
            "/users",
            starting_date=start.isoformat(),
            ending_date=u.removed.isoformat(),
            limit=1000,
            **{"filter[]": f"user_id:{u.id}"},
        )[0]
        after = pull(
            api,
            "/users",
            starting_date=u.removed.isoformat(),
            ending_date=(LATEST + timedelta(days=1)).isoformat(),
            limit=1000,
            **{"filter[]": f"user_id:{u.id}"},
        )[0]
        assert after == []
        if before:
            found += 1
            (row,) = before
            assert row["user"] == {"id": u.id, "email_address": u.email, "type": "user"}
            last = date.fromisoformat(row["last_activity_date"])
            assert last < u.removed
            assert u.id in {r["user"]["id"] for r in users_on(api, last)}
    assert found > 0


# -- projects, skills, connectors, plugins (B3-B5, B7) ------------------------------------------------------
@pytest.mark.parametrize("kind", list(ENTITY_PATHS))
def test_entities_sorted_and_paginated(api, kind):
    path, col = ENTITY_PATHS[kind], SORT_COLUMN[kind]
    full, _ = pull(api, path, date=DAY.isoformat(), limit=1000)
    paged, requests = pull(api, path, date=DAY.isoformat(), limit=3)
    assert full and paged == full and requests == -(-len(full) // 3)
    keys = [r[col] for r in full]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for r in full:
        assert r["distinct_user_count"] >= 1
        assert r["user_id"] is None and r["rbac_group_id"] is None and r["rbac_group_name"] is None
        assert ("product" in r) == (kind != "projects")
    desc, _ = pull(api, path, date=DAY.isoformat(), limit=1000, order="desc")
    assert [r[col] for r in desc] == keys[::-1]
    ranked, _ = pull(api, path, date=DAY.isoformat(), limit=1000, order_by="distinct_user_count")
    counts = [r["distinct_user_count"] for r in ranked]
    assert counts == sorted(counts, reverse=True)
    assert error(api, path, date=DAY.isoformat(), order_by="nonsense")[0] == 400


ADDITIVE = {
    "projects": lambda r: r["message_count"],
    "skills": lambda r: r["invocation_count"],
    "connectors": lambda r: (
        r["chat_metrics"]["distinct_conversation_connector_used_count"]
        + r["claude_code_metrics"]["distinct_session_connector_used_count"]
    ),
    "plugins": lambda r: r["invocation_count"],
}


@pytest.mark.parametrize("kind", list(ENTITY_PATHS))
@pytest.mark.parametrize("mode", ["single", "rollup"])
def test_entity_group_by_user_matches_ungrouped(api, kind, mode):
    path, col = ENTITY_PATHS[kind], SORT_COLUMN[kind]
    when = (
        {"date": DAY.isoformat()}
        if mode == "single"
        else {"starting_date": "2026-11-09", "ending_date": "2026-11-16"}
    )
    ungrouped = {r[col]: r for r in pull(api, path, limit=1000, **when)[0]}
    by_user, _ = pull(api, path, limit=11, **when, **{"group_by[]": "user_id"})
    keys = [(r[col], r["user_id"]) for r in by_user]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    users, total = defaultdict(set), Counter()
    for r in by_user:
        assert r["user_id"].startswith("user_") and r["distinct_user_count"] == 1
        users[r[col]].add(r["user_id"])
        total[r[col]] += ADDITIVE[kind](r)
    assert set(users) == set(ungrouped)
    for name, row in ungrouped.items():
        assert row["distinct_user_count"] == len(users[name])  # exact distinct users, also over a window
        assert ADDITIVE[kind](row) == total[name]


def test_rollup_distinct_users_are_not_sums_of_days(api):
    start = date(2026, 11, 9)
    rollup = {
        r["skill_name"]: r
        for r in pull(api, "/skills", starting_date=start.isoformat(), ending_date="2026-11-16", limit=1000)[
            0
        ]
    }
    daily_users, daily_inv = Counter(), Counter()
    for i in range(7):
        for r in pull(api, "/skills", date=(start + timedelta(days=i)).isoformat(), limit=1000)[0]:
            daily_users[r["skill_name"]] += r["distinct_user_count"]
            daily_inv[r["skill_name"]] += r["invocation_count"]
    assert set(rollup) == set(daily_inv)
    for name, r in rollup.items():
        assert r["invocation_count"] == daily_inv[name]  # addable: summed
        assert r["distinct_user_count"] <= daily_users[name]
        assert r["enable_count"] is None  # a distinct count: null in rollup mode
    assert any(r["distinct_user_count"] < daily_users[n] for n, r in rollup.items())


def test_group_by_product_and_rbac_group(api):
    d = DAY.isoformat()
    ungrouped = {r["skill_name"]: r for r in pull(api, "/skills", date=d, limit=1000)[0]}
    by_product, _ = pull(api, "/skills", date=d, limit=1000, **{"group_by[]": "product"})
    inv = Counter()
    for r in by_product:
        assert r["product"] in ("chat", "claude_code", "cowork", "office_agent")
        assert r["enable_count"] is None  # org-wide count: null on product cuts
        inv[r["skill_name"]] += r["invocation_count"]
        if r["product"] == "chat":
            assert r["attributed_list_price"] is None
    assert inv == Counter({k: v["invocation_count"] for k, v in ungrouped.items()})
    # rbac_group_id: each group row equals the same query filtered to that group
    grouped, _ = pull(api, "/connectors", date=d, limit=1000, **{"group_by[]": "rbac_group_id"})
    gid = grouped[0]["rbac_group_id"]
    filtered = {
        r["connector_name"]: r
        for r in pull(api, "/connectors", date=d, limit=1000, **{"filter[]": f"rbac_group_id:{gid}"})[0]
    }
    mine = {r["connector_name"]: r for r in grouped if r["rbac_group_id"] == gid}
    assert set(mine) == set(filtered)
    for name, r in mine.items():
        assert r["distinct_user_count"] == filtered[name]["distinct_user_count"]
        assert r["read_call_count"] == filtered[name]["read_call_count"]


def test_cross_endpoint_totals_agree_with_user_rows(api):
    d = DAY.isoformat()
    rows = users_on(api, DAY)

    def total(f):
        return sum(f(r) for r in rows)

    def entity_sum(path, f, **params):
        return sum(f(r) for r in pull(api, path, date=d, limit=1000, **params)[0])

    assert entity_sum("/skills", lambda r: r["invocation_count"], **{"filter[]": "product:cowork"}) == total(
        lambda r: r["cowork_metrics"]["skills_used_count"]
    )
    calls = lambda r: r["read_call_count"] + r["write_call_count"] + r["unclassified_call_count"]  # noqa: E731
    assert entity_sum("/connectors", calls, **{"filter[]": "product:chat"}) == total(
        lambda r: r["chat_metrics"]["connectors_used_count"]
    )
    assert entity_sum("/connectors", calls, **{"filter[]": "product:office_agent"}) == total(
        lambda r: sum(a["connectors_used_count"] for a in r["office_metrics"].values())
    )
    assert entity_sum(
        "/artifacts", lambda r: r["artifacts_created_count"], **{"filter[]": "product:chat"}
    ) == total(lambda r: r["chat_metrics"]["distinct_artifacts_created_count"])
    assert entity_sum(
        "/artifacts", lambda r: r["artifacts_created_count"], **{"filter[]": "product:claude_code"}
    ) == total(lambda r: r["claude_code_metrics"]["core_metrics"]["artifacts_created_count"])
    # per user: projects used and chat skills used are the user's rows in the grouped entity endpoints
    per_user_projects = Counter(
        r["user_id"]
        for r in pull(api, "/apps/chat/projects", date=d, limit=1000, **{"group_by[]": "user_id"})[0]
    )
    per_user_skills = Counter(
        r["user_id"]
        for r in pull(
            api, "/skills", date=d, limit=1000, **{"group_by[]": "user_id", "filter[]": "product:chat"}
        )[0]
    )
    for r in rows:
        assert r["chat_metrics"]["distinct_projects_used_count"] == per_user_projects[r["user"]["id"]]
        assert r["chat_metrics"]["distinct_skills_used_count"] == per_user_skills[r["user"]["id"]]


def test_project_records(api, org):
    rows = pull(api, "/apps/chat/projects", starting_date="2026-10-01", ending_date="2026-11-01", limit=1000)[
        0
    ]
    members = {u.id for u in org.users}
    assert len(rows) >= 10
    for r in rows:
        assert set(r) == {
            "project_id",
            "project_name",
            "created_at",
            "created_by",
            "distinct_user_count",
            "message_count",
            "distinct_conversation_count",
            "user_id",
            "rbac_group_id",
            "rbac_group_name",
        }
        assert r["project_id"].startswith("claude_proj_") and r["project_name"]
        assert r["distinct_conversation_count"] <= r["message_count"]
        if r["created_at"] is not None:
            assert r["created_at"] < "2026-11-01"  # used in the window, so created before its end
        if r["created_by"] is not None:
            assert r["created_by"]["id"] in members and r["created_by"]["type"] == "user"
    assert error(api, "/apps/chat/projects", date=DAY.isoformat(), **{"group_by[]": "product"})[0] == 400
    assert error(api, "/apps/chat/projects", date=DAY.isoformat(), **{"filter[]": "product:chat"})[0] == 400


def test_skill_money_and_share_fields(api):
    rows = pull(api, "/skills", starting_date="2026-11-01", ending_date="2026-11-15", limit=1000)[0]
    assert 15 <= len(rows) <= 40
    for r in rows:
        assert r["share_status"] in (None, "organization", "private", "public")
        for k in ("estimated_overage_spend", "attributed_list_price"):
            if r[k] is not None:
                assert Decimal(r[k]) >= 0 and "." in r[k]
        assert r["currency"] == (
            "USD" if r["estimated_overage_spend"] or r["attributed_list_price"] else None
        )
        office = r["office_metrics"]
        assert set(office) == {"excel", "outlook", "powerpoint", "word"}
    private = pull(
        api,
        "/skills",
        starting_date="2026-11-01",
        ending_date="2026-11-15",
        limit=1000,
        **{"filter[]": "share_status:private"},
    )[0]
    assert private and all(r["share_status"] == "private" for r in private)
    name = rows[0]["skill_name"]
    upper = pull(
        api,
        "/skills",
        starting_date="2026-11-01",
        ending_date="2026-11-15",
        limit=1000,
        **{"filter[]": f"skill_name:{name.upper()}"},
    )[0]
    assert [r["skill_name"] for r in upper] == [name]


def test_connector_names_are_normalized_for_filters(api):
    rows = pull(api, "/connectors", starting_date="2026-11-01", ending_date="2026-11-15", limit=1000)[0]
    names = {r["connector_name"] for r in rows}
    assert {"atlassian", "github", "slack"} <= names
    for display, expected in (
        ("Atlassian MCP server", "atlassian"),
        ("mcp-atlassian", "atlassian"),
        ("GitHub MCP", "github"),
        ("SLACK", "slack"),
    ):
        got = pull(
            api,
            "/connectors",
            starting_date="2026-11-01",
            ending_date="2026-11-15",
            limit=1000,
            **{"filter[]": f"connector_name:{display}"},
        )[0]
        assert [r["connector_name"] for r in got] == [expected], display
    opaque = [r for r in rows if r["connector_display_name"]]
    for r in opaque:  # an opaque connector id also matches its display name
        got = pull(
            api,
            "/connectors",
            starting_date="2026-11-01",
            ending_date="2026-11-15",
            limit=1000,
            **{"filter[]": f"connector_name:{r['connector_display_name'].lower()}"},
        )[0]
        assert r["connector_name"] in [x["connector_name"] for x in got]
    early = get(api, "/connectors", date="2026-03-02", limit=1000)["data"]
    assert early and all(
        r["read_call_count"] is None and r["managed_auth_distinct_user_count"] is None for r in early
    )


def test_plugins_third_party_bucket_and_products(api):
    rows = pull(api, "/plugins", starting_date="2026-11-01", ending_date="2026-11-15", limit=1000)[0]
    third = [r for r in rows if r["plugin_name"] == "third-party"]
    assert len(third) == 1 and third[0]["plugin_id"] is None
    for r in rows:
        assert r["install_count"] <= r["distinct_user_count"]
    by_product = pull(
        api,
        "/plugins",
        starting_date="2026-11-01",
        ending_date="2026-11-15",
        limit=1000,
        **{"group_by[]": "product"},
    )[0]
    assert {r["product"] for r in by_product} == {"claude_code", "cowork"}
    assert error(api, "/plugins", date=DAY.isoformat(), **{"filter[]": "product:chat"})[0] == 400


# -- artifacts (B6) -----------------------------------------------------------------------------------------
def test_artifacts_cube(api):
    d = DAY.isoformat()
    body = get(api, "/artifacts", date=d, limit=1)
    cube = body["data"]
    assert body["next_page"] is None and len(cube) > 1  # the ungrouped cube is never paginated
    cells = [(r["artifact_type"], r["is_shared"]) for r in cube]
    assert len(set(cells)) == len(cells)
    for r in cube:
        assert r["artifact_type"] == "other" or "/" in r["artifact_type"]
        assert r["published_artifacts_created_count"] <= r["artifacts_created_count"]
        assert r["published_artifacts_created_count"] == 0 or r["is_shared"]
        assert r["distinct_user_count"] <= r["artifacts_created_count"]
    grouped, requests = pull(api, "/artifacts", date=d, limit=4, **{"group_by[]": ["user_id", "product"]})
    assert requests > 1
    total = Counter()
    for r in grouped:
        total[(r["artifact_type"], r["is_shared"])] += r["artifacts_created_count"]
    assert total == Counter(
        {(r["artifact_type"], r["is_shared"]): r["artifacts_created_count"] for r in cube}
    )
    shared = get(api, "/artifacts", date=d, **{"filter[]": "is_shared:true"})["data"]
    assert shared == [r for r in cube if r["is_shared"]]
    # Claude Code / Cowork artifacts are counted from 2026-08-17 only, as text/html
    early = get(api, "/artifacts", date="2026-08-10", **{"group_by[]": "product"})["data"]
    assert {r["product"] for r in early} == {"chat"}
    late = get(api, "/artifacts", date=d, limit=1000, **{"group_by[]": "product"})["data"]
    assert all(r["artifact_type"] == "text/html" for r in late if r["product"] != "chat")
    assert error(api, "/artifacts")[0] == 400
    assert error(api, "/artifacts", date=d, page=get(api, "/users", date=d, limit=1)["next_page"])[0] == 400
    assert error(api, "/artifacts", starting_date="2026-11-01")[0] == 400


# -- errors, freshness, cursors ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "params", "needle"),
    [
        ("/users", {}, "date"),
        ("/users", {"date": "2025-12-31"}, "2026-01-01"),
        ("/users", {"date": "2026-13-01"}, "YYYY-MM-DD"),
        ("/users", {"date": "2026-11-01", "starting_date": "2026-11-01"}, "not both"),
        ("/users", {"ending_date": "2026-11-02"}, "starting_date"),
        ("/users", {"starting_date": "2026-11-05", "ending_date": "2026-11-05"}, "after"),
        ("/users", {"starting_date": "2026-11-05", "ending_date": "2026-11-01"}, "after"),
        ("/users", {"starting_date": "2025-12-01", "ending_date": "2026-01-05"}, "2026-01-01"),
        ("/users", {"date": "2026-11-01", "limit": "0"}, "limit"),
        ("/users", {"date": "2026-11-01", "limit": "1001"}, "limit"),
        ("/users", {"date": "2026-11-01", "filter[]": "product:chat"}, "product"),
        ("/users", {"date": "2026-11-01", "filter[]": "rbac_group_id"}, "dimension:value"),
        ("/users", {"date": "2026-11-01", "filter[]": "user_id:ana@acme.example"}, "user_"),
        ("/users", {"date": "2026-11-01", "group_by[]": "user_id"}, "group_by"),
        ("/skills", {"date": "2026-11-01", "group_by[]": "model"}, "group_by"),
        ("/skills", {"date": "2026-11-01", "filter[]": "share_status:secret"}, "share_status"),
        ("/skills", {"date": "2026-11-01", "filter[]": "product:chat_cowork_unified"}, "chat_cowork_unified"),
        ("/connectors", {"date": "2026-11-01", "filter[]": "skill_name:pdf"}, "skill_name"),
        ("/connectors", {"date": "2026-11-01", "page": "page_garbage"}, "cursor"),
        ("/artifacts", {"date": "2026-11-01", "filter[]": "is_shared:maybe"}, "is_shared"),
        ("/summaries", {}, "starting_date"),
        ("/summaries", {"starting_date": "2026-11-01", "filter[]": "user_id:user_01x"}, "user_id"),
        ("/summaries", {"starting_date": "2025-12-25"}, "2026-01-01"),
        ("/summaries", {"starting_date": "2026-11-01", "filter[]": "rbac_group_id:finance"}, "rbac_group"),
    ],
)
def test_bad_requests(api, path, params, needle):
    status, message = error(api, path, **params)
    assert status == 400
    assert needle in message


def test_filter_list_limit(api):
    too_many = [f"user_id:user_{i:03d}" for i in range(101)]
    assert error(api, "/users", date=DAY.isoformat(), **{"filter[]": too_many})[0] == 400
    assert get(api, "/users", date=DAY.isoformat(), **{"filter[]": too_many[:100]})["data"] == []


@pytest.mark.parametrize(
    "path",
    ["/summaries", "/users", "/apps/chat/projects", "/skills", "/connectors", "/artifacts", "/plugins"],
)
def test_too_recent_dates_name_the_latest_available_day(api, path):
    tomorrow = (LATEST + timedelta(days=1)).isoformat()
    if path == "/summaries":
        status, message = error(api, path, starting_date=tomorrow)
    else:
        status, message = error(api, path, date=tomorrow)
    assert status == 400 and LATEST.isoformat() in message
    if path != "/artifacts":
        status, message = error(
            api, path, starting_date="2026-11-01", ending_date=(LATEST + timedelta(days=2)).isoformat()
        )
        assert status == 400 and LATEST.isoformat() in message
        ok = {"starting_date": "2026-11-20", "ending_date": (LATEST + timedelta(days=1)).isoformat()}
        assert api.get(B + path, params=ok).status_code == 200
    latest_only = (
        {"starting_date": LATEST.isoformat()} if path == "/summaries" else {"date": LATEST.isoformat()}
    )
    assert api.get(B + path, params=latest_only).status_code == 200


@pytest.mark.parametrize(
    ("now", "lag", "latest"),
    [
        (datetime(2026, 11, 22, 12, 0, tzinfo=UTC), 3, date(2026, 11, 19)),
        (
            datetime(2026, 11, 22, 9, 59, tzinfo=UTC),
            1,
            date(2026, 11, 20),
        ),  # before the 10:00 UTC aggregation
        (datetime(2026, 11, 22, 10, 0, tzinfo=UTC), 1, date(2026, 11, 21)),
    ],
)
def test_engagement_lag_is_configurable(now, lag, latest):
    with serve_in_thread(_sim(now=now, engagement_lag_days=lag)) as running, client_for(running, ORG) as c:
        r = c.get(B + "/users", params={"date": (latest + timedelta(days=1)).isoformat()})
        assert r.status_code == 400 and latest.isoformat() in r.json()["error"]["message"]
        assert c.get(B + "/users", params={"date": latest.isoformat()}).status_code == 200
        rows = c.get(B + "/summaries", params={"starting_date": "2026-11-10"}).json()["data"]
        assert rows[-1]["starting_at"] == f"{latest}T00:00:00Z"


def test_range_is_limited_to_366_days():
    with (
        serve_in_thread(_sim(now=datetime(2027, 3, 1, 12, tzinfo=UTC))) as running,
        client_for(running, ORG) as c,
    ):
        for path in ("/summaries", "/users", "/skills"):
            r = c.get(B + path, params={"starting_date": "2026-01-01", "ending_date": "2027-01-03"})
            assert r.status_code == 400 and "366" in r.json()["error"]["message"]
            r = c.get(
                B + path, params={"starting_date": "2026-01-01", "ending_date": "2027-01-02", "limit": 1}
            )
            assert r.status_code == 200, r.text


def test_cursor_is_bound_to_its_query(api):
    first = get(api, "/users", date=DAY.isoformat(), limit=5)
    page = first["next_page"]
    assert page
    assert (
        api.get(B + "/users", params={"date": DAY.isoformat(), "limit": 50, "page": page}).status_code == 200
    )
    for changed in (
        {"date": WEEKEND.isoformat()},
        {"date": DAY.isoformat(), "order": "desc"},
        {"date": DAY.isoformat(), "filter[]": "user_id:user_01x"},
    ):
        status, message = error(api, "/users", page=page, limit=5, **changed)
        assert status == 400 and "cursor" in message
    assert error(api, "/skills", date=DAY.isoformat(), page=page)[0] == 400


def test_default_ending_date_is_resolved_once_per_pagination():
    sim = _sim()
    with serve_in_thread(sim) as running, client_for(running, ORG) as c:

        def page(**p):
            r = c.get(B + "/users", params={"starting_date": "2026-11-15", "limit": 40, **p})
            assert r.status_code == 200, r.text
            return r.json()

        first = page()
        sim.clock.set(now=FIXED_NOW + timedelta(days=2))  # two more days become available mid-pagination
        rows, nxt = list(first["data"]), first["next_page"]
        while nxt:
            body = page(page=nxt)
            rows += body["data"]
            nxt = body["next_page"]
        # the pages show the values of the first page's instant (engagement values are revised between days)
        sim.clock.set(now=FIXED_NOW)
        r = c.get(
            B + "/users", params={"starting_date": "2026-11-15", "ending_date": "2026-11-22", "limit": 1000}
        )
        assert rows == r.json()["data"]
        sim.clock.set(now=FIXED_NOW + timedelta(days=2))
        fresh = c.get(B + "/users", params={"starting_date": "2026-11-15", "limit": 1000}).json()["data"]
        assert max(x["last_activity_date"] for x in fresh) == "2026-11-23"


def test_admin_key_is_rejected(server):
    with client_for(server, "acme-console") as console:
        r = console.get(B + "/users", params={"date": DAY.isoformat()})
        assert r.status_code == 403 and r.json()["error"]["type"] == "permission_error"


# -- SDK, determinism, ground truth, performance -------------------------------------------------------------
def test_official_sdk_parses_every_endpoint_strictly(server, monkeypatch):
    for var in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_CUSTOM_HEADERS",
    ):
        monkeypatch.delenv(var, raising=False)
    client = anthropic.Anthropic(
        api_key=server.sim.world.by_slug(ORG).api_key,
        base_url=server.base_url,
        max_retries=0,
        _strict_response_validation=True,
    )
    d = DAY.isoformat()
    for ns in (client.organization.analytics, client.beta.organization.analytics):
        assert (
            len(list(ns.summaries.list(starting_date="2026-11-01"))) == (LATEST - date(2026, 11, 1)).days + 1
        )
        for when in (
            {"date": d},
            {"starting_date": "2026-11-10", "ending_date": "2026-11-17"},
            {"date": "2026-04-01"},
        ):
            n_users = len(list(ns.users.list(limit=25, **when)))
            assert n_users > 0
            assert len(list(ns.users.list(group_by=["rbac_group_id"], **when))) > 0
            assert len(list(ns.apps.chat.projects.list(limit=50, group_by=["user_id"], **when))) > 0
            for res in (ns.skills, ns.connectors, ns.plugins):
                assert len(list(res.list(limit=50, **when))) > 0
                assert (
                    len(list(res.list(limit=50, group_by=["product", "user_id", "rbac_group_id"], **when)))
                    > 0
                )
        assert len(list(ns.artifacts.list(date=d))) > 0
        assert len(list(ns.artifacts.list(date=d, group_by=["product", "user_id"], limit=5))) > 0


def test_two_fresh_simulators_give_identical_bytes():
    requests = [
        ("/summaries", {"starting_date": "2026-10-01"}),
        ("/users", {"date": DAY.isoformat(), "limit": 30}),
        ("/users", {"starting_date": "2026-11-01", "group_by[]": "rbac_group_id"}),
        ("/apps/chat/projects", {"date": DAY.isoformat(), "group_by[]": "user_id", "limit": 5}),
        ("/skills", {"starting_date": "2026-11-01", "ending_date": "2026-11-10"}),
        ("/connectors", {"date": DAY.isoformat(), "group_by[]": "product"}),
        ("/artifacts", {"date": DAY.isoformat()}),
        ("/plugins", {"date": DAY.isoformat(), "order_by": "invocation_count"}),
    ]
    bodies = []
    for _ in range(2):
        with serve_in_thread(_sim()) as running, client_for(running, ORG) as c:
            bodies.append([c.get(B + p, params=q).content for p, q in requests])
    assert bodies[0] == bodies[1]


def test_ground_truth_providers_match_the_api(server, api):
    sim = server.sim
    start, end = date(2026, 11, 12), date(2026, 11, 15)
    days = truth(sim, ORG, "enterprise_summaries", start, end)["days"]
    assert [d["daily_active_user_count"] for d in days] == [
        summary(api, start + timedelta(days=i))["daily_active_user_count"] for i in range(3)
    ]
    activity = truth(sim, ORG, "enterprise_user_activity", start, end)["days"]
    for i, row in enumerate(activity):
        rows, _ = pull(api, "/users", date=(start + timedelta(days=i)).isoformat(), limit=1000)
        assert row["active_user_count"] == len(rows)
        assert row["chat_message_count"] == sum(r["chat_metrics"]["message_count"] for r in rows)
        assert row["claude_code_commit_count"] == sum(
            r["claude_code_metrics"]["core_metrics"]["commit_count"] for r in rows
        )
    check_min_requests(sim, api, start, end)


#: The client's per-day queries (claude_assets/ingest/enterprise_engagement/tables.py, DAILY_ENDPOINTS).
CLIENT_QUERIES = {
    "users": ("/users", ()),
    "projects": ("/apps/chat/projects", ("user_id",)),
    "skills": ("/skills", ("product", "user_id")),
    "connectors": ("/connectors", ("user_id",)),
    "plugins": ("/plugins", ("product", "user_id")),
    "artifacts": ("/artifacts", ("product", "user_id")),
}


def _entity(kind: str, row: dict) -> tuple:
    if kind == "artifacts":
        return (row["artifact_type"], row["is_shared"])
    return (row[SORT_COLUMN[kind]],)


def check_min_requests(sim, api: httpx.Client, start: date, end: date) -> Counter:
    """min_requests_engagement is the pages of the client's own pull: every page of each grouped day."""
    minimum = truth(sim, ORG, "min_requests_engagement", start, end)
    spent, widest = Counter(), Counter()
    body = get(api, "/summaries", starting_date=start.isoformat(), ending_date=end.isoformat(), limit=1000)
    assert len(body["data"]) == (end - start).days and body["next_page"] is None
    spent["summaries"] = 1  # the whole range in one page
    for d in (start + timedelta(days=i) for i in range((end - start).days)):
        for kind, (path, group_by) in CLIENT_QUERIES.items():
            params = {"group_by[]": list(group_by)} if group_by else {}
            rows, n = pull(api, path, date=d.isoformat(), limit=1000, **params)
            if kind != "users":  # one row per distinct (entity[, product], user): what the pages count
                keys = {(_entity(kind, r), r.get("product"), r["user_id"]) for r in rows}
                assert len(keys) == len(rows) and all(r["user_id"] for r in rows), kind
                assert {r.get("product") is not None for r in rows} <= {"product" in group_by}, kind
            spent[kind] += n
            widest[kind] = max(widest[kind], n)
    assert minimum == {**spent, "total": sum(spent.values())}
    return widest


def test_min_requests_counts_every_page_of_the_grouped_days():
    """A medium organization's grouped days run past one page of 1,000 rows (ungrouped ones would not)."""
    start, end = date(2026, 11, 17), date(2026, 11, 19)
    with serve_in_thread(_sim("medium")) as running, client_for(running, ORG) as api:
        widest = check_min_requests(running.sim, api, start, end)
    assert widest["users"] > 1 and widest["connectors"] > 1


def test_min_requests_group_by_mirrors_the_client():
    from claude_assets.ingest.enterprise_engagement.tables import DAILY_ENDPOINTS
    from simulator.generators.engagement.truth import CLIENT_GROUP_BY

    client = {e.path.removeprefix(B): e.group_by for e in DAILY_ENDPOINTS}
    assert client == {path: group_by for path, group_by in CLIENT_QUERIES.values()}
    assert {kind: group_by for kind, (_, group_by) in CLIENT_QUERIES.items()} == CLIENT_GROUP_BY


def test_served_by_the_shared_demo_server(enterprise):
    """The endpoints are registered in the default app (two requests from the shared 60/minute budget)."""
    r = enterprise.get(B + "/summaries", params={"starting_date": LATEST.isoformat()})
    assert r.status_code == 200 and len(r.json()["data"]) == 1
    r = enterprise.get(B + "/users", params={"date": LATEST.isoformat(), "limit": 1})
    assert r.status_code == 200 and len(r.json()["data"]) == 1

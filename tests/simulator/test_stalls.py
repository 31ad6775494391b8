"""A stalled source stops advancing from its stall day with no error, and catches up when resumed."""

from __future__ import annotations

import httpx
import pytest

from simulator.__main__ import build_parser
from simulator.serve import serve_in_thread
from simulator.stalls import parse_stall
from tests.conftest import client_for, make_sim

COST = "/v1/organizations/cost_report"
USAGE = "/v1/organizations/usage_report/messages"
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
SUMMARIES = "/v1/organizations/analytics/summaries"
REPORT = "/v1/organizations/analytics/usage_report"
DAY = 86_400


def newest(server) -> dict:
    """What each source's newest data is, as a client sees it (the simulator's clock is 2026-11-22T12:00Z)."""
    with client_for(server, "acme-console") as c:
        cost = c.get(COST, params={"starting_at": "2026-11-15T00:00:00Z", "limit": 31})
        usage = c.get(USAGE, params={"starting_at": "2026-11-18T00:00:00Z", "bucket_width": "1d"})
        code = c.get(CLAUDE_CODE, params={"starting_at": "2026-11-21", "limit": 1})
    with client_for(server, "acme-enterprise") as e:
        engagement = e.get(SUMMARIES, params={"starting_date": "2026-11-01"})
        report = e.get(REPORT, params={"starting_at": "2026-11-19T00:00:00Z", "limit": 1})
    for r in (cost, usage, code, engagement, report):
        assert r.status_code == 200, r.text  # a stall is never an error
    return {
        "console_cost": cost.json()["data"][-1]["starting_at"][:10] if cost.json()["data"] else None,
        "console_usage": usage.json()["data"][-1]["starting_at"][:10],
        "claude_code_rows": len(code.json()["data"]),
        "engagement": max(r["starting_at"][:10] for r in engagement.json()["data"]),
        "data_refreshed_at": report.json()["data_refreshed_at"],
    }


def post(server, **body) -> httpx.Response:
    return httpx.post(f"{server.base_url}/_simulator/stalls", json=body)


def test_a_stalled_source_stops_advancing_without_error_and_resumes():
    with serve_in_thread(make_sim()) as server:
        live = newest(server)
        assert (
            live
            == {
                "console_cost": "2026-11-21",
                "console_usage": "2026-11-22",
                "claude_code_rows": live["claude_code_rows"],
                "engagement": "2026-11-21",
                "data_refreshed_at": "2026-11-22T12:00:00Z",
            }
            and live["claude_code_rows"] == 1
        )
        for source, org in (
            ("console_cost", "acme-console"),
            ("console_usage", "acme-console"),
            ("claude_code", "acme-console"),
            ("engagement", "acme-enterprise"),
            ("enterprise_reports", "acme-enterprise"),
        ):
            assert post(server, source=source, org=org, **{"from": "2026-11-20"}).status_code == 200
        httpx.post(f"{server.base_url}/_simulator/clock", json={"advance_seconds": 3 * DAY})
        assert newest(server) == {
            "console_cost": "2026-11-19",  # the last day completed by 00:00 on the stall day
            "console_usage": "2026-11-19",
            "claude_code_rows": 0,  # 2026-11-21 never appears
            "engagement": "2026-11-18",
            "data_refreshed_at": "2026-11-20T00:00:00Z",
        }
        listed = httpx.get(f"{server.base_url}/_simulator/stalls").json()["stalls"]
        assert {(s["source"], s["org"], s["from"]) for s in listed} >= {
            ("console_cost", "acme-console", "2026-11-20")
        }
        for s in listed:
            assert post(server, source=s["source"], org=s["org"], **{"from": None}).status_code == 200
        assert newest(server)["console_cost"] == "2026-11-24"
        assert newest(server)["data_refreshed_at"] == "2026-11-25T12:00:00Z"


def test_a_stall_of_one_organization_leaves_the_others_advancing():
    with serve_in_thread(make_sim()) as server:
        post(server, source="console_cost", org="globex-console", **{"from": "2026-11-10"})
        assert newest(server)["console_cost"] == "2026-11-21"


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"source": "cost", "org": "acme-console", "from": "2026-11-20"}, "unknown source 'cost'"),
        ({"source": "console_cost", "org": "nobody", "from": "2026-11-20"}, "unknown organization 'nobody'"),
        ({"source": "console_cost", "org": "acme-console", "from": "20 Nov"}, "20 Nov"),
        ({"org": "acme-console"}, "expected"),
    ],
)
def test_the_stall_route_refuses_an_unknown_source_organization_or_day(demo_server, body, needle):
    resp = post(demo_server, **body)
    assert resp.status_code == 400 and needle in resp.json()["error"]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "text", ["console_cost:acme-console", "nope:acme-console:2026-11-20", "console_cost:a:x"]
)
def test_the_stall_option_refuses_a_malformed_value(text):
    with pytest.raises(ValueError, match=r"--stall|unknown source"):
        parse_stall(text)


def test_the_stall_option_parses_and_repeats():
    args = build_parser().parse_args(
        [
            "--stall",
            "console_cost:acme-console:2026-11-20",
            "--stall",
            "engagement:acme-enterprise:2026-11-18",
        ]
    )
    assert [parse_stall(t) for t in args.stall][1][0] == "engagement"

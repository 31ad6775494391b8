"""``make demo``: start the demo simulator on loopback and show what its organizations hold.

Until the ingest assets land, the demo reads the simulator directly over HTTP, exactly as the
project's clients will: it needs no key and no network beyond loopback.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from rich.console import Console
from rich.table import Table

from simulator.app import Simulator
from simulator.clock import SimClock
from simulator.serve import serve_in_thread
from simulator.world import World


def _summarize(base_url: str, sim: Simulator, out: Console) -> None:
    today = sim.now().astimezone(UTC).date()
    week_ago = today - timedelta(days=7)
    table = Table(title=f"Demo organizations (simulated; clock {sim.now():%Y-%m-%d %H:%M} UTC)")
    for col in ("organization", "kind", "API id", "members", "last 7 days"):
        table.add_column(col)
    for org in sim.world.organizations:
        with httpx.Client(base_url=base_url, headers={"x-api-key": org.api_key,
                                                      "anthropic-version": "2023-06-01"}, timeout=30) as c:
            if org.kind == "console":
                me = c.get("/v1/organizations/me").json()
                members = len(c.get("/v1/organizations/users", params={"limit": 1000}).json()["data"])
                cost = c.get("/v1/organizations/cost_report",
                             params={"starting_at": f"{week_ago}T00:00:00Z", "ending_at": f"{today}T00:00:00Z"}).json()
                cents = sum(Decimal(r["amount"]) for b in cost["data"] for r in b["results"])
                table.add_row(me["name"], "Console", me["id"], str(members), f"${cents / 100:,.2f} billed")
            else:
                resp = c.get("/v1/organizations/analytics/summaries",
                             params={"starting_date": str(today - timedelta(days=3)),
                                     "ending_date": str(today - timedelta(days=1))})
                if resp.status_code == 200 and resp.json().get("data"):
                    day = resp.json()["data"][-1]
                    table.add_row(org.name, "Enterprise", org.analytics_id, str(day.get("assigned_seat_count")),
                                  f"{day['daily_active_user_count']} daily active users")
                else:
                    table.add_row(org.name, "Enterprise", org.analytics_id, "-", "engagement not served yet")
    out.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claude_assets.demo", description=__doc__)
    parser.add_argument("--serve", action="store_true", help="keep the simulator running until Ctrl-C")
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    args = parser.parse_args(argv)
    out = Console()
    started = time.monotonic()
    sim = Simulator(World.build("demo"), SimClock(datetime.now(UTC)))
    with serve_in_thread(sim, port=args.port) as running:
        out.print(f"Demo simulator on {running.base_url} (started in {time.monotonic() - started:.2f}s)")
        _summarize(running.base_url, sim, out)
        out.print("Run [bold]make simulator[/bold] to keep a simulator running, [bold]make test[/bold] to run the suite.")
        if args.serve:
            out.print("Serving; press Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: how fast the simulator starts and serves pages, for a world profile.

    .venv/bin/python -m bench.simulator_latency --world large

Starts ``python -m simulator`` as a separate process (as a user would), times its start until the
health route answers, then times 1,000-row pages of the largest list endpoints, cold and warm.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time

import httpx

NOW = "2026-11-22T12:00:00Z"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(
    client: httpx.Client, path: str, params: dict, headers: dict | None = None
) -> tuple[float, httpx.Response]:
    t = time.perf_counter()
    resp = client.get(path, params=params, headers=headers)
    return (time.perf_counter() - t) * 1000, resp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", default="large")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args(argv)
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--world",
            args.world,
            "--port",
            str(port),
            "--now",
            NOW,
            "--rate-limit",
            "console=100000,enterprise=100000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if httpx.get(f"{base}/_simulator/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() - t0 > 60:
                print("simulator did not start within 60 s")
                return 1
            time.sleep(0.02)
        startup = time.perf_counter() - t0
        orgs = {o["kind"]: o for o in httpx.get(f"{base}/_simulator/world").json()["organizations"]}
        print(f"world={args.world}  startup (process start -> health answers): {startup:.2f} s")
        cases = [
            ("console", "/v1/organizations/users", {"limit": 1000}, None),
            (
                "console",
                "/v1/organizations/usage_report/claude_code",
                {"starting_at": "2026-11-16", "limit": 1000},
                None,
            ),
            ("console", "/v1/organizations/api_keys", {"limit": 1000}, None),
            ("enterprise", "/v1/organizations/analytics/users", {"date": "2026-11-16", "limit": 1000}, None),
            (
                "enterprise",
                "/v1/organizations/analytics/user_usage_report",
                {"starting_at": "2026-11-16T00:00:00Z", "ending_at": "2026-11-17T00:00:00Z", "limit": 1000},
                None,
            ),
            (
                "enterprise",
                "/v1/organizations/analytics/user_cost_report",
                {"starting_at": "2026-11-16T00:00:00Z", "ending_at": "2026-11-17T00:00:00Z", "limit": 1000},
                None,
            ),
        ]
        print(f"{'endpoint':58} {'rows':>5} {'cold ms':>8} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
        for kind, path, params, headers in cases:
            if kind not in orgs:
                continue
            with httpx.Client(base_url=base, headers={"x-api-key": orgs[kind]["api_key"]}, timeout=60) as c:
                cold, resp = timed(c, path, params, headers)
                if resp.status_code != 200:
                    print(f"{path:58} HTTP {resp.status_code}: {resp.text[:80]}")
                    continue
                rows = len(resp.json().get("data", []))
                warm = sorted(timed(c, path, params, headers)[0] for _ in range(args.repeat))
                p95 = warm[min(len(warm) - 1, int(0.95 * len(warm)))]
                print(
                    f"{path:58} {rows:>5} {cold:>8.1f} {statistics.median(warm):>7.1f} {p95:>7.1f} {warm[-1]:>7.1f}"
                )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

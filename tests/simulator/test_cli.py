"""``python -m simulator`` as a user runs it: a real process on a loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_serves_the_world_it_prints():
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--world",
            "small",
            "--port",
            str(port),
            "--now",
            "2026-06-01T08:00:00Z",
            "--faults",
            "500=0",
            "--shapes",
            "docs",
            "--strict-params",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/_simulator/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "simulator did not start"
                time.sleep(0.05)
        assert health.json() == {"status": "ok", "world": "small", "now": "2026-06-01T08:00:00Z"}
        orgs = httpx.get(f"http://127.0.0.1:{port}/_simulator/world").json()["organizations"]
        assert [o["slug"] for o in orgs] == ["acme-console", "acme-enterprise"]
        key = orgs[0]["api_key"]
        me = httpx.get(f"http://127.0.0.1:{port}/v1/organizations/me", headers={"x-api-key": key})
        assert me.status_code == 200 and me.json()["name"] == "Acme Corp"
        config = httpx.get(f"http://127.0.0.1:{port}/_simulator/config").json()
        assert config == {"shapes": "docs", "strict_params": True}
        typo = httpx.get(
            f"http://127.0.0.1:{port}/v1/organizations/users", params={"limt": 5}, headers={"x-api-key": key}
        )
        assert typo.status_code == 400 and "limt" in typo.json()["error"]["message"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert key in out and orgs[1]["api_key"] in out  # the keys are printed at start


def test_cli_rejects_bad_arguments():
    bad_faults = subprocess.run(
        [sys.executable, "-m", "simulator", "--faults", "teapot=1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad_faults.returncode == 2 and "unknown fault 'teapot'" in bad_faults.stderr
    bad_world = subprocess.run(
        [sys.executable, "-m", "simulator", "--world", "huge"], capture_output=True, text=True, timeout=30
    )
    assert bad_world.returncode == 2 and "invalid choice" in bad_world.stderr
    bad_limit = subprocess.run(
        [sys.executable, "-m", "simulator", "--rate-limit", "console=0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad_limit.returncode == 2 and "--rate-limit" in bad_limit.stderr
    bad_shapes = subprocess.run(
        [sys.executable, "-m", "simulator", "--shapes", "openapi"], capture_output=True, text=True, timeout=30
    )
    assert bad_shapes.returncode == 2 and "invalid choice" in bad_shapes.stderr

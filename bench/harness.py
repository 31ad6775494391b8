"""A benchmark's simulator process: started on a free loopback port, asked for its ground truth."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import date

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(
    world: str, seed: int, now: str, port: int, rate_limit: str | None = None
) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "simulator", "--world", world, "--seed", str(seed), "--port", str(port)]
    cmd += ["--now", now, *(["--rate-limit", rate_limit] if rate_limit else [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the simulator exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/_simulator/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.terminate()
    raise SystemExit("the simulator did not start within 60 s")


def mb(kilobytes: int) -> str:
    return f"{kilobytes / 1024:,.0f} MB"


def get_truth(base: str, slug: str, kind: str, start: date, end: date) -> dict:
    response = httpx.get(
        f"{base}/_simulator/truth",
        timeout=1800,
        params={"org": slug, "kind": kind, "start": str(start), "end": str(end)},
    )
    body = response.json()
    if response.status_code != 200:
        raise SystemExit(f"simulator truth {kind} for {slug}: {body.get('error', body)}")
    return body

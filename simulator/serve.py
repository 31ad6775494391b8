"""Run the simulator: in a background thread (tests, benchmarks, the demo) or in the foreground."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn

from simulator.app import Simulator, create_app

LOOPBACK = "127.0.0.1"


@dataclass
class Running:
    sim: Simulator
    base_url: str
    port: int


def _config(sim: Simulator, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(sim),
        host=LOOPBACK,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        date_header=False,
    )


@contextlib.contextmanager
def serve_in_thread(sim: Simulator, port: int = 0, log_level: str = "warning") -> Iterator[Running]:
    """Serve ``sim`` on loopback in a daemon thread; ``port=0`` picks a free port."""
    server = uvicorn.Server(_config(sim, port, log_level))
    thread = threading.Thread(target=server.run, name="simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the simulator did not start on {LOOPBACK}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Running(sim, f"http://{LOOPBACK}:{bound}", bound)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serve_forever(sim: Simulator, port: int) -> None:
    uvicorn.Server(_config(sim, port, "info")).run()

"""``make ui``: the Dagster webserver and daemon (``dg dev``) on the demo's warehouse and runs.

Starts the demo simulator (``python -m simulator --world demo``, real-time clock) on loopback, then
``dg dev`` (Dagster 1.13 marks ``dagster dev`` superseded by it; both run the same server) on 127.0.0.1 with the
demo configuration of ``demo.settings``: the same ``data/demo.yaml``, warehouse, ``.dagster_home`` and
``workspace.yaml`` as ``make demo``, the simulated keys in the environment only. Runs re-executed from the
UI (the demo's backfills included) read this simulator: ``ANTHROPIC_BASE_URL`` is set here. Stopping Dagster
(Ctrl-C) stops the simulator.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from demo import settings as demo_config


def wait_for_simulator(proc: subprocess.Popen, base_url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"the simulator exited with code {proc.returncode}; is {base_url} already in use? "
                "Stop whatever listens there, or pick another port with --simulator-port."
            )
        try:
            if httpx.get(f"{base_url}/_simulator/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the simulator did not answer on {base_url} within {timeout:.0f} s")


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 30.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for_dagster(dagster: subprocess.Popen, grace: float = 150.0) -> int:
    """Wait for ``dg dev`` to exit. Ctrl-C reaches it directly (same terminal); SIGTERM on this
    launcher is passed on as SIGINT, which ``dg dev`` answers by stopping its webserver and daemon."""
    stopping: list[float] = []

    def on_term(*_) -> None:
        if dagster.poll() is None:
            dagster.send_signal(signal.SIGINT)
        stopping.append(time.monotonic())

    signal.signal(signal.SIGTERM, on_term)
    while True:
        try:
            return dagster.wait(timeout=1)
        except subprocess.TimeoutExpired:
            if stopping and time.monotonic() - stopping[0] > grace:
                dagster.kill()
        except KeyboardInterrupt:
            stopping.append(time.monotonic())


def dg_command() -> str:
    """The ``dg`` of this environment (package ``dagster-dg-cli``, a dependency of the project)."""
    dg = Path(sys.executable).with_name("dg")
    if not dg.exists():
        raise SystemExit(
            f"{dg} is not installed: run `make ui`, which installs the project's dependencies "
            "(dagster-dg-cli among them), or `pip install -e .` in this environment."
        )
    return str(dg)


def main(argv: list[str] | None = None) -> int:
    parser = demo_config.command_line("python -m demo.ui", __doc__)
    parser.add_argument(
        "--simulator-port",
        type=int,
        default=demo_config.UI_SIMULATOR_PORT,
        help=f"loopback port of the demo simulator (default {demo_config.UI_SIMULATOR_PORT})",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=demo_config.UI_PORT,
        help=f"port of the Dagster webserver (default {demo_config.UI_PORT})",
    )
    args = parser.parse_args(argv)
    # started in the background by a non-interactive shell, SIGINT arrives ignored, and dg dev (which maps
    # SIGTERM to its SIGINT handler) could then not be stopped: give the children the default handler
    signal.signal(signal.SIGINT, signal.default_int_handler)

    base_url = demo_config.simulator_url(args.simulator_port)
    _, config, demo_env = demo_config.prepare(base_url)
    # the simulator needs none of the keys; Dagster gets them in its environment only
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--world",
            demo_config.WORLD,
            "--seed",
            str(demo_config.SEED),
            "--port",
            str(args.simulator_port),
            "--rate-limit",
            demo_config.rate_limit_flag(),
        ],
        cwd=demo_config.ROOT,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_simulator(sim, base_url)
        print(
            f"Demo simulator on {base_url}; organizations: {', '.join(o.slug for o in config.organizations)}",
            flush=True,
        )
        if not demo_config.WAREHOUSE.exists():
            print(
                "The warehouse is empty: run `make demo` to backfill the last 90 days, or launch a backfill "
                "from the UI.",
                flush=True,
            )
        print(
            f"Dagster UI on http://127.0.0.1:{args.port} (Ctrl-C stops Dagster and the simulator); the lineage "
            f"with every group open: {demo_config.lineage_url(args.port)}",
            flush=True,
        )
        dagster = subprocess.Popen(
            [
                dg_command(),
                "dev",
                "-w",  # a workspace file: dg dev loads it as dagster dev did, with no dg project layout needed
                str(demo_config.ROOT / "workspace.yaml"),
                "--host",
                "127.0.0.1",
                "--port",
                str(args.port),
                "--log-level",  # the webserver's and daemon's own logs; runs log at INFO (dagster.yaml)
                "info",
            ],
            cwd=demo_config.ROOT,
            env={**os.environ, **demo_env},
        )
        return wait_for_dagster(dagster)
    finally:
        stop(sim)


if __name__ == "__main__":
    raise SystemExit(main())

"""Every endpoint the simulator serves, by API family."""

from __future__ import annotations


def all_endpoints():
    from simulator.routes import console, engagement, reports

    return [*console.ENDPOINTS, *engagement.ENDPOINTS, *reports.ENDPOINTS]

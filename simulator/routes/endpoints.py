"""Every endpoint the simulator serves, by API family."""

from __future__ import annotations

from simulator.routes import console, inventory
from simulator.routes.engagement import endpoints as engagement
from simulator.routes.reports import endpoints as reports


def all_endpoints():
    return [*console.ENDPOINTS, *inventory.ENDPOINTS, *engagement.ENDPOINTS, *reports.ENDPOINTS]

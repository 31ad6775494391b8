"""Every Enterprise usage and cost report route."""

from __future__ import annotations

from simulator.routes.context import Endpoint
from simulator.routes.reports.beta import cost, usage
from simulator.routes.reports.bucketed import cost_report, usage_report
from simulator.routes.reports.params import BASE
from simulator.routes.reports.per_user import user_cost_report, user_usage_report

ENDPOINTS: list[Endpoint] = [
    Endpoint(f"{BASE}/usage_report", usage_report, keys=("analytics",)),
    Endpoint(f"{BASE}/cost_report", cost_report, keys=("analytics",)),
    Endpoint(f"{BASE}/user_usage_report", user_usage_report, keys=("analytics",)),
    Endpoint(f"{BASE}/user_cost_report", user_cost_report, keys=("analytics",)),
    Endpoint(f"{BASE}/usage", usage, keys=("analytics", "admin")),
    Endpoint(f"{BASE}/cost", cost, keys=("analytics", "admin")),
]

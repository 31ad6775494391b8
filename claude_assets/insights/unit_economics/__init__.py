"""Unit economics (``insights.unit_economics_daily`` and ``insights.unit_economics_monthly``): what an
active user, a seat and a unit of Claude Code work cost, per organization and product, on settled days."""

"""Claude Enterprise usage and cost reports (api-reference B8-B12).

* ``GET /v1/organizations/analytics/usage_report`` and ``/cost_report``: time buckets (``1d``/``1h``/``1m``),
  oldest first including empty ones, ``limit`` buckets per page, each with its top 100 groups.
* ``GET /v1/organizations/analytics/user_usage_report`` and ``/user_cost_report``: ranked per-user rows
  (seat users only), ``limit`` rows per page; ``cost_type``/``token_type`` fan-out rows do not count.
* ``GET /v1/organizations/analytics/usage`` and ``/cost`` (beta ``analytics-usage-cost-2026-08-24``):
  ``{starting_at, ending_at, group, usage|cost}`` rows, every combination returned across pages.

All share the report cursor envelope (``data``, ``has_more``, ``next_page``, ``data_refreshed_at``,
``organization_id``). Cursors are bound to the query (400) and to the data refresh (410).
"""

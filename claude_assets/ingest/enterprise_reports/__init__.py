"""Raw Claude Enterprise usage and cost (group ``enterprise``, schema ``raw``).

Six tables, partitioned by UTC day x Enterprise organization (the two analytics tables: x every
organization), each row an exact copy of what the API said, plus ``data_refreshed_at`` (the API's export watermark: rows of days
after it, or inside the 30-day revision window, are provisional):

- ``raw.enterprise_usage`` / ``raw.enterprise_cost`` (``/analytics/usage_report`` and ``/cost_report``):
  daily buckets under several *groupings* (column ``grouping``): ``total`` (ungrouped),
  ``product_model`` (product, model, context window, inference geo, speed), ``claude_tag`` (Slack
  channel, Claude Tag category and Slack user), ``rbac_group`` (RBAC group and product; groups
  overlap) and, for cost, ``token_type`` (model, cost type, token type). The API returns only the
  top 100 groups of a bucket with no remainder row, so a bucket that comes back with 100 results
  is never kept: its day is asked again per ``inference_geos[]`` (global, us, not_available: a
  partition of every row), and a slice still at 100 again with hourly buckets (``split_filter``
  and ``starting_at``/``ending_at`` say which). Every kept bucket has fewer than 100 results, so
  nothing was cut; the blocking check ``grouped_equals_total`` proves it per day and grouping.
- ``raw.enterprise_user_usage`` / ``raw.enterprise_user_cost`` (``/user_usage_report``,
  ``/user_cost_report``): per seat user, day, product and model (``bucket_width=1d`` over 31-day
  windows, 1,000 rows a page). Deleted users are kept (``user_deleted``, no email).
- ``raw.analytics_usage`` / ``raw.analytics_cost`` (group ``analytics``: the Usage and Cost Analytics API,
  ``/analytics/usage`` and ``/cost``, beta) for every organization with ``analytics_api`` (the default),
  Console (Admin key) and Enterprise (Analytics key) alike, so their partitions span both kinds: per day
  under groupings (column ``grouping``) that together ask each of its 20 dimensions, at most five a request
  (``groupings.ANALYTICS_GROUPINGS``); every combination comes back across pages. An organization the API
  refuses (400 ``organization_not_eligible``: HIPAA readiness) is skipped with the API's reason.

Requests never reach before 2026-01-01 or beyond the 365-day lookback: such days are skipped and
the materialization says so. The groupings of one bucketed report must all be read under the same
``data_refreshed_at`` (else that report's window is pulled again), so they can be compared exactly.
"""

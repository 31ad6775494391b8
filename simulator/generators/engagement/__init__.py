"""Deterministic engagement data behind the Enterprise Analytics engagement endpoints (B1-B7).

Everything is derived from the shared :class:`~simulator.activity.ActivityPlan`: only users the plan
marks active on a day have activity that day, and only on the surfaces the plan gives them (a user
with Claude Code activity here is a user with Claude Code tokens in the usage/cost reports).

Per day the generator produces

* one row of per-user metrics per active user (the ``/analytics/users`` record, flattened into
  numpy columns keyed by dotted path, e.g. ``chat_metrics.message_count``), and
* per-user *events* for projects, skills, connectors, plugins and artifacts (one row per user x
  entity x product x Office app), so that every grouped, filtered or date-range rollup view is an
  exact aggregation of the same events: distinct user counts are recomputed over the window,
  never summed.

The per-user metrics are computed from the same events (e.g. ``cowork_metrics.skills_used_count`` is
the user's Cowork skill invocations in ``/skills``), so totals agree across endpoints.
"""

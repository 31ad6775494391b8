"""Raw Enterprise engagement tables (group ``enterprise``, schema ``raw``): summaries and per-user activity.

One asset per engagement endpoint of the Enterprise Analytics API (reference B1-B7), partitioned by UTC
day x Enterprise organization, each run as one backfill. The request shapes:

- ``/summaries``: one request per run window of up to 366 days (``starting_date``/``ending_date``).
- ``/users``, ``/apps/chat/projects``, ``/skills``, ``/connectors``, ``/plugins``, ``/artifacts``: the
  single-day ``date`` mode (the date-range rollup mode merges days and may approximate distinct counts),
  ``limit=1000``, one query per day, days fetched concurrently under the organization's shared limiter.
  The entity endpoints are grouped by ``user_id`` (and ``product`` where it loses nothing), the finest
  grain the API offers: each event belongs to exactly one user and one product, so the rows partition the
  organization's activity and sum to its totals without double counting (unlike ``rbac_group_id``, which
  is not an exclusive partition and is never requested).

Days before 2026-01-01 (the API's floor) are skipped without a request; a day newer than the latest the
API serves fails the run before anything is fetched, naming that day. The latest day is learned from one
``/summaries`` request without ``ending_date``, whose default is "the most recent available day + 1"
(reference B1): a documented contract, unlike the wording of the 400 error message.

Every wire field is a column (nested blocks flattened, e.g. ``claude_code_metrics.core_metrics.commit_count``
-> ``claude_code_commit_count``); zeros stay zeros and nulls stay nulls; fields without a column are kept
in ``extra`` (JSON, keyed by dotted path). Cents become exact ``*_usd`` decimals.
"""

"""Enterprise token usage and cost: the deterministic records behind the analytics usage/cost reports.

One organization-day is a set of *fine records*, generated once with numpy and cached:

* seat-user sessions, derived from the shared :class:`~simulator.activity.ActivityPlan` (a user active
  on Claude Code that day has Claude Code sessions), one record per session, on one model, at one
  minute of the day;
* usage no seat user is accountable for, which the org-level reports show and the per-user reports
  leave out: Claude Tag (Claude in Slack) channel usage (``slack_channel_id``, spend category, Slack
  user), Claude Tag direct messages of members who never connected a Claude account, Code Review
  sessions (product ``claude_code`` with no user), unattributed usage (product ``other``) and
  code-execution spans (product null, cost type ``code_execution``; ``requests`` counts spans).
  Claude Tag direct messages of *connected* members are attributed to the member.

Money is integer micro-cents (1e-6 US cents), computed once per record and cost component (the five
token types, web search, code execution): ``list`` = tokens x list price rounded half-up, and
``amount`` = ``list`` x (1 - the organization's discount) rounded half-up. Every report sums these
integers, so totals agree exactly across groupings, buckets and endpoints.

The beta ``/analytics/usage`` and ``/analytics/cost`` also accept an Admin key: :class:`ConsoleReports`
serves a Console organization's own API usage there, read from ``simulator.generators.console`` and billed
exactly as the Console cost report bills it.

Freshness: a record has a timestamp and an *arrival* time. A refresh at ``data_refreshed_at`` shows
the records that happened and arrived before it, so the current day is partial and a few late
records keep filling in recent days (revisions that converge to the final value). Once a day is
``revision_days`` old at the refresh, everything of it is shown and it never changes again.
"""

"""Inventory snapshots kept as history (schema ``inventory``): who and what existed, and when.

A Console organization's inventory through the Admin API (group ``inventory``): ``tables`` declares
the six history tables, ``fetch`` reads and parses one organization's snapshot, ``snapshot`` applies
it, ``assets`` holds the Dagster definitions.

One run per organization (the partition) reads the organization, its workspaces (archived and the
default one included), members, invites (every status), the members of every workspace that is not
archived, and its API keys (every status), then applies the whole snapshot to six SCD type 2 tables
in one DuckDB transaction:

- the snapshot's time ``T`` is the API's own clock (the ``Date`` header of its answers);
- an entity seen for the first time opens a version at its own creation instant (``added_at``,
  ``created_at``, ``invited_at``) when that is earlier than ``T``, else at ``T``: a user or key
  deleted later keeps its name and owner on the days it existed, although what it looked like before
  the first snapshot is not known (the first version carries the attributes first seen);
- an entity whose tracked attributes (``row_hash``) changed: the open version closes at ``T`` and a
  new one opens at ``T``;
- an entity no longer listed (deleted, removed, or a membership of a workspace archived since) closes
  at ``T``; an unchanged entity is left alone, so re-running a snapshot changes nothing.

Point-in-time lookups for a daily table (UTC day ``usage_date``)::

    JOIN inventory.users u ON u.org_id = f.org_id AND u.user_id = f.account_id
     AND u.valid_from < (f.usage_date + INTERVAL 1 DAY)::TIMESTAMP AT TIME ZONE 'UTC'       -- day_end
     AND (u.valid_to IS NULL OR u.valid_to > f.usage_date::TIMESTAMP AT TIME ZONE 'UTC')  -- day_start

An entity that changed during the day matches each version it had that day: keep the latest with
``QUALIFY row_number() OVER (PARTITION BY f.<row key>, u.user_id ORDER BY u.valid_from DESC) = 1``.
"""

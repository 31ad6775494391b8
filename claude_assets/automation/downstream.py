"""Declarative automation of the layers built from the raw days: the facts and the exports rebuild a day
by themselves when a raw day they read changes, once the raw day's blocking checks have passed.

A raw partition is a (day, organization); a facts or export partition is a day. Dagster maps the one to
the other through the assets' own dependencies (``MultiToSingleDimensionPartitionMapping`` on the day), so
a new pull of ``2026-03-01|acme-console`` requests ``2026-03-01`` of the facts that read it, and of the
exports after them, and nothing else. The condition is ``AutomationCondition.eager()`` with two changes:

- it looks back over the sources' revision window (``LOOKBACK``) instead of the latest day only, because
  the cost reports revise a day for up to 30 days and each re-pull must reach the facts;
- it waits until every blocking check of the upstream partitions has passed
  (``all_deps_blocking_checks_passed``): a raw day whose window check failed is not built on.

Like ``eager()``, it never requests a day merely because it is missing from before the condition was
first evaluated (``since_last_handled`` is reset on the first evaluation): on a fresh warehouse nothing
is requested until raw days arrive, and a backfill of old raw days outside ``LOOKBACK`` is built by the
backfill itself (select the facts with it), not by automation. Requests of one tick for several days are
emitted as one backfill, which the assets' single-run backfill policy makes one run.

The sensor ``downstream_automation`` evaluates the conditions; it runs by default. A later layer that must
see settled days only (insights) wraps its condition in ``settled_days_only``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

from claude_assets.inventory.tables import ORGANIZATION, WORKSPACES_TABLE

SENSOR_NAME = "downstream_automation"
#: the groups whose daily tables follow their upstream days (a later layer that should too joins here)
DOWNSTREAM_GROUPS = ("facts", "exports", "insights")
#: Enterprise cost and usage values are revised up to 30 days (api-reference.md): a re-pull that old must
#: still reach the facts; a few days more cover a source that settles late
LOOKBACK = timedelta(days=35)
#: how long a source may still revise a day (the Enterprise reports: 30 days); older days are settled
REVISION_WINDOW = timedelta(days=30)
#: the organization's names read by the exports as they stand (snapshots, not days): a new snapshot does
#: not rebuild every exported day, and a missing one does not hold the exports back
NAMES_ONLY = dg.AssetSelection.assets(ORGANIZATION.asset_key, WORKSPACES_TABLE.asset_key)


def when_upstream_days_change(
    lookback: timedelta = LOOKBACK, ignore: dg.AssetSelection | None = None
) -> dg.AutomationCondition:
    """A day is requested when a day it reads was updated with its blocking checks passing (or the day is
    new), within ``lookback``, once nothing it reads is missing or running and the blocking checks of what
    it reads pass. Dependencies in ``ignore`` neither trigger nor hold it."""
    ac = dg.AutomationCondition

    def deps(condition: dg.AutomationCondition) -> dg.AutomationCondition:
        return condition.ignore(ignore) if ignore is not None else condition

    # an update counts only if the run that made it passed the blocking checks: the project's checks cover
    # a run's window (they are not partitioned), so the check result beside the update is that day's
    updated_and_passed = (
        ac.newly_updated()
        & ~ac.executed_with_root_target()
        & ac.all_checks_match(ac.check_passed(), blocking_only=True)
    ).with_label("newly_updated_with_blocking_checks_passed")
    deps_updated = deps(ac.any_deps_match(updated_and_passed | ac.will_be_requested())).with_label(
        "any_deps_updated_and_checked"
    )
    # a day one of whose inputs was just updated with a failing blocking check waits for the next good pull
    updated_and_failed = deps(
        ac.any_deps_match(ac.newly_updated() & ac.any_checks_match(ac.check_failed(), blocking_only=True))
    ).with_label("any_deps_updated_with_blocking_check_failed")
    handled = ac.newly_requested() | ac.newly_updated() | ac.initial_evaluation()
    return (
        ac.in_latest_time_window(lookback)
        & (ac.newly_missing() | deps_updated).since(handled | updated_and_failed)
        & ~deps(ac.any_deps_missing())
        & ~deps(ac.any_deps_in_progress())
        & ~ac.in_progress()
        & deps(ac.all_deps_blocking_checks_passed())
    ).with_label("when_upstream_days_change")


def when_missing() -> dg.AutomationCondition:
    """An unpartitioned table with no upstream (the price book): built once when missing, not again after a
    failed attempt (a malformed override file is fixed and materialized by hand)."""
    ac = dg.AutomationCondition
    return (ac.missing() & ~ac.in_progress() & ~ac.execution_failed()).with_label("when_missing")


def settled_days_only(
    condition: dg.AutomationCondition, revision_window: timedelta = REVISION_WINDOW
) -> dg.AutomationCondition:
    """The hook for a layer that must see settled days only (insights): ``condition`` restricted to days
    older than the sources' revision window, the days no source revises any more.

    A day is requested when it leaves the window (once what it reads is there, checked and not running);
    a change upstream while the day was still revisable waits until then, one after it is built at once.
    Use ``settled_days_only(when_upstream_days_change(LOOKBACK + REVISION_WINDOW))``. Settled here is the
    documented revision window, by the calendar; a layer that needs the per-day record of each pull
    (``raw.ingest_log``) replaces ``settled`` with a condition reading it.
    """
    ac = dg.AutomationCondition
    settled = ~ac.in_latest_time_window(revision_window)
    # since_last_handled is reset on the first evaluation: the history already settled is not requested
    entering = (
        settled.newly_true().since_last_handled()
        & ~ac.any_deps_missing()
        & ~ac.any_deps_in_progress()
        & ~ac.in_progress()
        & ac.all_deps_blocking_checks_passed()
    )
    return (settled & (condition | entering)).with_label("settled_days_only")


def with_downstream_automation(assets: Sequence[object]) -> list[object]:
    """``assets`` with the automation conditions of the downstream groups set: daily tables follow their
    upstream days, unpartitioned ones are built when missing. Other assets are returned as they are."""

    def condition(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.group_name not in DOWNSTREAM_GROUPS:
            return spec
        if spec.partitions_def is None:
            chosen = when_missing()
        else:
            chosen = when_upstream_days_change(ignore=NAMES_ONLY if spec.group_name == "exports" else None)
        return spec.replace_attributes(automation_condition=chosen)

    return [
        dg.map_asset_specs(condition, [a])[0] if isinstance(a, dg.AssetsDefinition) else a for a in assets
    ]


def downstream_automation_sensor(
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.AutomationConditionSensorDefinition:
    """Evaluates the conditions of the downstream groups every 30 seconds; on by default, so the facts,
    exports and insights follow the raw days as soon as ``make ui`` starts."""
    return dg.AutomationConditionSensorDefinition(
        SENSOR_NAME,
        target=dg.AssetSelection.groups(*DOWNSTREAM_GROUPS),
        default_status=default_status,
        minimum_interval_seconds=30,
        description="Rebuilds the facts, exports and insights days whose upstream days changed (within the "
        "revision window), once the upstream days' blocking checks have passed; the insights judge settled "
        "days only (raw.ingest_log), and the alerts follow the anomalies and budget status they post.",
    )

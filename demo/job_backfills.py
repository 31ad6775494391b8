"""The named jobs' backfills, recorded in the Dagster instance and executed in this process.

``make demo`` runs each named job of the code location (``claude_assets.jobs``) over its range as a
Dagster *asset backfill* of the job's assets: the record the UI creates when a range is materialized,
listed in the UI's Backfills tab (titled with the job's name) and re-executable from there, run by run or
as a whole. Each backfill is advanced by the backfill daemon's own iteration function
(``execute_asset_backfill_iteration``), here in this process, and the runs it launches are executed in this
process too, one after the other (``InProcessRunLauncher``), so the demo needs no daemon and no subprocess
per run.

The runs belong to the code location ``make ui`` loads (the same ``workspace.yaml``, so the same location
name and jobs), which is what lets the UI re-execute them. Nothing of the demo's simulator is recorded
with a run: a run re-executed from the UI reads ``ANTHROPIC_BASE_URL`` and the keys from the environment
of ``make ui``, whose simulator serves the same world.

Why asset backfills rather than job backfills: a job backfill of a ``date x organization`` job over a range
runs every range with one partition's dimension tags, so each run materializes one partition only
(dagster-io/dagster#28861, open in 1.13.27). An asset backfill honours the assets' single-run backfill
policy: one run per organization and job, each over the whole range.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.execution.api import execute_run
from dagster._core.execution.asset_backfill import execute_asset_backfill_iteration
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.instance.ref import InstanceRef
from dagster._core.launcher.sync_in_memory_run_launcher import SyncInMemoryRunLauncher
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.utils import make_new_backfill_id
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget, WorkspaceFileTarget
from dagster._time import datetime_from_timestamp, get_current_timestamp
from dagster._utils.hosted_user_process import recon_job_from_origin

from demo.backfill import BackfillInterrupted, interrupted, partition_range

#: the tag naming the job a demo backfill runs (the Backfills tab shows it as the title too)
JOB_TAG = "claude_assets/job"
#: the backfill daemon's messages (one per iteration) are not the demo's to print
_QUIET_LOGGER = logging.getLogger("demo.job_backfills")
_QUIET_LOGGER.setLevel(logging.WARNING)


@dataclass
class RunResult:
    """What the demo reads of one finished run (the members of ``dg.ExecuteInProcessResult`` it uses)."""

    dagster_run: dg.DagsterRun
    all_events: list[dg.DagsterEvent]

    @property
    def run_id(self) -> str:
        return self.dagster_run.run_id

    @property
    def success(self) -> bool:
        return self.dagster_run.status == dg.DagsterRunStatus.SUCCESS

    def get_asset_check_evaluations(self) -> list[dg.AssetCheckEvaluation]:
        return [
            e.event_specific_data
            for e in self.all_events
            if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ]


def run_result(instance: dg.DagsterInstance, run_id: str) -> RunResult:
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise LookupError(f"run {run_id} is not in the Dagster instance")
    events = [e.dagster_event for e in instance.all_logs(run_id) if e.dagster_event is not None]
    return RunResult(run, events)


class InProcessRunLauncher(SyncInMemoryRunLauncher):
    """Takes the runs a backfill iteration submits; ``Backfiller`` executes them in this process right after
    the iteration (outside its event loop, as Dagster's run execution expects), one after the other."""

    def __init__(self, inst_data=None):
        super().__init__(inst_data)
        self.launched: list[str] = []

    def launch_run(self, context) -> None:
        self.launched.append(context.dagster_run.run_id)


#: the demo's instance: ``make ui``'s storage (``$DAGSTER_HOME``), runs launched and executed right here
IN_PROCESS = {
    "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
    "run_launcher": {"module": __name__, "class": InProcessRunLauncher.__name__},
}


@dataclass
class Backfiller:
    """Runs named jobs as backfills of the instance, over date ranges."""

    instance: dg.DagsterInstance
    workspace: WorkspaceProcessContext
    location_name: str

    def _repository(self):
        location = self.workspace.create_request_context().get_code_location(self.location_name)
        return next(iter(location.get_repositories().values()))

    def has_job(self, name: str) -> bool:
        return self._repository().has_job(name)

    def job_keys(self, name: str) -> list[dg.AssetKey]:
        graph = self.workspace.create_request_context().asset_graph
        return sorted(
            k for k in graph.materializable_asset_keys if name in graph.get_materialization_job_names(k)
        )

    def partition_keys(self, name: str, start: date, end: date) -> list[str]:
        """The job's partitions of the days ``[start, end)`` (every organization; a month of those days)."""
        partitions_def = (
            self._repository().get_partition_set(f"{name}_partition_set").get_partitions_definition()
        )
        bounds = partition_range(partitions_def, start, end)
        if bounds is None:
            return []
        return list(partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(*bounds)))

    def backfill(
        self, name: str, start: date, end: date, *, tags: dict[str, str], run_config: dict | None
    ) -> tuple[str | None, list[RunResult]]:
        """Backfill job ``name`` over ``[start, end)``; return the backfill's id and its runs, in order.

        Ctrl-C (or a run it stopped) cancels the backfill and raises ``BackfillInterrupted`` with its runs."""
        keys = self.partition_keys(name, start, end)
        if not keys:
            return None, []
        backfill = PartitionBackfill.from_asset_partitions(
            backfill_id=make_new_backfill_id(),
            asset_graph=self.workspace.create_request_context().asset_graph,
            partition_names=keys,
            asset_selection=self.job_keys(name),
            backfill_timestamp=get_current_timestamp(),
            tags={**tags, JOB_TAG: name},
            dynamic_partitions_store=self.instance,
            all_partitions=False,
            title=name,
            description=f"make demo: job {name}, {keys[0]} to {keys[-1]}",
            run_config=run_config,
        )
        self.instance.add_backfill(backfill)
        try:
            while (
                current := self.instance.get_backfill(backfill.backfill_id)
            ).status == BulkActionStatus.REQUESTED:
                self._iterate(current)
        except KeyboardInterrupt:
            self._cancel(backfill.backfill_id)
            raise BackfillInterrupted(self.runs(backfill.backfill_id)) from None
        return backfill.backfill_id, self.runs(backfill.backfill_id)

    def _iterate(self, backfill: PartitionBackfill) -> None:
        # as the backfill daemon does, but on an event loop of our own: asyncio.run would take over SIGINT
        loop = asyncio.new_event_loop()
        try:
            with (
                warnings.catch_warnings(),
                partition_loading_context(
                    effective_dt=datetime_from_timestamp(backfill.backfill_timestamp),
                    dynamic_partitions_store=self.instance,
                ),
            ):
                # Dagster's backfill code calls its own deprecated AssetSelection.sources at every iteration
                warnings.filterwarnings(
                    "ignore", message=r"Function `AssetSelection.sources`", category=DeprecationWarning
                )
                loop.run_until_complete(
                    execute_asset_backfill_iteration(backfill, _QUIET_LOGGER, self.workspace, self.instance)
                )
        finally:
            loop.close()
        self.execute_launched()

    def execute_launched(self) -> None:
        """Execute the runs the iteration launched, in order; a run that Ctrl-C stopped ends the backfill."""
        launcher = self.instance.run_launcher
        while launcher.launched:
            run = self.instance.get_run_by_id(launcher.launched.pop(0))
            execute_run(recon_job_from_origin(run.job_code_origin), run, self.instance)
            if interrupted(run_result(self.instance, run.run_id)):
                raise KeyboardInterrupt

    def _cancel(self, backfill_id: str) -> None:
        """The backfill canceled, and any run left unfinished (stopped, or launched and not started) canceled."""
        self.instance.run_launcher.launched.clear()
        for run in self.instance.get_runs(
            dg.RunsFilter(tags=dg.DagsterRun.tags_for_backfill_id(backfill_id))
        ):
            if not run.is_finished:
                self.instance.report_run_canceled(run, message="Ctrl-C stopped the demo's backfill")
        backfill = self.instance.get_backfill(backfill_id)
        if backfill is not None and backfill.status not in (BulkActionStatus.CANCELED,):
            self.instance.update_backfill(
                backfill.with_status(BulkActionStatus.CANCELED).with_end_timestamp(get_current_timestamp())
            )

    def runs(self, backfill_id: str) -> list[RunResult]:
        found = self.instance.get_runs(dg.RunsFilter(tags=dg.DagsterRun.tags_for_backfill_id(backfill_id)))
        return [run_result(self.instance, r.run_id) for r in reversed(found)]  # oldest first


def _code_location(workspace_file: Path) -> InProcessCodeLocationOrigin:
    """The code location ``workspace_file`` names (as ``make ui`` loads it), loaded in this process."""
    origins = WorkspaceFileTarget([str(workspace_file)]).create_origins()
    if len(origins) != 1:
        raise ValueError(f"{workspace_file} names {len(origins)} code locations; the demo runs exactly one")
    target = origins[0].loadable_target_origin
    # the module builds its definitions from the environment when imported: build them from this one
    if target.module_name in sys.modules:
        importlib.reload(sys.modules[target.module_name])
    return InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable,
            module_name=target.module_name,
            working_directory=str(workspace_file.parent),
        ),
        location_name=origins[0].location_name,
    )


@contextmanager
def backfiller(dagster_home: Path, workspace_file: Path) -> Iterator[Backfiller]:
    """The instance at ``dagster_home`` (runs executed in this process) and the workspace's code location."""
    ref = InstanceRef.from_dir(str(dagster_home), overrides=IN_PROCESS)
    with dg.DagsterInstance.from_ref(ref) as instance:
        origin = _code_location(workspace_file)
        with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace:
            yield Backfiller(instance, workspace, origin.location_name)


def job_names(results: Sequence[RunResult]) -> list[str]:
    """The job each run backfilled (from the backfill's tag), in order."""
    return [r.dagster_run.tags.get(JOB_TAG, "") for r in results]

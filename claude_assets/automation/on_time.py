"""The ``source_on_time`` check of every raw asset a readiness sensor watches: late or stalled sources.

The readiness sensor of the family reports it (``dg.AssetCheckEvaluation`` in its ``SensorResult``)
whenever a verdict or a watermark changes: ERROR and failed while an organization's source is late or has stalled,
naming the source, organization, last watermark and how late it is; passed again once data arrives.
Executed by hand (the asset's Checks tab), it probes and judges the same way, remembering how long the
watermark has stood from the check's own last evaluation.
"""

from __future__ import annotations

import dagster as dg

from claude_assets.automation.families import Family
from claude_assets.automation.lateness import Seen, Verdict

CHECK_NAME = "source_on_time"


def spec(family: Family, key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK_NAME,
        asset=key,
        description=f"The {family.label} is neither late nor stalled for any organization (its watermark "
        "within source_timing.expected_delay of the API's clock, and moving within stall_after). Reported "
        f"by the {family.sensor_name} sensor when its verdict changes.",
    )


def evaluations(
    family: Family, verdicts: list[Verdict], failed: dict[str, str]
) -> list[dg.AssetCheckEvaluation]:
    """The check's evaluation on each asset of the family, from every organization's verdict."""
    problems = [v.problem for v in verdicts if v.problem]
    metadata = {
        "organizations": dg.MetadataValue.json({v.org: v.metadata() for v in verdicts}),
        "seen": dg.MetadataValue.json(
            {
                v.org: Seen(v.watermark, v.api_time - v.unchanged_for).as_json()
                for v in verdicts
                if v.watermark
            }
        ),
    }
    if failed:
        metadata["probe_failed"] = dg.MetadataValue.json(failed)
    if problems:
        description = " | ".join(problems)
    elif verdicts:
        description = f"{family.label}: on time for " + ", ".join(
            f"{v.org} (data at {v.watermark.isoformat() if v.watermark else 'none yet'})" for v in verdicts
        )
    else:
        description = f"{family.label}: no organization could be probed"
    return [
        dg.AssetCheckEvaluation(
            asset_key=key,
            check_name=CHECK_NAME,
            passed=not problems,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=metadata,
            description=description,
        )
        for key in family.asset_keys
    ]


def remembered(context: dg.AssetCheckExecutionContext, family: Family) -> dict:
    """What the check's last evaluation remembered of each organization's watermark (``seen``)."""
    key = dg.AssetCheckKey(family.asset_keys[0], CHECK_NAME)
    record = context.instance.event_log_storage.get_latest_asset_check_execution_by_key([key]).get(key)
    event = getattr(getattr(record, "event", None), "dagster_event", None)
    evaluation = getattr(event, "event_specific_data", None)
    seen = (getattr(evaluation, "metadata", None) or {}).get("seen")
    return dict(seen.value) if seen is not None else {}

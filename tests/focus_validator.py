"""The FinOps Foundation's ``focus-validator`` (2.x, FOCUS 1.2), run as a user runs it, with its results
read rule by rule.

It lives in its own Python 3.12 environment, ``.venv-focus`` (``make focus-validator``; ``make test``
installs it). It is run offline on its bundled rules (``--block-download``) from its site-packages folder,
since it opens ``rules/currency_codes.csv`` relative to the working directory, and writes a JUnit-style
report (``--output-type unittest``) that ``run`` parses into one status per rule.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-focus"
EXECUTABLE = VENV / "bin" / "focus-validator"
FOCUS_VERSION = "1.2"
RULES = "model-1.2.0.1.json"  # the rules the validator ships for FOCUS 1.2
#: what Anthropic's billing supports, so the rules that depend on it run too: named billing accounts
#: (organizations) and sub accounts (workspaces)
APPLICABILITY = ("ACCOUNT_NAMING_SUPPORTED", "SUB_ACCOUNT_SUPPORTED")
PASSED, FAILED, SKIPPED, ERRORED = "passed", "failed", "skipped", "errored"


def site_packages() -> Path:
    found = sorted(VENV.glob("lib/python3.*/site-packages"))
    if not EXECUTABLE.exists() or not found:
        raise RuntimeError(f"focus-validator is not installed in {VENV}: run `make focus-validator`")
    return found[-1]


@dataclass(frozen=True)
class Results:
    """The status of every rule the validator reported (``passed``, ``failed``, ``skipped``, ``errored``)."""

    status: dict[str, str]
    output: str  # what it printed

    def with_status(self, status: str) -> list[str]:
        return sorted(rule for rule, s in self.status.items() if s == status)

    @property
    def failed(self) -> list[str]:
        """Rules that ran and failed, or could not run because what they check is broken or missing."""
        return sorted([*self.with_status(FAILED), *self.with_status(ERRORED)])

    @property
    def unexcused(self) -> list[str]:
        """Failed rules, less the alternatives of an OR rule that passed (FOCUS states some requirements as
        "A or B": e.g. InvoiceId null when no invoice is known, or not null when one is; one side fails)."""
        excused = {
            item
            for rule, items in alternatives().items()
            if self.status.get(rule) == PASSED
            for item in items
        }
        return [rule for rule in self.failed if rule not in excused]

    @property
    def ran(self) -> list[str]:
        return sorted(rule for rule, s in self.status.items() if s != SKIPPED)

    @staticmethod
    def mandatory(rules: list[str]) -> list[str]:
        """The rules of ``rules`` that FOCUS makes mandatory (ids ending in ``-M``)."""
        return [r for r in rules if r.endswith("-M")]


def alternatives() -> dict[str, list[str]]:
    """Rule id -> the rules it accepts any one of (its requirement is an OR of model rules), from the
    validator's bundled FOCUS 1.2 rules."""
    model = json.loads((site_packages() / "focus_validator" / "rules" / RULES).read_text())
    out = {}
    for rule, spec in model["ModelRules"].items():
        requirement = spec.get("ValidationCriteria", {}).get("Requirement", {})
        if requirement.get("CheckFunction") == "OR":
            items = [i.get("ModelRuleId") for i in requirement.get("Items", [])]
            out[rule] = [i for i in items if i]
    return out


def run(data_file: Path, report: Path, applicability: tuple[str, ...] = APPLICABILITY) -> Results:
    """Validate ``data_file`` (CSV or Parquet, by its suffix) against FOCUS 1.2; the per-rule results."""
    command = [
        str(EXECUTABLE),
        "--data-file",
        str(data_file.resolve()),
        "--validate-version",
        FOCUS_VERSION,
        "--block-download",
        "--output-type",
        "unittest",
        "--output-destination",
        str(report.resolve()),
    ]
    if applicability:
        command += ["--applicability-criteria", ",".join(applicability)]
    done = subprocess.run(command, cwd=site_packages(), capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    if not report.exists():
        raise RuntimeError(f"focus-validator wrote no report (exit {done.returncode}):\n{output[-3000:]}")
    return Results(parse_report(report), output)


def parse_report(report: Path) -> dict[str, str]:
    """Rule id -> status, from the JUnit-style report (a test case is named ``<rule id> :: <check>``)."""
    status = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        rule = case.get("name", "").split(" :: ")[0].strip()
        if case.find("failure") is not None:
            status[rule] = FAILED
        elif case.find("error") is not None:
            status[rule] = ERRORED
        elif case.find("skipped") is not None:
            status[rule] = SKIPPED
        else:
            status[rule] = PASSED
    return status

"""The environment variables the project reads or sets, found in its source, and what each one means.

``read_in_source`` finds every name shaped like an environment variable (``CLAUDE_ASSETS_CONFIG``) that a
module touching the environment (``os.environ``, ``os.getenv``, ``environ=`` arguments) holds as a whole
string; every one must be described in ``VARIABLES``, and every name described there must still be in the
source, or the configuration reference refuses to render (``UndescribedVariables``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from claude_assets.config import DEFAULT_BASE_URL
from claude_assets.definitions import DEFAULT_WAREHOUSE

ROOT = Path(__file__).resolve().parent.parent
#: the packages whose environment is documented: the product, its API clients and checks, and the demo
PACKAGES = ("claude_assets", "resources", "checks", "demo")
_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_TOUCHES_ENVIRONMENT = re.compile(r"\benviron\b|\bgetenv\b")


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    used_by: str
    description: str
    in_source: bool = True  # False: a name the configuration chooses (no literal in the source)


VARIABLES = (
    Variable(
        "CLAUDE_ASSETS_PSEUDONYM_KEY",
        "unset",
        "every asset run when pseudonymization is on (`claude_assets.privacy`)",
        "the secret (at least 32 characters) keying the HMAC-SHA256 pseudonyms of emails and names; read only "
        "from the environment. Required when `privacy.pseudonymize` is on (docs/privacy.md); another secret "
        "gives other pseudonyms",
    ),
    Variable(
        "CLAUDE_ASSETS_CONFIG",
        "unset: the organizations come from the key variables below",
        "the code location (`claude_assets.config.load_config`)",
        "path of the YAML configuration file (fields below); when set, the key variables below are not read",
    ),
    Variable(
        "ANTHROPIC_ADMIN_API_KEY",
        "unset",
        "the code location, without CLAUDE_ASSETS_CONFIG",
        "an Admin API key: declares the Console organization `console` that reads it. With neither key variable "
        "set, both organizations are declared and each run fails naming the variable to set",
    ),
    Variable(
        "ANTHROPIC_ANALYTICS_API_KEY",
        "unset",
        "the code location, without CLAUDE_ASSETS_CONFIG",
        "an Enterprise Analytics API key: declares the Enterprise organization `enterprise` that reads it",
    ),
    Variable(
        "ANTHROPIC_BASE_URL",
        DEFAULT_BASE_URL,
        "the API clients",
        "the API's base URL for every organization without base_url (http:// only for this machine, e.g. "
        "the simulator)",
    ),
    Variable(
        "CLAUDE_ASSETS_WAREHOUSE",
        DEFAULT_WAREHOUSE,
        "the code location (`claude_assets.definitions`)",
        "the DuckDB warehouse file (its folder is created); its name before the first dot must not be a schema "
        "of the warehouse (raw, facts, …)",
    ),
    Variable(
        "DAGSTER_HOME",
        "Dagster's (the demo sets .dagster_home)",
        "Dagster; set by `make demo` and `make ui`",
        "the Dagster instance's folder: run and event storage, dagster.yaml (run monitoring, the warehouse pool)",
    ),
    Variable(
        "DEMO_ALERTS_WEBHOOK_URL",
        "unset: the demo posts no alert",
        "`make demo`, `make ui`",
        "a Slack-compatible webhook URL the demo posts its new anomalies and budget crossings to (once each)",
    ),
    Variable(
        "DEMO_VERBOSE",
        "unset: the demo's runs log warnings and errors only",
        "`make demo`",
        "any value: the demo's runs log every event",
    ),
    Variable(
        "<organizations[].key_env>",
        "required for each organization a run reads",
        "the API clients, when a run starts",
        "the variable each organization names in key_env holds its API key (never the file)",
        in_source=False,
    ),
    Variable(
        "<alerts.webhooks[].url_env>",
        "required for each webhook named so",
        "insights/alert_deliveries",
        "the variable a webhook names in url_env holds its URL (its path is a secret)",
        in_source=False,
    ),
    Variable(
        "DEMO_<SLUG>_API_KEY",
        "set by the demo",
        "`make demo`, `make ui`",
        "the simulated key of each demo organization (e.g. DEMO_ACME_CONSOLE_API_KEY), put in the environment "
        "of the demo's processes only",
        in_source=False,
    ),
)


class UndescribedVariables(RuntimeError):
    """The source and ``VARIABLES`` disagree: a variable is read without a description, or one described is
    no longer in the source."""


def read_in_source(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, list[str]]:
    """Every environment-variable-shaped whole string of the modules that touch the environment, with the
    modules holding it."""
    found: dict[str, list[str]] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text()
            if not _TOUCHES_ENVIRONMENT.search(text):
                continue
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            for node in ast.walk(ast.parse(text)):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and _NAME.fullmatch(node.value)
                ):
                    found.setdefault(node.value, [])
                    if module not in found[node.value]:
                        found[node.value].append(module)
    return found


def described(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> tuple[Variable, ...]:
    """``VARIABLES``, once checked against the source; ``UndescribedVariables`` names each disagreement."""
    found = read_in_source(root, packages)
    known = {v.name for v in VARIABLES if v.in_source}
    problems = [
        f"{name} (in {', '.join(found[name])}) has no description in docgen.environment.VARIABLES"
        for name in sorted(set(found) - known)
    ] + [
        f"{name} is described in docgen.environment.VARIABLES but no module reads or sets it"
        for name in sorted(known - set(found))
    ]
    if problems:
        raise UndescribedVariables("; ".join(problems) + ". Describe or remove it, then run python -m docgen")
    return VARIABLES

"""Which organizations to read, and how: environment variables or one YAML file.

Simple case: ``ANTHROPIC_ADMIN_API_KEY`` gives a Console organization ``console`` and
``ANTHROPIC_ANALYTICS_API_KEY`` an Enterprise organization ``enterprise``. Several organizations:
``CLAUDE_ASSETS_CONFIG=path.yaml``::

    organizations:
      - slug: acme-console
        kind: console                 # console | enterprise
        key_env: ACME_ADMIN_API_KEY   # the variable that holds the key (never the key itself)
        base_url: https://api.anthropic.com   # optional (default: $ANTHROPIC_BASE_URL or the real API)
        rate_limit_per_minute: 60     # optional
        history_start: 2026-01-01     # optional: first day of the partitions
        analytics_beta: false         # optional (enterprise): also read the beta usage/cost endpoints

A key is never read from the file; invalid files fail at load with the file, line and field.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_HISTORY_START = date(2026, 1, 1)
DEFAULT_RATE_LIMITS = {"console": 60, "enterprise": 60}
ENV_MODE = {"console": ("console", "ANTHROPIC_ADMIN_API_KEY"), "enterprise": ("enterprise", "ANTHROPIC_ANALYTICS_API_KEY")}
_KEY_SHAPE = re.compile(r"^sk-ant-")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file, line and field."""


class OrgConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
                      description="stable name of the organization: the org_id column and the partition key")
    kind: Literal["console", "enterprise"]
    key_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="environment variable holding the key")
    base_url: str | None = None
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    history_start: date = DEFAULT_HISTORY_START
    analytics_beta: bool = Field(default=False, description="also read the beta Usage and Cost Analytics "
                                 "endpoints (/v1/organizations/analytics/usage and /cost)")

    @field_validator("key_env")
    @classmethod
    def _not_a_key(cls, v: str) -> str:
        if _KEY_SHAPE.match(v):
            raise ValueError("must name an environment variable, not contain a key")
        return v

    @property
    def rate_limit(self) -> int:
        return self.rate_limit_per_minute or DEFAULT_RATE_LIMITS[self.kind]

    def resolved_base_url(self) -> str:
        return (self.base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


class ProjectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    organizations: tuple[OrgConfig, ...] = ()

    @model_validator(mode="after")
    def _unique_slugs(self) -> ProjectConfig:
        seen: set[str] = set()
        for org in self.organizations:
            if org.slug in seen:
                raise ValueError(f"organization slug {org.slug!r} appears twice")
            seen.add(org.slug)
        return self

    def of_kind(self, kind: str) -> tuple[OrgConfig, ...]:
        return tuple(o for o in self.organizations if o.kind == kind)

    def get(self, slug: str) -> OrgConfig:
        for org in self.organizations:
            if org.slug == slug:
                return org
        raise KeyError(f"organization {slug!r} is not configured (configured: "
                       f"{', '.join(o.slug for o in self.organizations) or 'none'})")

    @property
    def history_start(self) -> date:
        return min((o.history_start for o in self.organizations), default=DEFAULT_HISTORY_START)


def _line_of(node: yaml.Node, loc: tuple) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location."""
    found = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        found = node.start_mark.line + 1
    return found


def load_file(path: str | Path) -> ProjectConfig:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping with an 'organizations' list")
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc) or "(top level)"
            line = _line_of(node, loc) if node is not None else None
            lines.append(f"{path}:{line or 1}: {field}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None


def load_config(environ: dict[str, str] | None = None) -> ProjectConfig:
    """The project's organizations: from ``CLAUDE_ASSETS_CONFIG`` if set, else from the key variables."""
    env = os.environ if environ is None else environ
    path = env.get("CLAUDE_ASSETS_CONFIG")
    if path:
        return load_file(path)
    orgs = [OrgConfig(slug=slug, kind=kind, key_env=var) for kind, (slug, var) in ENV_MODE.items() if env.get(var)]
    return ProjectConfig(organizations=tuple(orgs))

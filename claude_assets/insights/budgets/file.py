"""The budget file (``budgets_file:`` of the configuration), validated by file, line and field.

::

    budgets:
      - name: platform-monthly            # a budget's identity; several entries of one name are its versions
        scope:                            # one selector, or a list of them (spend of any of them, once)
          organization: acme-console      # every field given must match: organization, workspace,
          workspace: wrkspc_01            #   api_key, user, product, model (a model id, or a stem ending in *)
        period: month                     # month | quarter (UTC calendar periods)
        amount_usd: "5000.00"             # exact decimal USD (a string keeps every digit)
        thresholds_pct: [50, 80, 100]     # optional, the default; increasing percentages of amount_usd
        effective_from: 2026-01-01        # the first day this version judges
        effective_to: 2026-06-30          # optional: its last day (else until the next version, or forever)

A day is judged by the version in effect on it (its effective_from <= day <= its effective_to, or the next
version's effective_from minus one day). A version changed in the middle of a period judges the days from
its effective_from on, over the whole period's spend: the days before keep the verdicts (and the crossings)
of the version they were judged by, so a change never rewrites history.

A scope naming an API key or a user is summed from ``facts.cost_allocation`` (the billed lines split to keys
and users); every other scope from the billed lines of ``facts.cost``. The allocation has no product, so a
selector cannot name a product together with an API key or a user.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# the main configuration's YAML reading: dates kept as strings, lines of fields, duplicate keys, no keys
from claude_assets.config import ConfigError, _field, _line_of, read_yaml, validation_problems

DEFAULT_THRESHOLDS = (Decimal(50), Decimal(80), Decimal(100))
#: the finest money the warehouse stores (DECIMAL(38, 12))
_MONEY_EXPONENT = -12
ALLOCATED_DIMENSIONS = ("api_key", "user")


class BudgetFileError(ConfigError):
    """The budget file is invalid; the message names the file, line and field. Nothing was written."""


class Selector(BaseModel):
    """One part of a scope: the spend whose every named dimension matches."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    organization: str | None = Field(default=None, description="an organization's slug (its org_id)")
    workspace: str | None = Field(default=None, description="a workspace id (wrkspc_…)")
    api_key: str | None = Field(
        default=None, description="an API key id (apikey_…); spend from facts.cost_allocation"
    )
    user: str | None = Field(default=None, description="a user id (user_…); spend from facts.cost_allocation")
    product: str | None = Field(default=None, description="a Claude product, e.g. claude_code or chat")
    model: str | None = Field(default=None, description="a model id, or a stem ending in * (claude-opus-4*)")

    @model_validator(mode="after")
    def _meaningful(self) -> Selector:
        named = self.named()
        if not named:
            raise ValueError("name at least one of organization, workspace, api_key, user, product, model")
        if self.product is not None and (self.api_key is not None or self.user is not None):
            raise ValueError(
                "product cannot be combined with api_key or user: spend by API key or user comes from "
                "facts.cost_allocation, which has no product; use two budgets"
            )
        for name, value in named.items():
            if not value.strip():
                raise ValueError(f"{name} must not be empty")
        return self

    def named(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}

    @property
    def allocated(self) -> bool:
        return any(getattr(self, d) is not None for d in ALLOCATED_DIMENSIONS)

    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.named().items())


class BudgetVersion(BaseModel):
    """One version of a budget, as written in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.:/-]{0,99}$",
        description="the budget's identity; several entries of one name are its versions",
    )
    scope: tuple[Selector, ...] = Field(
        min_length=1,
        description="one selector, or a list of them: the spend of any of them, counted once",
    )
    period: Literal["month", "quarter"] = Field(description="the UTC calendar period the amount is for")
    amount_usd: Decimal = Field(
        gt=0,
        max_digits=38,
        decimal_places=12,
        description='the budget in exact decimal USD (write it as a string, e.g. "5000.00", to keep every digit)',
    )
    thresholds_pct: tuple[Decimal, ...] = Field(
        default=DEFAULT_THRESHOLDS,
        min_length=1,
        description="increasing percentages of amount_usd whose crossing is recorded (and alerted) once",
    )
    effective_from: date = Field(description="the first day this version judges (YYYY-MM-DD)")
    effective_to: date | None = Field(
        default=None,
        description="the last day this version judges; none: until the next version's effective_from, or forever",
    )

    @field_validator("scope", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, dict) else v

    @field_validator("amount_usd", mode="before")
    @classmethod
    def _exact(cls, v: object) -> object:
        if isinstance(v, bool):
            raise ValueError('must be a decimal amount of USD, e.g. "5000.00"')
        return str(v) if isinstance(v, float) else v  # 5000.1 in YAML is the decimal 5000.1, not its float

    @field_validator("thresholds_pct", mode="before")
    @classmethod
    def _thresholds_exact(cls, v: object) -> object:
        if isinstance(v, list):
            return [str(x) if isinstance(x, float) else x for x in v]
        return v

    @field_validator("thresholds_pct")
    @classmethod
    def _ladder(cls, v: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        for pct in v:
            if not pct.is_finite() or pct <= 0 or pct > 1000 or pct.as_tuple().exponent < -6:
                raise ValueError(f"{pct} is not a percentage in (0, 1000] with at most 6 decimals")
        if list(v) != sorted(set(v)):
            raise ValueError("list each threshold once, in increasing order (e.g. [50, 80, 100])")
        return v

    @model_validator(mode="after")
    def _dates(self) -> BudgetVersion:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(
                f"effective_to {self.effective_to} is before effective_from {self.effective_from}"
            )
        return self

    @property
    def allocated(self) -> bool:
        """Whether the spend comes from facts.cost_allocation (a selector names an API key or a user)."""
        return any(s.allocated for s in self.scope)

    def scope_label(self) -> str:
        return " | ".join(s.label() for s in self.scope)


class _BudgetFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    budgets: tuple[BudgetVersion, ...] = Field(default=(), description="every version of every budget")


class Budget(BaseModel):
    """A budget: its versions, in order of effective_from, each with the last day it judges (None: open)."""

    model_config = ConfigDict(frozen=True)

    name: str
    versions: tuple[tuple[BudgetVersion, date | None], ...]

    def in_effect(self, day: date) -> BudgetVersion | None:
        for version, last in self.versions:
            if version.effective_from <= day and (last is None or day <= last):
                return version
        return None


def load_budgets(path: str | Path, organizations: Iterable[str] | None = None) -> tuple[Budget, ...]:
    """Read and validate a budget file; every problem names ``file:line: field``. ``organizations``: the
    configured slugs a selector's organization must be one of (None: not checked)."""
    path = Path(path)
    node, data = read_yaml(
        path, what="budget file", top_level="a 'budgets' list", error=BudgetFileError, fail=_fail
    )
    try:
        parsed = _BudgetFile.model_validate(data)
    except ValidationError as exc:
        raise _fail(validation_problems(path, node, exc)) from None
    known = None if organizations is None else set(organizations)
    problems = []
    for i, version in enumerate(parsed.budgets):
        for j, selector in enumerate(version.scope):
            if known is not None and selector.organization is not None and selector.organization not in known:
                loc = ("budgets", i, "scope", *((j,) if _is_list(node, i) else ()), "organization")
                problems.append(
                    f"{path}:{_line_of(node, loc)}: {_field(loc)}: organization {selector.organization!r} is not "
                    f"configured (configured: {', '.join(sorted(known)) or 'none'})"
                )
    budgets, overlaps = _versions(parsed.budgets)
    problems += [
        f"{path}:{_line_of(node, ('budgets', i, 'effective_from'))}: {_field(('budgets', i, 'effective_from'))}: {msg}"
        for i, msg in overlaps
    ]
    if problems:
        raise _fail(problems)
    return budgets


def _is_list(node: yaml.MappingNode, i: int) -> bool:
    entry = node.value[[k.value for k, _ in node.value].index("budgets")][1].value[i]
    scope = next((v for k, v in entry.value if k.value == "scope"), None)
    return isinstance(scope, yaml.SequenceNode)


def _versions(entries: tuple[BudgetVersion, ...]) -> tuple[tuple[Budget, ...], list[tuple[int, str]]]:
    """Group the entries by name into budgets; (entry index, message) of every version that overlaps another."""
    by_name: dict[str, list[tuple[int, BudgetVersion]]] = {}
    for i, v in enumerate(entries):
        by_name.setdefault(v.name, []).append((i, v))
    budgets, overlaps = [], []
    for name, indexed in by_name.items():
        indexed.sort(key=lambda iv: iv[1].effective_from)
        versions: list[tuple[BudgetVersion, date | None]] = []
        for n, (_, v) in enumerate(indexed):
            nxt = indexed[n + 1][1] if n + 1 < len(indexed) else None
            if nxt is not None and nxt.effective_from == v.effective_from:
                overlaps.append(
                    (indexed[n + 1][0], f"budget {name!r} has two versions effective from {v.effective_from}")
                )
                continue
            if nxt is not None and v.effective_to is not None and v.effective_to >= nxt.effective_from:
                overlaps.append(
                    (
                        indexed[n + 1][0],
                        f"budget {name!r}: this version starts on {nxt.effective_from}, while the version "
                        f"effective from {v.effective_from} runs to {v.effective_to}",
                    )
                )
                continue
            last = v.effective_to
            if nxt is not None and last is None:
                last = nxt.effective_from - timedelta(days=1)
            versions.append((v, last))
        budgets.append(Budget(name=name, versions=tuple(versions)))
    return tuple(budgets), overlaps


def _fail(lines: list[str]) -> BudgetFileError:
    return BudgetFileError("invalid budget file (nothing was written):\n  " + "\n  ".join(lines))

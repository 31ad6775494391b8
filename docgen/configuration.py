"""``docs/configuration.md``: every environment variable (``docgen.environment``) and every field of the YAML
configuration and of the budget file, with its type, default and description, from the pydantic models."""

from __future__ import annotations

import json
import types
import typing
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import annotated_types
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from claude_assets.config import ProjectConfig
from claude_assets.insights.budgets.file import _BudgetFile
from docgen.environment import described
from docgen.markdown import code, document, table


class UndescribedField(RuntimeError):
    """A configuration field without a description: the reference would have a hole."""


def _nested_model(annotation: object) -> type[BaseModel] | None:
    """The model a field holds (itself, in a list, or optional), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def type_name(annotation: object) -> str:
    """A field's type as a person writing YAML reads it."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in args if a is not type(None)]
        return " or ".join(type_name(a) for a in kept) + (" (optional)" if len(kept) < len(args) else "")
    if origin in (tuple, list):
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping of {type_name(args[0])} to {type_name(args[1])}"
    simple = {
        str: "text",
        int: "integer",
        float: "number",
        bool: "true | false",
        Decimal: "decimal",
        date: "date (YYYY-MM-DD)",
        timedelta: "ISO 8601 duration",
        Path: "path",
    }
    if annotation in simple:
        return simple[annotation]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping (below)"
    return str(annotation)


def default_of(info: FieldInfo) -> str:
    """The default as it would be written in YAML; ``required`` when there is none, ``(below)`` for a nested
    mapping whose fields all keep their own defaults."""
    if info.is_required():
        return "required"
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if value is None:
        return "none"
    if isinstance(value, BaseModel) and not value.model_fields_set and _all_defaults(type(value)):
        return "(below)"
    shown = TypeAdapter(info.annotation).dump_python(value, mode="json")
    return json.dumps(shown, ensure_ascii=False) if not isinstance(shown, str) else shown


def _all_defaults(model: type[BaseModel]) -> bool:
    return not any(f.is_required() for f in model.model_fields.values())


def constraints(info: FieldInfo) -> str:
    out = []
    bounds = {
        annotated_types.Ge: (">=", "ge"),
        annotated_types.Gt: (">", "gt"),
        annotated_types.Le: ("<=", "le"),
        annotated_types.Lt: ("<", "lt"),
    }
    for m in info.metadata:
        for kind, (sign, attribute) in bounds.items():
            if isinstance(m, kind):
                bound = getattr(m, attribute)
                if isinstance(bound, timedelta):
                    bound = TypeAdapter(timedelta).dump_python(bound, mode="json")
                out.append(f"{sign} {bound}")
        if isinstance(m, annotated_types.MinLen) and m.min_length:
            out.append(f"at least {m.min_length}")
        pattern = getattr(m, "pattern", None)
        if pattern:
            out.append(f"matches {code(pattern)}")
    return ", ".join(out)


def _models(model: type[BaseModel], path: str, found: dict[type[BaseModel], list[str]]) -> None:
    """Every model reached from ``model`` (itself included), with the YAML paths it is found at, in order."""
    found.setdefault(model, []).append(path)
    for name, info in model.model_fields.items():
        inner = _nested_model(info.annotation)
        if inner is None:
            continue
        listed = any(
            typing.get_origin(a) in (tuple, list)
            for a in (info.annotation, *typing.get_args(info.annotation))
        )
        _models(inner, f"{path}{name}{'[]' if listed else ''}.", found)


def model_section(model: type[BaseModel], paths: list[str]) -> str:
    """A model's fields (type, default, allowed values, description) under the YAML paths it is found at.
    ``UndescribedField`` names a field without a description."""
    rows = []
    for name, info in model.model_fields.items():
        if not (info.description or "").strip():
            raise UndescribedField(
                f"{model.__module__}.{model.__name__}.{name} has no description: add Field(description=...), "
                "then run python -m docgen"
            )
        rows.append(
            (code(name), type_name(info.annotation), default_of(info), constraints(info), info.description)
        )
    title = "### " + ", ".join(code(p.rstrip(".")) if p else "top level" for p in paths)
    doc = " ".join((model.__doc__ or "").split())
    body = table(("field", "type", "default", "allowed", "description"), rows)
    return "\n\n".join(part for part in (title, doc, body) if part)


def model_sections(model: type[BaseModel]) -> list[str]:
    """One section per model reached from ``model``, in the order they are first reached."""
    found: dict[type[BaseModel], list[str]] = {}
    _models(model, "", found)
    return [model_section(m, paths) for m, paths in found.items()]


def environment_section() -> str:
    rows = [(code(v.name), v.default, v.used_by, v.description) for v in described()]
    return (
        "## Environment variables\n\n"
        "Every variable the code location, its API clients and the demo read or set. A key is only ever read "
        "from the environment, never from a file.\n\n"
        + table(("variable", "default", "read by", "meaning"), rows)
    )


def render() -> str:
    intro = (
        "Everything the project reads to run: environment variables, the YAML file `CLAUDE_ASSETS_CONFIG` "
        "names (every field optional unless marked required), and the budget file that file's `budgets_file` "
        "names. Durations are ISO 8601 (`PT5M`, `PT24H`, `P30D`); money is exact decimal USD. An invalid file "
        "fails at load, naming the file, line and field."
    )
    config = "## The configuration file (`CLAUDE_ASSETS_CONFIG`)\n\n" + "\n\n".join(
        model_sections(ProjectConfig)
    )
    budgets = "## The budget file (`budgets_file`)\n\n" + "\n\n".join(model_sections(_BudgetFile))
    return document("Configuration reference", intro, [environment_section(), config, budgets])

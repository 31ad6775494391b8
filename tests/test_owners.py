"""Owners: configurable per asset group (``owners:``), with meaningful defaults, validated as Dagster accepts them."""

from __future__ import annotations

import textwrap

import dagster as dg
import pytest

from claude_assets.config import ConfigError, OrgConfig, OwnersConfig, ProjectConfig, load_file
from claude_assets.definitions import build_definitions

ORGS = """\
organizations:
  - slug: acme-console
    kind: console
    key_env: ACME_ADMIN_API_KEY
  - slug: acme-enterprise
    kind: enterprise
    key_env: ACME_ANALYTICS_API_KEY
"""


def owners_by_group(config: ProjectConfig) -> dict[str, set[tuple[str, ...]]]:
    defs = build_definitions(config, warehouse=":memory:")
    out: dict[str, set[tuple[str, ...]]] = {}
    for a in defs.assets or ():
        for spec in a.specs if isinstance(a, dg.AssetsDefinition) else [a]:
            out.setdefault(spec.group_name, set()).add(tuple(spec.owners))
    return out


def write(tmp_path, text: str):
    path = tmp_path / "claude-assets.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_by_default_the_raw_data_is_the_platform_teams_and_the_cost_figures_finops():
    config = ProjectConfig(
        organizations=(
            OrgConfig(slug="acme-console", kind="console", key_env="A_KEY"),
            OrgConfig(slug="acme-enterprise", kind="enterprise", key_env="B_KEY"),
        )
    )
    groups = owners_by_group(config)
    for group in ("console", "enterprise", "inventory"):
        assert groups[group] == {("team:data-platform",)}, group
    for group in ("facts", "insights", "exports"):
        assert groups[group] == {("team:finops",)}, group


def test_the_configuration_names_each_groups_owners(tmp_path):
    path = write(
        tmp_path,
        ORGS
        + """\
owners:
  default: [team:ingest]
  groups:
    facts: [ana@example.com, team:finance]
""",
    )
    groups = owners_by_group(load_file(path))
    assert groups["facts"] == {("ana@example.com", "team:finance")}
    assert groups["console"] == groups["inventory"] == {("team:ingest",)}
    assert groups["insights"] == {("team:finops",)}  # not named: keeps its suggested owners


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("owners", "line", "field", "says"),
    [
        ("  default: [data-platform]\n", 9, "owners.default[0]", "neither an email address"),
        (
            "  groups:\n    facts: [finops team]\n",
            10,
            "owners.groups.facts[0]",
            "owner 'finops team' is neither",
        ),
        ("  groups:\n    facts: []\n", 10, "owners.groups.facts", "at least 1 item"),
        ("  default: []\n", 9, "owners.default", "at least 1 item"),
        ("  team: finops\n", 9, "owners.team", "Extra inputs are not permitted"),
    ],
)
def test_an_owner_dagster_would_refuse_fails_at_load_naming_the_line_and_field(
    tmp_path, owners, line, field, says
):
    path = write(tmp_path, ORGS + "owners:\n" + owners)
    with pytest.raises(ConfigError) as info:
        load_file(path)
    message = str(info.value)
    assert f"{path}:{line}: {field}" in message and says in message, message


@pytest.mark.bad_input
def test_a_group_no_asset_belongs_to_is_refused_naming_it_and_the_groups():
    config = ProjectConfig(
        organizations=(OrgConfig(slug="acme-console", kind="console", key_env="A_KEY"),),
        owners=OwnersConfig(groups={"fact": ("team:finops",)}),
    )
    with pytest.raises(
        ConfigError, match=r"owners.groups: no asset group named 'fact'; the groups are .*facts"
    ):
        build_definitions(config, warehouse=":memory:")

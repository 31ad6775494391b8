"""Configuration: environment-variable mode, YAML mode, and errors that name the file, line and field."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from claude_assets.config import (
    DEFAULT_BASE_URL,
    ConfigError,
    OrgConfig,
    ProjectConfig,
    load_config,
    load_file,
)

ADMIN_KEY = "sk-ant-admin01-" + "Q9x" * 27 + "-AbCdAA"
ANALYTICS_KEY = "sk-ant-api01-" + "Zz8" * 27 + "-EfGhAA"

VALID = """\
# two organizations of one company
organizations:
  - slug: acme-console
    kind: console
    key_env: ACME_ADMIN_API_KEY
    rate_limit_per_minute: 30
    history_start: 2026-03-01
  - slug: acme-enterprise
    kind: enterprise
    key_env: ACME_ANALYTICS_API_KEY
    base_url: http://127.0.0.1:8765/
"""


def write(tmp_path: Path, text: str, name: str = "claude-assets.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_file(path)
    return str(info.value)


# -- environment-variable mode ---------------------------------------------------------------------------
def test_env_mode_one_organization_per_key_variable():
    config = load_config({"ANTHROPIC_ADMIN_API_KEY": ADMIN_KEY, "ANTHROPIC_ANALYTICS_API_KEY": ANALYTICS_KEY})
    assert [(o.slug, o.kind, o.key_env) for o in config.organizations] == [
        ("console", "console", "ANTHROPIC_ADMIN_API_KEY"),
        ("enterprise", "enterprise", "ANTHROPIC_ANALYTICS_API_KEY"),
    ]
    only = load_config({"ANTHROPIC_ANALYTICS_API_KEY": ANALYTICS_KEY, "ANTHROPIC_ADMIN_API_KEY": "  "})
    assert [o.slug for o in only.organizations] == ["enterprise"]
    # no key at all: both organizations are declared, so a run of either says which variable to set
    assert [(o.slug, o.key_env) for o in load_config({}).organizations] == [
        ("console", "ANTHROPIC_ADMIN_API_KEY"),
        ("enterprise", "ANTHROPIC_ANALYTICS_API_KEY"),
    ]
    # the key itself is only ever read from the environment when a client is built
    assert ADMIN_KEY not in repr(config) + str(config.model_dump())


def test_env_mode_defaults_and_base_url(monkeypatch):
    config = load_config({"ANTHROPIC_ADMIN_API_KEY": ADMIN_KEY})
    org = config.get("console")
    assert org.rate_limit == 60 and org.history_start == date(2026, 1, 1) == config.history_start
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    assert org.resolved_base_url() == DEFAULT_BASE_URL
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9999/")
    assert org.resolved_base_url() == "http://127.0.0.1:9999"
    with pytest.raises(ConfigError, match="ANTHROPIC_BASE_URL: must be an http"):
        load_config({"ANTHROPIC_ADMIN_API_KEY": ADMIN_KEY, "ANTHROPIC_BASE_URL": "api.anthropic.com"})
    with pytest.raises(KeyError, match=r"'nope' is not configured .*console"):
        config.get("nope")


def test_config_file_wins_over_key_variables(tmp_path):
    path = write(tmp_path, VALID)
    config = load_config({"CLAUDE_ASSETS_CONFIG": str(path), "ANTHROPIC_ADMIN_API_KEY": ADMIN_KEY})
    assert [o.slug for o in config.organizations] == ["acme-console", "acme-enterprise"]


# -- YAML mode -------------------------------------------------------------------------------------------------
def test_valid_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://elsewhere.test")
    config = load_file(write(tmp_path, VALID))
    console, enterprise = config.organizations
    assert console.rate_limit == 30 and console.history_start == date(2026, 3, 1)
    assert console.resolved_base_url() == "http://elsewhere.test"  # no base_url: the environment's
    assert enterprise.rate_limit == 60 and enterprise.resolved_base_url() == "http://127.0.0.1:8765"
    assert config.of_kind("enterprise") == (enterprise,) and config.history_start == date(2026, 1, 1)


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        pytest.param(
            """\
        organizations:
          - slug: acme
            kind: console
            key_env: [ACME_KEY
        """,
            ":4: (YAML syntax)",
            "not valid YAML",
            id="bad-yaml",
        ),
        pytest.param(
            """\
        organizations:
          - slug: acme
            kind: console
          - slug: other
            kind: enterprise
            key_env: OTHER_KEY
        """,
            ":2: organizations[0].key_env",
            "Field required",
            id="missing-field",
        ),
        pytest.param(
            """\
        organizations:
          - slug: acme
            kind: console
            key_env: ACME_KEY
            colour: blue
        """,
            ":5: organizations[0].colour",
            "Extra inputs are not permitted",
            id="unknown-field",
        ),
        pytest.param(
            """\
        organisations:
          - slug: acme
        """,
            ":1: organisations",
            "Extra inputs are not permitted",
            id="unknown-top-level-field",
        ),
        pytest.param(
            """\
        organizations:
          - slug: acme
            kind: console
            key_env: ACME_KEY
          - slug: other
            kind: console
            key_env: OTHER_KEY
          - slug: acme
            kind: enterprise
            key_env: ACME_ANALYTICS_KEY
        """,
            ":8: organizations[2].slug",
            "already used by organizations[0]",
            id="duplicate-slug",
        ),
        pytest.param(
            """\
        organizations:
          - slug: acme
            kind: console
            kind: enterprise
            key_env: ACME_KEY
        """,
            ":4: organizations[0].kind",
            "appears twice",
            id="duplicate-key",
        ),
        pytest.param(
            """\
        organizations:
          - slug: acme
            kind: consol
            key_env: ACME_KEY
        """,
            ":3: organizations[0].kind",
            "'console' or 'enterprise'",
            id="bad-enum",
        ),
        pytest.param(
            """\
        organizations:
          - slug: Acme Corp
            kind: console
            key_env: ACME_KEY
            rate_limit_per_minute: 0
            history_start: 2026-02-30
        """,
            ":2: organizations[0].slug",
            "should match pattern",
            id="several-errors",
        ),
        pytest.param(
            """\
        organizations:
          - slug: acme
            kind: console
            key_env: ACME_KEY
            base_url: api.anthropic.com
        """,
            ":5: organizations[0].base_url",
            "http:// or https://",
            id="bad-base-url",
        ),
        pytest.param(
            "organizations: []\n", ":1: organizations", "at least one organization", id="no-organizations"
        ),
        pytest.param("- just\n- a list\n", ":1: (top level)", "expected a mapping", id="not-a-mapping"),
        pytest.param("", ":1: (top level)", "expected a mapping", id="empty-file"),
    ],
)
def test_invalid_files_name_file_line_and_field(tmp_path, text, where, says):
    path = write(tmp_path, text)
    message = error_of(path)
    assert f"{path}{where}" in message and says in message


def test_every_error_of_a_file_is_reported_with_its_line(tmp_path):
    path = write(
        tmp_path,
        """\
        organizations:
          - slug: Acme Corp
            kind: console
            key_env: ACME_KEY
            rate_limit_per_minute: 0
            history_start: 2026-02-30
        """,
    )
    message = error_of(path)
    for expected in (
        f"{path}:2: organizations[0].slug",
        f"{path}:5: organizations[0].rate_limit_per_minute",
        f"{path}:6: organizations[0].history_start",
    ):
        assert expected in message


@pytest.mark.parametrize(
    ("where", "text"),
    [
        pytest.param(
            ":4: organizations[0].key_env",
            f"""\
        organizations:
          - slug: acme
            kind: console
            key_env: {ADMIN_KEY}
        """,
            id="key-in-key_env",
        ),
        pytest.param(
            ":4: organizations[0].key_env",
            f"""\
        organizations:
          - slug: acme
            kind: enterprise
            key_env: "{ANALYTICS_KEY}"
        """,
            id="quoted-key-in-key_env",
        ),
        pytest.param(
            ":5: organizations[0].api_key",
            f"""\
        organizations:
          - slug: acme
            kind: console
            key_env: ACME_KEY
            api_key: {ADMIN_KEY}
        """,
            id="key-in-another-field",
        ),
        pytest.param(
            ":4: (comment or unparsed text)",
            f"""\
        organizations:
          - slug: acme
            kind: console
            key_env: ACME_KEY  # was {ADMIN_KEY}
        """,
            id="key-in-a-comment",
        ),
        pytest.param(
            ":3: (comment or unparsed text)",
            f"""\
        organizations:
          - slug: acme
            key_env: [{ADMIN_KEY}
        """,
            id="key-in-invalid-yaml",
        ),
    ],
)
def test_keys_are_never_accepted_in_the_file(tmp_path, where, text):
    path = write(tmp_path, text)
    message = error_of(path)
    assert f"{path}{where}: looks like an API key" in message and "environment variable" in message
    assert ADMIN_KEY not in message and ANALYTICS_KEY not in message
    assert "Q9x" not in message and "Zz8" not in message  # not even part of it


def test_key_shaped_variable_names_are_rejected_without_echo():
    for value in ("sk-live-" + "a" * 40, "sk-ant-short", "AbCdEfGh1234567890IjKlMnOp0987654321"):
        with pytest.raises(ValidationError) as info:
            OrgConfig(slug="acme", kind="console", key_env=value)
        assert "never the key itself" in str(info.value) and value not in str(info.value)
    with pytest.raises(ValidationError) as info:  # any other invalid input is not echoed either
        OrgConfig(slug="acme", kind="console", key_env=ADMIN_KEY + " ")
    assert ADMIN_KEY not in str(info.value)
    assert OrgConfig(slug="acme", kind="console", key_env="ACME_PRODUCTION_ADMIN_API_KEY_2026").key_env


def test_programmatic_duplicate_slugs_are_rejected():
    org = OrgConfig(slug="acme", kind="console", key_env="K")
    with pytest.raises(ValidationError, match="appears twice"):
        ProjectConfig(organizations=(org, org))


def test_unreadable_file(tmp_path):
    message = error_of(tmp_path / "missing.yaml")
    assert f"{tmp_path / 'missing.yaml'}: cannot read the configuration file" in message
    with pytest.raises(ConfigError, match="cannot read"):
        load_config({"CLAUDE_ASSETS_CONFIG": str(tmp_path / "missing.yaml")})


# -- the price book override file ------------------------------------------------------------------------------
def test_price_book_file_is_read_from_the_configuration_files_folder(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "prices.csv").write_text("model,token_type\n")
    path = write(tmp_path / "conf", VALID + "price_book_file: prices.csv\n")
    monkeypatch.chdir(tmp_path)  # not the folder of the file: the path is resolved against the file's folder
    assert load_file(path).price_book_file == tmp_path / "conf" / "prices.csv"
    assert load_file(write(tmp_path, VALID)).price_book_file is None


def test_missing_price_book_file_names_the_file_line_and_field(tmp_path):
    path = write(tmp_path, VALID + "price_book_file: nowhere/prices.csv\n")
    message = error_of(path)
    assert (
        f"{path}:12: price_book_file: Value error, no such file: {tmp_path / 'nowhere' / 'prices.csv'}"
        in message
    )


# -- the reconciliation tolerance ------------------------------------------------------------------------------
def test_reconciliation_tolerance_is_an_exact_decimal_with_a_default(tmp_path):
    from decimal import Decimal

    assert load_file(write(tmp_path, VALID)).reconciliation_tolerance_usd == Decimal("0.01")
    path = write(tmp_path, VALID + "reconciliation_tolerance_usd: 0.25\n")
    assert load_file(path).reconciliation_tolerance_usd == Decimal("0.25")


def test_negative_reconciliation_tolerance_names_the_file_line_and_field(tmp_path):
    path = write(tmp_path, VALID + "reconciliation_tolerance_usd: -1\n")
    assert f"{path}:12: reconciliation_tolerance_usd:" in error_of(path)


def test_the_analytics_api_is_read_by_default_and_the_legacy_report_is_the_record(tmp_path):
    org = load_file(
        write(tmp_path, "organizations:\n  - {slug: acme, kind: console, key_env: ACME_KEY}\n")
    ).organizations[0]
    assert org.reads_analytics_api and org.cost_record == "legacy"
    chosen = load_file(
        write(
            tmp_path,
            "organizations:\n"
            "  - {slug: acme, kind: console, key_env: ACME_KEY, cost_record: analytics}\n"
            "  - {slug: aws, kind: console, key_env: AWS_KEY, analytics_api: false}\n"
            "  - {slug: ent, kind: enterprise, key_env: ENT_KEY, analytics_beta: false}\n",
        )
    ).organizations
    assert [(o.slug, o.reads_analytics_api, o.cost_record) for o in chosen] == [
        ("acme", True, "analytics"),
        ("aws", False, "legacy"),
        ("ent", False, "legacy"),  # the former opt-in still reads, as analytics_api
    ]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("cost_record: invoice", "organizations[0].cost_record"),
        (
            "{analytics_api: false, cost_record: analytics}",
            "cost_record: analytics needs analytics_api: true",
        ),
    ],
)
def test_a_record_that_is_not_read_or_unknown_is_refused_by_line(tmp_path, line, says):
    if line.startswith("{"):
        text = "organizations:\n  - slug: acme\n    kind: console\n    key_env: ACME_KEY\n"
        text += "".join(f"    {kv.strip()}\n" for kv in line.strip("{}").replace(": ", ": ").split(","))
    else:
        text = f"organizations:\n  - slug: acme\n    kind: console\n    key_env: ACME_KEY\n    {line}\n"
    message = error_of(write(tmp_path, text))
    assert f"{tmp_path / 'claude-assets.yaml'}:" in message and says in message

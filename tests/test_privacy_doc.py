"""docs/privacy.md, the data map, is what ``python -m docgen.privacy`` generates from the table declarations."""

from __future__ import annotations

from claude_assets.ingest.enterprise_reports.tables import ENTERPRISE_USER_COST
from claude_assets.inventory.tables import USERS_TABLE, WORKSPACES_TABLE
from docgen import privacy


def test_the_data_map_is_up_to_date():
    on_disk = privacy.OUTPUT.read_text(encoding="utf-8")
    assert on_disk == privacy.render(), "docs/privacy.md is out of date: run python -m docgen.privacy"
    assert privacy.main(["--check"]) == 0


def test_every_marked_column_is_in_the_map_with_its_table():
    text = privacy.render()
    for table in privacy.declared_tables():
        for column in table.personal_columns:
            assert f"| `{table.qualified}` | `{column.name}` |" in text
    assert "prompt" in text and "conversation" in text  # what the project never reads


def test_the_map_says_what_each_option_does_by_kind_of_data():
    text = privacy.render([USERS_TABLE, WORKSPACES_TABLE, ENTERPRISE_USER_COST])
    email = next(line for line in text.splitlines() if line.startswith("| `inventory.users` | `email` |"))
    assert "stored as its pseudonym" in email and "current versions kept" in email
    user_id = next(
        line for line in text.splitlines() if line.startswith("| `raw.enterprise_user_cost` | `user_id` |")
    )
    assert "kept (the API's opaque id" in user_id
    assert "`inventory.workspaces`" not in text  # a workspace's name is no person's

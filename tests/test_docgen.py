"""The generated documents of docs/ are what the code gives today, and the generator refuses to leave a hole."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from docgen import configuration, environment
from docgen.documents import DOCUMENTS, ROOT, stale


@pytest.mark.parametrize("doc", DOCUMENTS, ids=[d.path for d in DOCUMENTS])
def test_the_committed_document_is_what_the_code_generates(doc):
    committed = (ROOT / doc.path).read_text() if (ROOT / doc.path).is_file() else ""
    assert committed == doc.render(), (
        f"{doc.path} is out of date: run python -m docgen (make docs) and commit it"
    )


def test_a_changed_document_is_reported_stale(tmp_path):
    for doc in DOCUMENTS:
        (tmp_path / doc.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / doc.path).write_text((ROOT / doc.path).read_text())
    assert stale(tmp_path) == []
    first = tmp_path / DOCUMENTS[0].path
    first.write_text(first.read_text().replace("|", "", 1))
    assert stale(tmp_path) == [DOCUMENTS[0].path]


def test_the_data_dictionary_describes_every_column_with_its_type():
    text = (ROOT / "docs/data-dictionary.md").read_text()
    assert "### `raw.console_cost`" in text
    assert "| `amount_usd` | `DECIMAL(38, 12)` | no | billed amount in USD" in text
    assert "money (USD); its total is reported per materialization" in text
    assert "partitioned by UTC day (date) x organization (org)" in text


def test_the_configuration_reference_has_every_field_and_variable():
    text = (ROOT / "docs/configuration.md").read_text()
    for name in ("CLAUDE_ASSETS_CONFIG", "CLAUDE_ASSETS_WAREHOUSE", "ANTHROPIC_BASE_URL", "DEMO_VERBOSE"):
        assert f"| `{name}` |" in text
    assert "| `rate_limit_per_minute` | integer (optional) | none | >= 1, <= 100000 |" in text
    assert "### `owners`" in text and "### `budgets[].scope[]`" in text


def test_a_configuration_field_without_a_description_stops_the_generator():
    class Loose(BaseModel):
        described: int = Field(default=1, description="has one")
        bare: int = 2

    with pytest.raises(
        configuration.UndescribedField, match=r"Loose.bare has no description.*python -m docgen"
    ):
        configuration.model_sections(Loose)


def test_an_environment_variable_read_without_a_description_stops_the_generator(tmp_path: Path):
    package = tmp_path / "claude_assets"
    package.mkdir()
    (package / "reader.py").write_text(
        'import os\n\nLEVEL = os.environ.get("CLAUDE_ASSETS_LOG_LEVEL", "INFO")\n'
    )
    with pytest.raises(environment.UndescribedVariables) as info:
        environment.described(tmp_path, ("claude_assets",))
    message = str(info.value)
    assert "CLAUDE_ASSETS_LOG_LEVEL (in claude_assets.reader) has no description" in message
    assert "CLAUDE_ASSETS_WAREHOUSE is described" in message  # and those the tree no longer reads


def test_the_source_reads_exactly_the_variables_described():
    found = environment.read_in_source()
    assert set(found) == {v.name for v in environment.VARIABLES if v.in_source}

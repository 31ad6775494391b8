"""A warehouse file DuckDB would name like one of the project's schemas is refused when the code location is
built, naming the file and the fix (``raw.duckdb`` is the database ``raw``: ``raw.console_cost`` is ambiguous)."""

from __future__ import annotations

import warnings

import dagster as dg
import duckdb
import pytest

from claude_assets.config import WAREHOUSE_SCHEMAS, ConfigError, check_warehouse_path, database_name
from claude_assets.definitions import build_definitions
from demo import settings as demo_config

SHADOWING = [
    "raw.duckdb",
    "RAW.duckdb",
    "raw",
    ".raw",
    "raw.v1.duckdb",
    "facts.db",
    "exports.duckdb",
    "inventory.duckdb",
    "information_schema.duckdb",
]
FINE = ["warehouse.duckdb", "my-raw.duckdb", "raw_data.duckdb", "rawdata.duckdb", "facts2.duckdb"]


@pytest.mark.bad_input
@pytest.mark.parametrize("name", SHADOWING)
def test_a_file_named_after_a_schema_is_refused_naming_the_file_and_the_fix(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(ConfigError) as caught:
        build_definitions(demo_config.project_config(), str(path))
    message = str(caught.value)
    assert f"warehouse file {path}:" in message
    assert f"the schema {database_name(path).lower()}" in message
    assert f"e.g. {tmp_path / 'warehouse.duckdb'}" in message and "CLAUDE_ASSETS_WAREHOUSE" in message


@pytest.mark.parametrize("name", FINE)
def test_other_names_are_kept(tmp_path, name):
    assert check_warehouse_path(tmp_path / name) == str(tmp_path / name)


@pytest.mark.parametrize("name", SHADOWING + FINE)
def test_the_name_checked_is_the_one_duckdb_gives_the_database(tmp_path, name):
    with duckdb.connect(str(tmp_path / name)) as con:
        assert con.execute("SELECT current_database()").fetchone()[0] == database_name(tmp_path / name)


#: a query of each schema, as the project (or DuckDB's catalog views) would run it
QUERY = {
    "information_schema": "SELECT count(*) FROM information_schema.tables",
    "pg_catalog": "SELECT count(*) FROM pg_catalog.pg_class",
}


@pytest.mark.parametrize("schema", sorted(WAREHOUSE_SCHEMAS))
def test_each_refused_name_does_shadow_its_schema_in_duckdb(tmp_path, schema):
    with duckdb.connect(str(tmp_path / f"{schema}.duckdb")) as con:
        if schema not in QUERY:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        with pytest.raises(duckdb.BinderException, match="Ambiguous reference"):
            con.execute(QUERY.get(schema, f"CREATE TABLE {schema}.t (i INT)"))


def test_every_schema_the_code_location_writes_is_refused_as_a_file_name(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        defs = build_definitions(demo_config.project_config(), str(tmp_path / "warehouse.duckdb"))
    # the external source assets (anthropic/...) stand for the API: nothing writes them
    schemas = {key.path[0] for a in defs.assets if a.is_executable for key in a.keys}
    assert schemas and schemas <= WAREHOUSE_SCHEMAS

"""The Dagster code location loads."""

import dagster as dg


def test_definitions_load():
    from claude_assets.definitions import defs

    assert isinstance(defs, dg.Definitions)
    dg.Definitions.validate_loadable(defs)

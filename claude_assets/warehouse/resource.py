"""The warehouse resource: dagster-duckdb's ``DuckDBResource``, with its connection closed when a write fails too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster_duckdb import DuckDBResource


class Warehouse(DuckDBResource):
    """The DuckDB warehouse every asset, check and sensor of the project reads and writes.

    ``DuckDBResource.get_connection`` closes its connection only when the block inside succeeds: after a
    refused write the connection, and the file's write lock with it, lived on until garbage collection,
    so another process (a sensor, the next run) waited for the lock or failed on it
    (dagster-io/dagster#19068). This closes it whatever happens.
    """

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as con:
            try:
                yield con
            finally:
                con.close()

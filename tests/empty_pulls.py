"""One pull of a day that brought no rows, logged in ``raw.ingest_log`` as the runner logs it: what the
sensors of provisional days, readiness and metric revisions read."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from claude_assets.warehouse.contract import Table
from claude_assets.warehouse.writes import DayCompleteness, WindowWrite, write_windows


def log_empty_pull(
    warehouse: Path,
    org: str,
    tables: tuple[Table, ...],
    day: date,
    state: DayCompleteness,
    *,
    run_id: str,
    fetched_at: datetime,
    request: str = "GET /v1/organizations/example",
) -> None:
    with duckdb.connect(str(warehouse)) as con:
        write_windows(
            con,
            WindowWrite(
                org_id=org,
                start=day,
                end=day + timedelta(days=1),
                frames={t: pd.DataFrame(columns=t.column_names) for t in tables},
                requests={day: request},
                fetched_at=fetched_at.isoformat(),
                run_id=run_id,
                completeness={day: state},
            ),
        )

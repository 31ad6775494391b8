"""The delivery log ``insights.alert_log``: what was posted where, claimed before each request and
completed after it, so an alert is never posted twice to a destination.

State of an alert for a destination, from its rows: ``sent`` if one request was answered 2xx;
else ``unknown`` if a request was recorded but never answered (the process stopped while posting:
it may have arrived, so it is not posted again; see the README); else ``failed`` (posted again at
the next materialization); no row: new."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pandas as pd
import pandera.pandas as pa

from checks.schemas import NON_NEGATIVE, staged_schema
from checks.window import validate
from claude_assets.insights.alerts.payloads import Alert
from claude_assets.insights.alerts.tables import ALERT_LOG, KINDS_OF_ALERT, OUTCOMES
from claude_assets.warehouse.writes import ensure, transaction

LOG_SCHEMA = staged_schema(
    ALERT_LOG,
    {
        "kind": [pa.Check.isin(list(KINDS_OF_ALERT), error="must be anomaly or budget_crossing")],
        "outcome": [pa.Check.isin(list(OUTCOMES), error="must be sent, failed or unknown")],
        "attempt": [pa.Check.ge(1, error="attempts count from 1")],
        "http_status": [NON_NEGATIVE],
        "endpoint": [pa.Check.str_matches(r"^https?://[^/]+/…$", error="must show no path (it is secret)")],
        "alert_key": [pa.Check.str_matches(r"^(anomaly|budget_crossing):.+", error="must be kind:id")],
    },
)


@dataclass(frozen=True)
class Attempt:
    """One request about to be made: the log row it was claimed as."""

    alert: Alert
    destination: str
    endpoint: str
    attempt: int
    sent_at: datetime
    run_id: str


@dataclass(frozen=True)
class Outstanding:
    """An alert not delivered to a destination: its last request's answer."""

    alert_key: str
    alert_day: date
    destination: str
    outcome: str  # failed | unknown
    attempts: int
    http_status: int | None
    answer: str | None


def ensure_log(con: duckdb.DuckDBPyConnection) -> None:
    ensure(con, ALERT_LOG)


def states(con: duckdb.DuckDBPyConnection, destination: str) -> dict[str, str]:
    """alert_key -> sent | unknown | failed for one destination (an alert never posted is absent)."""
    rows = con.execute(
        f"SELECT alert_key, CASE WHEN bool_or(outcome = 'sent') THEN 'sent' "
        f"WHEN bool_or(outcome = 'unknown') THEN 'unknown' ELSE 'failed' END "
        f"FROM {ALERT_LOG.qualified} WHERE destination = ? GROUP BY alert_key",
        [destination],
    ).fetchall()
    return dict(rows)


def failed_alerts(con: duckdb.DuckDBPyConnection, destination: str) -> list[Alert]:
    """The alerts of any day whose every request to ``destination`` failed, as last posted."""
    rows = con.execute(
        f"SELECT alert_key, kind, alert_day, payload FROM {ALERT_LOG.qualified} WHERE destination = ? "
        "WINDOW w AS (PARTITION BY alert_key) "
        "QUALIFY bool_and(outcome = 'failed') OVER w AND attempt = max(attempt) OVER w "
        "ORDER BY alert_day, alert_key",
        [destination],
    ).fetchall()
    return [Alert(key, kind, day, json.loads(payload)) for key, kind, day, payload in rows]


def claim(
    con: duckdb.DuckDBPyConnection, alert: Alert, destination: str, endpoint: str, run_id: str
) -> Attempt | None:
    """Record the next request of ``alert`` to ``destination`` (outcome ``unknown``) before it is made,
    in one transaction with the check that it was neither sent nor left unknown; None if it was."""
    with transaction(con):
        taken, last = con.execute(
            f"SELECT count(*) FILTER (WHERE outcome IN ('sent', 'unknown')), coalesce(max(attempt), 0) "
            f"FROM {ALERT_LOG.qualified} WHERE alert_key = ? AND destination = ?",
            [alert.key, destination],
        ).fetchall()[0]
        if taken:
            return None
        attempt = Attempt(alert, destination, endpoint, last + 1, datetime.now(UTC), run_id)
        _insert(con, _row(attempt, "unknown", None, None, None))
    return attempt


def record(
    con: duckdb.DuckDBPyConnection, attempt: Attempt, outcome: str, http_status: int | None, answer: str
) -> None:
    """Complete the claimed row with the answer (``sent`` or ``failed``)."""
    answered_at = datetime.now(UTC)
    validate(LOG_SCHEMA, ALERT_LOG, _row(attempt, outcome, answered_at, http_status, answer))
    con.execute(
        f"UPDATE {ALERT_LOG.qualified} SET outcome = ?, answered_at = ?, http_status = ?, answer = ? "
        "WHERE alert_key = ? AND destination = ? AND attempt = ? AND outcome = 'unknown'",
        [outcome, answered_at, http_status, answer, attempt.alert.key, attempt.destination, attempt.attempt],
    )


def outstanding(con: duckdb.DuckDBPyConnection, destinations: list[str]) -> list[Outstanding]:
    """Every alert not delivered to one of ``destinations``: failed (to be posted again) or unknown."""
    if not destinations:
        return []
    marks = ", ".join("?" for _ in destinations)
    rows = con.execute(
        f"SELECT alert_key, alert_day, destination, outcome, attempt, http_status, answer "
        f"FROM {ALERT_LOG.qualified} WHERE destination IN ({marks}) "
        "WINDOW w AS (PARTITION BY alert_key, destination) "
        "QUALIFY NOT bool_or(outcome = 'sent') OVER w AND attempt = max(attempt) OVER w "
        "ORDER BY alert_day, alert_key, destination",
        destinations,
    ).fetchall()
    out = []
    for key, day, dest, outcome, attempts, status, answer in rows:
        out.append(Outstanding(key, day, dest, outcome, attempts, status, answer))
    return out


def _row(
    attempt: Attempt, outcome: str, answered_at: datetime | None, http_status: int | None, answer: str | None
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "alert_key": [attempt.alert.key],
            "kind": [attempt.alert.kind],
            "alert_day": [attempt.alert.day.isoformat()],
            "destination": [attempt.destination],
            "endpoint": [attempt.endpoint],
            "payload": [json.dumps(attempt.alert.payload, ensure_ascii=False)],
            "attempt": [attempt.attempt],
            "sent_at": [attempt.sent_at.isoformat()],
            "answered_at": [None if answered_at is None else answered_at.isoformat()],
            "http_status": pd.Series([http_status], dtype="Int64"),
            "answer": [answer],
            "outcome": [outcome],
            "run_id": [attempt.run_id],
        }
    )


def _insert(con: duckdb.DuckDBPyConnection, row: pd.DataFrame) -> None:
    validate(LOG_SCHEMA, ALERT_LOG, row)
    names = ", ".join(f'"{c}"' for c in ALERT_LOG.column_names)
    casts = ", ".join(f'CAST("{c.name}" AS {c.type})' for c in ALERT_LOG.columns)
    con.register("_alert_row", row[ALERT_LOG.column_names])
    try:
        con.execute(f"INSERT INTO {ALERT_LOG.qualified} ({names}) SELECT {casts} FROM _alert_row")
    finally:
        con.unregister("_alert_row")

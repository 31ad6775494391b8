"""Posting what was not yet sent: read the warehouse, post with the file closed, record each request.

The warehouse is opened briefly for each step (read the alerts and the log; claim a request; record
its answer), never while waiting on a webhook or a backoff, so other processes can write meanwhile."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date

import duckdb
import httpx

from claude_assets.config import AlertsConfig
from claude_assets.insights.alerts import ledger
from claude_assets.insights.alerts.destinations import Destination, destinations
from claude_assets.insights.alerts.payloads import Alert, new_alerts
from claude_assets.insights.alerts.post import Answer, post

#: after this many alerts in a row failed to a destination, the rest of the run tries each once (no backoff):
#: a receiver that is down does not hold a backfill for max_attempts waits per alert
DOWN_AFTER = 3

Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


@dataclass
class Report:
    """What one materialization did, per alert and destination."""

    alerts: int = 0  # alerts of the days materialized
    sent: list[tuple[str, str, int]] = field(default_factory=list)  # (alert_key, destination, attempts)
    failed: list[tuple[str, str, Answer]] = field(default_factory=list)  # the last answer
    already_sent: int = 0
    held_unknown: int = 0  # not posted: a request of an earlier run was never answered
    retried_from_earlier: int = 0  # failed alerts of earlier materializations posted again
    outstanding: list[ledger.Outstanding] = field(default_factory=list)  # after this run, every day
    destinations: list[Destination] = field(default_factory=list)


def deliver(
    connect: Connect,
    ranges: list[tuple[date, date]],
    config: AlertsConfig,
    run_id: str,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Post each alert of the day ranges ``[start, end)`` not yet sent (or left unknown) to each webhook, and
    every alert of earlier days whose requests all failed; record every request in the log."""
    report = Report(destinations=destinations(config))
    with connect() as con:
        ledger.ensure_log(con)
        fresh = [a for start, end in ranges for a in new_alerts(con, start, end, config.ui_base_url)]
        known = {d.name: ledger.states(con, d.name) for d in report.destinations}
        earlier = {d.name: ledger.failed_alerts(con, d.name) for d in report.destinations}
    report.alerts = len(fresh)
    own = client is None
    client = client or httpx.Client(timeout=config.timeout_seconds, follow_redirects=False)
    try:
        for dest in report.destinations:
            state = known[dest.name]
            report.already_sent += sum(state.get(a.key) == "sent" for a in fresh)
            report.held_unknown += sum(state.get(a.key) == "unknown" for a in fresh)
            todo = [a for a in fresh if state.get(a.key) in (None, "failed")]
            fresh_keys = {a.key for a in fresh}
            older = [a for a in earlier[dest.name] if a.key not in fresh_keys]
            report.retried_from_earlier += len(older)
            down = 0  # alerts in a row this destination failed: past DOWN_AFTER, one request each
            for alert in [*todo, *older]:
                tries = 1 if down >= DOWN_AFTER else config.max_attempts
                sent = _deliver_one(connect, client, dest, alert, tries, config, run_id, sleep, report)
                down = 0 if sent else down + 1
    finally:
        if own:
            client.close()
    with connect() as con:
        report.outstanding = ledger.outstanding(con, [d.name for d in report.destinations])
    return report


def _deliver_one(
    connect: Connect,
    client: httpx.Client,
    dest: Destination,
    alert: Alert,
    tries: int,
    config: AlertsConfig,
    run_id: str,
    sleep: Callable[[float], None],
    report: Report,
) -> bool:
    """Up to ``tries`` requests with exponential backoff, each claimed before and recorded after; whether
    the alert is (or already was) delivered."""
    for n in range(1, tries + 1):
        with connect() as con:
            attempt = ledger.claim(con, alert, dest.name, dest.endpoint, run_id)
        if attempt is None:  # sent or left unknown meanwhile
            return True
        answer = post(client, dest, alert.payload, alert.key)
        with connect() as con:
            ledger.record(con, attempt, "sent" if answer.sent else "failed", answer.http_status, answer.text)
        if answer.sent:
            report.sent.append((alert.key, dest.name, n))
            return True
        if not answer.retryable or n == tries:
            report.failed.append((alert.key, dest.name, answer))
            return False
        sleep(backoff(n, config, answer.retry_after))
    return False


def backoff(n: int, config: AlertsConfig, retry_after: float | None = None) -> float:
    """The wait after the ``n``-th request failed: ``backoff_seconds`` doubled each time, or what the
    receiver asked (Retry-After) if longer, never more than ``backoff_max_seconds``."""
    wait = config.backoff_seconds * 2 ** (n - 1)
    if retry_after is not None:
        wait = max(wait, retry_after)
    return min(wait, config.backoff_max_seconds)

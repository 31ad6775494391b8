"""Alerts to a local webhook receiver: each new anomaly and budget crossing posted once per webhook, across
re-runs of the same day and a restart; a failing receiver retried with backoff, then shown failed, and
posted again (once) when it recovers; Slack-compatible payloads linking to the asset; no webhook URL
anywhere the project writes."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta

import dagster as dg
import duckdb
import pytest

from claude_assets.config import AlertsConfig, ConfigError, ProjectConfig, Webhook, load_file
from claude_assets.insights.alerts import deliver as deliver_module
from claude_assets.insights.alerts import ledger
from claude_assets.insights.alerts.deliver import backoff, deliver
from claude_assets.insights.alerts.payloads import Alert
from claude_assets.warehouse.resource import Warehouse
from tests.alert_receiver import (
    DAY,
    HOOK_ENV,
    TOKEN_PATH,
    Receiver,
    add_anomaly,
    add_crossing,
    config,
    log_rows,
    materialize,
    run_in_new_process,
    serve,
)


@pytest.fixture
def warehouse(tmp_path):
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def receiver(monkeypatch):
    with serve(Receiver()) as running:
        monkeypatch.setenv(HOOK_ENV, running.url)
        yield running


def _check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def _meta(result: dg.ExecuteInProcessResult) -> dict:
    (materialization,) = result.asset_materializations_for_node("insights__alert_deliveries")
    return materialization.metadata


def _keys(received) -> list[str]:
    return sorted(r.headers["idempotency-key"] for r in received)


def test_each_alert_is_posted_once_across_two_reruns_of_the_same_day(warehouse, receiver):
    add_anomaly(warehouse, "a1")
    add_anomaly(warehouse, "a2", slice_="key_other")
    add_crossing(warehouse, "c80")
    first = materialize(warehouse)
    second = materialize(warehouse)
    assert first.success and second.success
    assert _keys(receiver.received) == ["anomaly:a1", "anomaly:a2", "budget_crossing:c80"]
    assert [r["outcome"] for r in log_rows(warehouse)] == ["sent"] * 3
    assert _meta(second)["run_already_sent"].value == 3
    assert _check(first).passed and _check(second).passed


def test_only_new_alerts_are_posted_after_a_restart(warehouse, receiver):
    add_anomaly(warehouse, "a1")
    add_crossing(warehouse, "c50", pct="50", basis="actual")
    run_in_new_process(warehouse, receiver.url)  # a process that ends; the next one reads the same warehouse
    add_crossing(warehouse, "c80")  # found by a later run of the budgets, same day
    run_in_new_process(warehouse, receiver.url)
    materialize(warehouse)  # and a third process (this one)
    assert _keys(receiver.received) == ["anomaly:a1", "budget_crossing:c50", "budget_crossing:c80"]
    assert {(r["alert_key"], r["attempt"], r["outcome"]) for r in log_rows(warehouse)} == {
        ("anomaly:a1", 1, "sent"),
        ("budget_crossing:c50", 1, "sent"),
        ("budget_crossing:c80", 1, "sent"),
    }


def test_the_warehouse_is_free_for_another_writer_while_a_webhook_answers(warehouse, receiver):
    add_anomaly(warehouse, "a1")
    receiver.script = [500]  # a retry too: the backoff does not hold the file either

    def another_process_writes() -> int:
        code = (
            "import sys, duckdb; con = duckdb.connect(sys.argv[1]); "
            "con.execute('CREATE TABLE IF NOT EXISTS scratch (n INTEGER)'); con.execute('INSERT INTO scratch VALUES (1)')"
        )
        return subprocess.run(
            [sys.executable, "-c", code, str(warehouse)], capture_output=True, timeout=60
        ).returncode

    receiver.on_request = another_process_writes
    assert materialize(warehouse).success
    assert receiver.seen_during_requests == [0, 0]  # both writes succeeded while the requests were open
    assert _keys(receiver.delivered) == ["anomaly:a1"]


def test_a_claim_is_refused_once_sent_or_left_unknown(warehouse):
    alert = Alert("anomaly:a1", "anomaly", DAY, {"text": "t", "blocks": []})
    with duckdb.connect(str(warehouse)) as con:
        ledger.ensure_log(con)
        first = ledger.claim(con, alert, "ops", "https://h.example/…", "run")
        assert first is not None and first.attempt == 1
        assert ledger.claim(con, alert, "ops", "https://h.example/…", "run") is None  # unknown: in flight
        ledger.record(con, first, "failed", 500, "boom")
        second = ledger.claim(con, alert, "ops", "https://h.example/…", "run")
        assert second is not None and second.attempt == 2
        ledger.record(con, second, "sent", 200, "ok")
        assert ledger.claim(con, alert, "ops", "https://h.example/…", "run") is None
        assert ledger.claim(con, alert, "other", "https://h.example/…", "run") is not None  # per destination


def test_a_failing_receiver_is_retried_then_the_alert_is_shown_failed(warehouse, receiver):
    receiver.then = 500
    add_anomaly(warehouse, "a1")
    result = materialize(warehouse)
    assert result.success  # the deliveries are recorded; the check says they failed
    assert len(receiver.received) == 3  # max_attempts
    rows = log_rows(warehouse)
    assert [(r["attempt"], r["outcome"], r["http_status"]) for r in rows] == [
        (i, "failed", 500) for i in (1, 2, 3)
    ]
    check = _check(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["failed"].value == 1
    assert "anomaly:a1" in check.metadata["outstanding"].value


def test_timeouts_are_retried_and_the_retries_carry_the_same_alert_key(warehouse, receiver):
    receiver.script = [("sleep", 2.5), ("sleep", 2.5)]  # twice later than timeout_seconds, then 200
    add_crossing(warehouse, "c80")
    result = materialize(warehouse, config(timeout_seconds=1))
    assert [(r["attempt"], r["outcome"]) for r in log_rows(warehouse)] == [
        (1, "failed"),
        (2, "failed"),
        (3, "sent"),
    ]
    assert "ReadTimeout" in log_rows(warehouse)[0]["answer"]
    assert _keys(receiver.delivered) == ["budget_crossing:c80"]
    assert {r.headers["idempotency-key"] for r in receiver.received} == {"budget_crossing:c80"}
    assert _check(result).passed


def test_a_receiver_that_recovers_gets_the_alert_at_the_next_materialization_once(warehouse, receiver):
    receiver.then = 503
    add_anomaly(warehouse, "a1")
    assert not _check(materialize(warehouse)).passed
    receiver.then = 200
    next_day = DAY + timedelta(days=1)  # the next day's materialization posts what failed before
    recovered = materialize(warehouse, day=next_day)
    again = materialize(warehouse, day=next_day)
    assert _keys(receiver.delivered) == ["anomaly:a1"]
    assert [r["outcome"] for r in log_rows(warehouse)] == ["failed", "failed", "failed", "sent"]
    assert _meta(recovered)["run_retried_from_earlier"].value == 1
    assert _check(recovered).passed and _check(again).passed


def test_a_refusal_is_not_retried_in_the_same_run(warehouse, receiver):
    receiver.script = [404]
    add_anomaly(warehouse, "a1")
    assert not _check(materialize(warehouse)).passed
    assert len(receiver.received) == 1  # 404: the webhook is gone; tried again at the next materialization
    materialize(warehouse)
    assert _keys(receiver.delivered) == ["anomaly:a1"]


def test_a_request_never_answered_is_left_unknown_and_not_posted_again(warehouse, receiver, monkeypatch):
    add_anomaly(warehouse, "a1")

    def crash(*args, **kwargs):
        raise RuntimeError("the process stopped between the request and its record")

    with monkeypatch.context() as patched:
        patched.setattr(ledger, "record", crash)
        assert not materialize(warehouse).success
    assert len(receiver.received) == 1
    after = materialize(warehouse)
    assert len(receiver.received) == 1  # it may have arrived: not posted again
    assert [r["outcome"] for r in log_rows(warehouse)] == ["unknown"]
    check = _check(after)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["unknown"].value == 1


def test_the_payload_is_slack_compatible_and_links_to_the_asset_partition(warehouse, receiver):
    add_anomaly(warehouse, "a1")
    add_crossing(warehouse, "c80")
    materialize(warehouse)
    by_key = {r.headers["idempotency-key"]: r for r in receiver.received}
    for key, asset in (
        ("anomaly:a1", "insights/cost_anomalies"),
        ("budget_crossing:c80", "insights/budget_status"),
    ):
        request = by_key[key]
        assert request.headers["content-type"] == "application/json"
        body = request.body
        assert isinstance(body["text"], str) and body["text"]
        assert {b["type"] for b in body["blocks"]} <= {"section", "context", "divider", "actions", "header"}
        for block in body["blocks"]:
            texts = [block["text"]] if "text" in block else block["elements"]
            for text in texts:
                assert text["type"] in ("mrkdwn", "plain_text") and 0 < len(text["text"]) <= 3000
        link = f"<http://dagster.example:3000/assets/{asset}?view=partitions&partition={DAY.isoformat()}|"
        assert any(link in b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
    crossing = by_key["budget_crossing:c80"].body
    assert "80% crossed on forecast on 2026-03-10" in crossing["text"]
    assert "$1,500.00" in crossing["text"]
    assert "&lt;&amp; co&gt;" in crossing["blocks"][0]["text"]["text"]  # mrkdwn's control characters escaped
    assert "key_runaway" in by_key["anomaly:a1"].body["text"]


def test_the_webhook_url_is_never_written_unredacted(warehouse, receiver, caplog, capfd):
    caplog.set_level(logging.DEBUG)  # httpx logs each request's URL at INFO
    receiver.then = 500
    receiver.echo_url = True  # and the receiver quotes it back in its error
    add_anomaly(warehouse, "a1")
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(warehouse, instance=instance)
    secret = TOKEN_PATH.rsplit("/", 1)[-1]
    written = [
        *(str(r) for r in log_rows(warehouse)),
        *(record.getMessage() for record in caplog.records),
        *(str(e) for e in instance.all_logs(result.run_id)),
        *capfd.readouterr(),
    ]
    assert any("127.0.0.1" in text for text in written)  # the host is shown...
    assert [text for text in written if secret in text or "B0TESTING" in text] == []  # ...never the path
    assert {r["endpoint"] for r in log_rows(warehouse)} == {
        f"http://127.0.0.1:{receiver.url.split(':')[2].split('/')[0]}/…"
    }


def test_backoff_doubles_up_to_its_bound_and_honours_retry_after(warehouse, receiver):
    receiver.script = [429, 500, 500]
    add_anomaly(warehouse, "a1")
    settings = AlertsConfig(
        webhooks=(Webhook(name="ops", url_env=HOOK_ENV),),
        max_attempts=4,
        backoff_seconds=1,
        backoff_max_seconds=3,
    )
    waits: list[float] = []
    report = deliver(
        Warehouse(database=str(warehouse)).get_connection,
        [(DAY, DAY + timedelta(days=1))],
        settings,
        "run",
        sleep=waits.append,
    )
    assert waits == [1, 2, 3]  # 1, 2, 4 capped at 3
    assert [key for key, _, _ in report.sent] == ["anomaly:a1"]
    assert backoff(1, settings, retry_after=2.5) == 2.5 and backoff(1, settings, retry_after=60) == 3


def test_a_receiver_that_is_down_does_not_hold_the_run_for_every_alert(warehouse, receiver):
    receiver.then = 500
    for i in range(6):
        add_anomaly(warehouse, f"a{i}", slice_=f"key_{i}")
    settings = config().alerts
    waits: list[float] = []
    deliver(
        Warehouse(database=str(warehouse)).get_connection,
        [(DAY, DAY + timedelta(days=1))],
        settings,
        "run",
        sleep=waits.append,
    )
    # the first DOWN_AFTER alerts get max_attempts requests each, the rest one each
    down = deliver_module.DOWN_AFTER
    assert len(receiver.received) == down * settings.max_attempts + (6 - down)
    assert len(waits) == down * (settings.max_attempts - 1)


def test_no_webhook_configured_posts_nothing_and_says_so(warehouse, receiver):
    add_anomaly(warehouse, "a1")
    result = materialize(warehouse, config(webhooks=()))
    assert result.success and receiver.received == []
    meta = _meta(result)
    assert meta["run_alerts_of_these_days"].value == 1 and "none configured" in meta["run_webhooks"].value


@pytest.mark.bad_input
def test_an_unset_webhook_variable_fails_the_run_naming_it(warehouse, monkeypatch):
    monkeypatch.delenv(HOOK_ENV, raising=False)
    add_anomaly(warehouse, "a1")
    result = materialize(warehouse)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.to_string()
    assert f"alerts.webhooks[ops].url_env: environment variable {HOOK_ENV} is not set" in message


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "hook, expected",
    [
        ({"name": "ops"}, "exactly one of url and url_env"),
        ({"name": "ops", "url": "https://h.example/x", "url_env": "V"}, "exactly one of url and url_env"),
        (
            {"name": "ops", "url": "http://hooks.example.com/services/T/B/s3cret"},
            "http:// is refused for hooks.example.com",
        ),
        (
            {"name": "ops", "url": "hooks.example.com/services/T/B/s3cret"},
            "must be an http:// or https:// URL",
        ),
    ],
)
def test_a_wrong_webhook_is_refused_without_showing_its_url(hook, expected):
    with pytest.raises(ValueError) as refused:
        ProjectConfig(alerts={"webhooks": [hook]})
    assert expected in str(refused.value)
    assert "s3cret" not in str(refused.value)


@pytest.mark.bad_input
def test_a_webhook_variable_holding_no_url_is_refused_naming_the_variable():
    hook = Webhook(name="ops", url_env="OPS_HOOK")
    with pytest.raises(
        ConfigError, match=r"alerts.webhooks\[ops\].url_env: environment variable OPS_HOOK: must be"
    ):
        hook.resolved_url({"OPS_HOOK": "not a url/s3cret"})


def test_the_log_is_validated_by_its_schema(warehouse, receiver):
    add_anomaly(warehouse, "a1")
    materialize(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute("SELECT * FROM insights.alert_log").df()
    frame["outcome"] = "delivered"
    with pytest.raises(Exception, match="must be sent, failed or unknown"):
        from checks.window import validate

        validate(ledger.LOG_SCHEMA, ledger.ALERT_LOG, frame.astype(object))


def test_the_alerts_settings_are_read_from_the_configuration_file(tmp_path):
    path = tmp_path / "orgs.yaml"
    path.write_text(
        "organizations:\n"
        "  - {slug: acme-console, kind: console, key_env: ACME_KEY}\n"
        "alerts:\n"
        "  webhooks:\n"
        "    - name: ops-slack\n"
        "      url_env: OPS_SLACK_WEBHOOK_URL\n"
        "  ui_base_url: https://dagster.example.com/\n"
        "  max_attempts: 2\n"
    )
    settings = load_file(path).alerts
    assert [w.url_env for w in settings.webhooks] == ["OPS_SLACK_WEBHOOK_URL"]
    assert settings.ui_base_url == "https://dagster.example.com" and settings.max_attempts == 2
    assert settings.backoff_seconds == 1.0 and settings.timeout_seconds == 10.0  # the documented defaults
    assert ProjectConfig().alerts.ui_base_url == "http://127.0.0.1:3000"
    in_file = ProjectConfig(
        alerts={"webhooks": [{"name": "ops", "url": "https://h.example/services/s3cretT0ken"}]}
    )
    assert "s3cretT0ken" not in repr(in_file) and "s3cretT0ken" not in str(in_file)


@pytest.mark.bad_input
def test_a_wrong_alerts_setting_names_file_line_and_field_and_never_the_url(tmp_path):
    path = tmp_path / "orgs.yaml"
    path.write_text(
        "organizations:\n"
        "  - {slug: acme-console, kind: console, key_env: ACME_KEY}\n"
        "alerts:\n"
        "  webhooks:\n"
        "    - name: ops\n"
        "      url: http://hooks.example.com/services/T0/B0/s3cretT0ken\n"
        "  max_attempts: 0\n"
    )
    with pytest.raises(ConfigError) as refused:
        load_file(path)
    message = str(refused.value)
    assert (
        f"{path}:6: alerts.webhooks[0].url: Value error, http:// is refused for hooks.example.com" in message
    )
    assert f"{path}:7: alerts.max_attempts:" in message
    assert "s3cretT0ken" not in message

"""The status page's HTTP side on a real Watchdog: /api/v1/status, the acks API and its codes, the
page's headers, and what an ack does to notifications."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from runtime_helpers import sql
from status_helpers import TOKEN, firing

from artifacts.servers import Receiver, eventually
from watchdog import Watchdog
from watchdog.runtime.web import CSP

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ACK = {"rule": "jobs_stuck", "for": "4h", "comment": "worker restarted, draining", "by": "ana"}


@pytest.fixture
def running(make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver) -> tuple[Watchdog, str]:
    return firing(make_watchdog, jobs_db, receiver)


def test_status_json_has_every_rule_the_firing_alert_with_its_samples_and_the_targets(running: tuple[Watchdog, str]) -> None:
    _, base = running
    response = requests.get(f"{base}/api/v1/status", timeout=5)
    assert response.headers["Content-Type"] == "application/json"
    document = response.json()
    states = {(r["rule"], r["target"]): r["state"] for r in document["rules"]}
    assert states == {("jobs_stuck", "main"): "firing", ("jobs_counted", "main"): "ok", ("never_runs", "gone"): "error"}
    assert [r["rule"] for r in document["rules"]][0] == "jobs_stuck"  # the worst first
    [alert] = [a for a in document["alerts"] if a["rule"] == "jobs_stuck"]
    assert alert["summary"] == "1 jobs pending for more than 5 minutes" and alert["violations"] == 1
    assert alert["runbook_url"] == "https://example.org/runbooks/jobs-stuck" and alert["ack"] is None
    assert alert["samples"][0]["status"] == "pending" and alert["since"].endswith("Z")
    rule = next(r for r in document["rules"] if r["rule"] == "jobs_stuck")
    assert rule["alerts"] == [alert["fingerprint"]] and rule["silences"] == []
    assert rule["last_evaluation"].endswith("Z") and rule["duration_seconds"] >= 0
    assert {t["name"]: t["state"] for t in document["targets"]} == {"main": "up", "gone": "down"}
    assert document["counts"]["firing"] == 1 and document["counts"]["error"] == 1


@pytest.mark.parametrize(("headers", "body", "status", "complaint"), [
    ({}, ACK, 401, "valid token"),
    ({"Authorization": "Bearer wrong-token"}, ACK, 401, "valid token"),
    (AUTH, "not json", 400, "not JSON"),
    (AUTH, {**ACK, "for": "a while"}, 400, "bad duration"),
    (AUTH, {**ACK, "comment": ""}, 400, "'comment' is required"),
    (AUTH, {**ACK, "rule": "no_such_rule"}, 404, "no rule 'no_such_rule'"),
    (AUTH, {**ACK, "target": "elsewhere"}, 404, "does not run on target 'elsewhere'"),
    (AUTH, {**ACK, "rule": "jobs_counted"}, 409, "no firing alert"),
])
def test_the_acks_api_refuses_with_the_right_code(running: tuple[Watchdog, str], headers: dict[str, str], body: object,
                                                  status: int, complaint: str) -> None:
    watchdog, base = running
    data = body.encode() if isinstance(body, str) else None
    response = requests.post(f"{base}/api/v1/acks", headers=headers, data=data, json=None if data else body, timeout=5)
    assert response.status_code == status and complaint in response.json()["error"]
    assert all(a.ack is None for a in watchdog.status().alerts)


def test_the_write_api_is_off_without_a_token(make_watchdog: Callable[..., Watchdog], jobs_db: Path,
                                              receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_API_TOKEN", raising=False)
    _, base = firing(make_watchdog, jobs_db, receiver, token=None)
    response = requests.post(f"{base}/api/v1/acks", headers=AUTH, json=ACK, timeout=5)
    assert response.status_code == 403 and "write API is off" in response.json()["error"]


def test_an_ack_is_shown_logged_without_the_token_and_carried_by_the_resolve(
        running: tuple[Watchdog, str], jobs_db: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    _, base = running
    with caplog.at_level("INFO", logger="watchdog.run"):
        response = requests.post(f"{base}/api/v1/acks", headers=AUTH, json=ACK, timeout=5)
    assert response.status_code == 201
    created = response.json()
    assert (created["ack"]["by"], created["ack"]["comment"]) == ("ana", "worker restarted, draining")
    assert [(a["rule"], a["target"]) for a in created["alerts"]] == [("jobs_stuck", "main")]
    [alert] = [a for a in requests.get(f"{base}/api/v1/status", timeout=5).json()["alerts"] if a["rule"] == "jobs_stuck"]
    assert alert["ack"] == created["ack"]
    assert any("acknowledged" in r.getMessage() and "ana" in r.getMessage() for r in caplog.records)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)

    sql(jobs_db, "UPDATE jobs SET status = 'done'")
    resolved = eventually(lambda: [d for d in receiver.at("/hook") if d["status"] == "resolved"], "the resolve", timeout=20)
    assert resolved[0]["ack"] == created["ack"]
    assert [d["ack"] for d in receiver.at("/hook") if d["status"] == "firing"] == [None]  # the first page came before it


def test_the_pages_carry_a_strict_csp_and_an_unknown_rule_is_a_404_page(running: tuple[Watchdog, str]) -> None:
    _, base = running
    for path in ("/", "/rules/jobs_stuck"):
        page = requests.get(f"{base}{path}", timeout=5)
        assert page.status_code == 200 and page.headers["Content-Security-Policy"] == CSP
        assert "<script" not in page.text and 'name="viewport"' in page.text
    missing = requests.get(f"{base}/rules/no_such_rule", timeout=5)
    assert missing.status_code == 404 and missing.headers["Content-Security-Policy"] == CSP
    assert "Not found" in missing.text
    css = requests.get(f"{base}/static/style.css", timeout=5)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css") and "@media" in css.text


def test_the_rule_page_shows_its_sql_with_a_variables_value_masked_and_user_text_escaped(
        make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver, write_rules: Callable[..., Path]) -> None:
    rules = write_rules(f"""
        version: 1
        targets:
          main: {{dsn: "sqlite:///{jobs_db}"}}
        rules:
          - name: jobs_odd
            check: count
            table: jobs
            where: {{status: "${{ODD_STATUS}}"}}
            expect: "== 0"
            summary: "<script>alert(1)</script> {{{{ violations }}}}"
        """)
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('hush-hush', datetime('now'))")
    watchdog = Watchdog.from_file(rules, env={"ODD_STATUS": "hush-hush"}, listen="127.0.0.1:0", state=jobs_db.parent / "s.db")
    try:
        watchdog.start()
        base = f"http://{watchdog.address}"
        eventually(lambda: requests.get(f"{base}/api/v1/status", timeout=5).json()["alerts"], "the alert", timeout=20, every=0.1)
        page = requests.get(f"{base}/rules/jobs_odd", timeout=5).text
        assert "*** (from a variable)" in page and "hush-hush" not in page
        index = requests.get(f"{base}/", timeout=5).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index and "<script>" not in index
    finally:
        watchdog.stop(timeout=2)


def test_a_silenced_rule_shows_silenced_with_its_silences(make_watchdog: Callable[..., Watchdog], jobs_db: Path,
                                                          receiver: Receiver) -> None:
    silences = """
silences:
  - name: migration
    match: {rule: jobs_stuck}
    from: 2000-01-01T00:00:00Z
    until: 2999-01-01T00:00:00Z
    comment: the processor is off during the migration
  - name: nightly
    match: {target: main}
    cron: "0 2 * * *"
    duration: 1m
    timezone: Europe/Berlin
"""
    _, base = firing(make_watchdog, jobs_db, receiver, extra=silences)
    document = requests.get(f"{base}/api/v1/status", timeout=5).json()
    rules = {r["rule"]: r for r in document["rules"]}
    assert rules["jobs_stuck"]["state"] == "silenced" and document["counts"]["silenced"] == 1
    migration, nightly = rules["jobs_stuck"]["silences"]
    assert migration == {"name": "migration", "active": True, "comment": "the processor is off during the migration",
                         "window": "2000-01-01 00:00 UTC to 2999-01-01 00:00 UTC; now, until 2999-01-01 00:00 UTC"}
    assert nightly["name"] == "nightly" and nightly["window"].startswith("0 2 * * * (Europe/Berlin) for 1m")
    assert [s["name"] for s in rules["jobs_counted"]["silences"]] == ["nightly"]
    assert rules["never_runs"]["silences"] == []
    page = requests.get(f"{base}/rules/jobs_stuck", timeout=5).text
    assert "migration" in page and "the processor is off during the migration" in page
    assert not receiver.at("/hook")  # silenced: nothing paged

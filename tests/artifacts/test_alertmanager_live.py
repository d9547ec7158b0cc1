"""alerts/alertmanager.example.yml in the real Alertmanager: routes by severity to Slack and webhooks,
renders the Slack templates, inhibits a target's per-rule alerts while it is down, sends resolutions."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from artifacts.servers import Daemon, Receiver, eventually, example_alertmanager_config, http_json, start_alertmanager
from artifacts.tools import ALERTMANAGER_EXAMPLE

pytestmark = pytest.mark.e2e


@pytest.fixture
def alertmanager(alertmanager_binary: str, receiver: Receiver, tmp_path: Path) -> Iterator[Daemon]:
    daemon = start_alertmanager(alertmanager_binary, example_alertmanager_config(ALERTMANAGER_EXAMPLE, receiver, tmp_path), tmp_path)
    yield daemon
    daemon.stop()


def post(alertmanager: Daemon, labels: dict[str, str], resolved: bool = False, **annotations: str) -> None:
    now = datetime.now(timezone.utc)
    alert: dict[str, Any] = {"labels": labels, "annotations": annotations, "startsAt": (now - timedelta(minutes=1)).isoformat()}
    if resolved:
        alert["endsAt"] = now.isoformat()
    http_json(f"{alertmanager.url}/api/v2/alerts", [alert])


def slack_messages(receiver: Receiver, channel: str) -> list[dict[str, Any]]:
    return [m for m in receiver.at("/slack") if m.get("channel") == channel]


def test_critical_pages_through_slack_and_the_pager_webhook_then_resolves(alertmanager: Daemon, receiver: Receiver) -> None:
    labels = {"alertname": "jobs_stuck", "rule": "jobs_stuck", "target": "main", "check": "stuck", "severity": "critical"}
    post(alertmanager, labels, summary="3 jobs pending for more than 5 minutes",
         runbook_url="https://example.org/runbooks/stuck", violations="3")
    [message] = eventually(lambda: slack_messages(receiver, "#scheduler-incidents"), "the Slack message")
    [attachment] = message["attachments"]
    assert attachment["title"] == "[FIRING:1] jobs_stuck on main"
    assert "*3 jobs pending for more than 5 minutes* (critical)" in attachment["text"]
    assert "Runbook: <https://example.org/runbooks/stuck>" in attachment["text"]
    assert "Rule `jobs_stuck` (stuck check) on target `main`" in attachment["text"]
    [page] = eventually(lambda: receiver.at("/pager"), "the pager webhook")
    assert page["status"] == "firing" and page["commonLabels"]["rule"] == "jobs_stuck"

    post(alertmanager, labels, resolved=True, summary="3 jobs pending for more than 5 minutes")
    resolved = eventually(lambda: [p for p in receiver.at("/pager") if p["status"] == "resolved"], "the resolution")
    assert resolved[0]["alerts"][0]["labels"]["rule"] == "jobs_stuck"


def test_warnings_info_and_the_heartbeat_go_to_their_receivers(alertmanager: Daemon, receiver: Receiver) -> None:
    post(alertmanager, {"alertname": "WatchdogProbeFailing", "rule": "r", "target": "main", "severity": "warning"})
    post(alertmanager, {"alertname": "proof_started", "rule": "proof_started", "target": "main", "severity": "info"})
    post(alertmanager, {"alertname": "WatchdogHeartbeat", "severity": "none"})
    eventually(lambda: slack_messages(receiver, "#scheduler-warnings"), "the warning in Slack")
    eventually(lambda: slack_messages(receiver, "#scheduler-info"), "the info in Slack")
    [beat] = eventually(lambda: receiver.at("/heartbeat"), "the heartbeat")
    assert beat["commonLabels"]["alertname"] == "WatchdogHeartbeat"
    assert receiver.at("/pager") == []


def test_a_down_target_inhibits_its_per_rule_alerts_only(alertmanager: Daemon, receiver: Receiver) -> None:
    post(alertmanager, {"alertname": "WatchdogTargetDown", "target": "replica", "severity": "critical"})
    # Alertmanager's inhibitor learns of a source alert on its own, a moment after the API takes it:
    # a target alert posted in that moment can be paged (seen under CI's load). Once the source has
    # paged, the inhibitor has it.
    eventually(lambda: receiver.at("/pager") or None, "the target-down page")
    post(alertmanager, {"alertname": "jobs_stuck", "rule": "jobs_stuck", "target": "replica", "severity": "critical"})
    post(alertmanager, {"alertname": "jobs_stuck", "rule": "jobs_stuck", "target": "main", "severity": "critical"})

    def states() -> dict[str, str] | None:
        alerts = http_json(f"{alertmanager.url}/api/v2/alerts")
        found = {f"{a['labels']['alertname']}@{a['labels']['target']}": a["status"]["state"] for a in alerts}
        return found if len(found) == 3 and "unprocessed" not in found.values() else None

    assert eventually(states, "Alertmanager to process the alerts") == {
        "WatchdogTargetDown@replica": "active", "jobs_stuck@replica": "suppressed", "jobs_stuck@main": "active"}
    pages = eventually(lambda: receiver.at("/pager") if len(receiver.at("/pager")) >= 2 else None, "two pages")
    paged = sorted(f"{p['commonLabels']['alertname']}@{p['commonLabels']['target']}" for p in pages)
    assert paged == ["WatchdogTargetDown@replica", "jobs_stuck@main"]

"""Alertmanager API v2: labels identify the alert, firing alerts carry no endsAt, resolved ones do."""
from __future__ import annotations

from notify_helpers import Server, notification, resolved

from watchdog.notify.alertmanager import AlertmanagerNotifier


def sent(server: Server, note: object, generator_url: str | None = None) -> list[dict[str, object]]:
    AlertmanagerNotifier(server.url + "/", generator_url=generator_url).send(note)  # type: ignore[arg-type]
    assert server.requests[-1].path == "/api/v2/alerts"
    return server.requests[-1].json()


def test_firing_alert(server: Server) -> None:
    assert sent(server, notification(), generator_url="http://wd:9108/") == [{
        "labels": {"alertname": "duplicate_runs", "rule": "duplicate_runs", "target": "main",
                   "severity": "critical", "check": "duplicate", "team": "scheduler"},
        "annotations": {"summary": "2 duplicated runs of the same (job_id, run_at_ms)",
                        "description": "Two workers claimed the same run: see incident 000.",
                        "runbook_url": "https://example.org/runbooks/duplicate-runs", "violations": "2", "value": "2.0"},
        "startsAt": "2026-02-04T17:05:00Z",
        "generatorURL": "http://wd:9108/",
    }]


def test_resolved_alert_ends_at_the_resolve_time(server: Server) -> None:
    [alert] = sent(server, resolved(runbook_url=None, generator_url="http://wd:9108/rules#duplicate_runs"))
    assert alert["endsAt"] == "2026-02-04T17:47:30Z"
    assert alert["generatorURL"] == "http://wd:9108/rules#duplicate_runs"
    assert "runbook_url" not in alert["annotations"]  # type: ignore[operator]


def test_identity_labels_win_over_rule_labels_and_empty_ones_are_left_out(server: Server) -> None:
    [alert] = sent(server, notification(alertname="target_down", rule="", check="", labels={"severity": "page", "env": "prod"}))
    assert alert["labels"] == {"alertname": "target_down", "target": "main", "severity": "critical", "env": "prod"}
    assert "generatorURL" not in alert


def test_an_acknowledged_alert_carries_the_ack_as_an_annotation(server: Server) -> None:
    ack = {"by": "ana", "comment": "draining", "at": "2026-02-04T17:10:00Z", "until": "2026-02-04T21:10:00Z"}
    [alert] = sent(server, notification(ack=ack))
    assert alert["annotations"]["ack"] == "Acknowledged by ana until 2026-02-04T21:10:00Z: draining"  # type: ignore[index]

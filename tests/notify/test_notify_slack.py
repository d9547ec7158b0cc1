"""Slack: the Block Kit payload is pinned by golden files and stays within Slack's limits.

Regenerate the golden files after an intended change with WATCHDOG_UPDATE_GOLDEN=1.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from notify_helpers import Server, notification, resolved

from watchdog.notify.message import Notification
from watchdog.notify.slack import SlackNotifier

GOLDEN = Path(__file__).parent / "golden"


def payload(note: Notification, samples: int = 5) -> dict[str, Any]:
    return SlackNotifier("https://hooks.slack.com/services/T0/B0/x", samples=samples).payload(note)


@pytest.mark.parametrize(("name", "note"), [("slack_firing", notification()), ("slack_resolved", resolved())])
def test_payload_matches_the_golden_file(name: str, note: Notification) -> None:
    path = GOLDEN / f"{name}.json"
    actual = json.dumps(payload(note), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("WATCHDOG_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def test_resolved_looks_different_from_firing() -> None:
    firing, done = payload(notification()), payload(resolved())
    assert firing["blocks"][0]["text"]["text"] == "🔴 CRITICAL · duplicate_runs"
    assert done["blocks"][0]["text"]["text"] == "✅ RESOLVED · duplicate_runs"
    assert done["text"].startswith("✅ [resolved] duplicate_runs on main")
    assert not any(block["type"] == "actions" for block in done["blocks"])


def test_posted_to_the_webhook(server: Server) -> None:
    SlackNotifier(f"{server.url}/services/T0/B0/x").send(notification())
    assert server.requests[0].path == "/services/T0/B0/x"
    assert server.requests[0].json() == payload(notification())


def test_user_text_is_escaped() -> None:
    body = payload(notification(summary="<!channel> a & b <https://evil|click>"))
    assert body["blocks"][1]["text"]["text"] == "&lt;!channel&gt; a &amp; b &lt;https://evil|click&gt;"
    assert "<!channel>" not in json.dumps(body)


def test_samples_are_limited_by_configuration() -> None:
    rows = tuple({"id": i, "status": "pending"} for i in range(12))
    text = next(b for b in payload(notification(samples=rows, violations=40), samples=3)["blocks"]
                if b["type"] == "section" and b.get("text", {}).get("text", "").startswith("*Samples*"))["text"]["text"]
    assert text.startswith("*Samples* (3 of 40)\n```\nid  status")
    assert text.count("\n") == 6
    assert all(b.get("text", {}).get("text", "").startswith("*Samples*") is False
               for b in payload(notification(samples=rows), samples=0)["blocks"])


def test_huge_alerts_stay_within_slack_limits() -> None:
    wide = {f"column_{i}": "&<>" * 40 for i in range(30)}
    note = notification(
        alertname="x" * 300, summary="s&" * 4000, description="<d>" * 2000, samples=(wide,) * 20,
        violations=10**9, labels={f"l{i}": "v" * 50 for i in range(100)}, target="t" * 3000,
        runbook_url="https://example.org/" + "r" * 4000,
    )
    body = payload(note, samples=20)
    blocks = body["blocks"]
    assert len(blocks) <= 50
    assert len(body["text"]) <= 3000
    assert len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        if "text" in block and block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000
        assert len(block.get("fields", [])) <= 10
        for element in block.get("elements", []):
            assert len(element.get("text", "") if isinstance(element.get("text"), str) else element["text"]["text"]) <= 3000
    samples = next(b for b in blocks if b.get("text", {}).get("text", "").startswith("*Samples*"))["text"]["text"]
    assert samples.endswith("\n```") and all(len(line) <= 80 * 5 for line in samples.splitlines())
    assert not any(b["type"] == "actions" for b in blocks)  # a runbook URL too long for a button is left out


def test_a_target_down_message_shows_no_empty_rule_check_or_counts() -> None:
    message = SlackNotifier("http://127.0.0.1:9/hook").payload(
        notification(alertname="target_down", rule="", check="", samples=(), summary="target main is unreachable: refused"))
    [facts] = [block["fields"] for block in message["blocks"] if "fields" in block]
    assert [f["text"].split("\n")[0] for f in facts] == ["*Target*", "*Since*"]


def test_an_acknowledged_alert_says_by_whom_until_when_and_why_escaped() -> None:
    ack = {"by": "ana", "comment": "<@channel> draining", "at": "2026-02-04T17:10:00Z", "until": "2026-02-04T21:10:00Z"}
    text = json.dumps(SlackNotifier("https://hooks.slack.test/x").payload(notification(ack=ack)))
    assert "Acknowledged by ana until 2026-02-04T21:10:00Z: &lt;@channel&gt; draining" in text
    assert "Acknowledged" not in json.dumps(SlackNotifier("https://hooks.slack.test/x").payload(notification()))

"""The notification: the webhook document of product.md and a lossless outbox form."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from notify_helpers import notification, resolved

from watchdog.notify.message import Notification, fingerprint_of

DOCUMENT_KEYS = {"status", "rule", "target", "check", "severity", "violations", "value", "samples", "summary",
                 "description", "runbook_url", "labels", "fingerprint", "starts_at", "ends_at"}


def test_document_has_every_field_of_the_contract_and_utc_times() -> None:
    doc = resolved().to_document()
    assert DOCUMENT_KEYS <= set(doc)
    assert doc["starts_at"] == "2026-02-04T17:05:00Z"
    assert doc["ends_at"] == "2026-02-04T17:47:30Z"
    assert doc["status"] == "resolved" and doc["alertname"] == "duplicate_runs"


def test_document_converts_database_values() -> None:
    moment = datetime(2026, 2, 4, 18, 0, tzinfo=timezone.utc)
    doc = notification(value=Decimal("0.25"), samples=({"at": moment, "n": Decimal(3)},)).to_document()
    assert doc["value"] == 0.25
    assert doc["samples"] == [{"at": "2026-02-04T18:00:00+00:00", "n": 3}]
    assert doc["ends_at"] is None


def test_json_round_trip_is_lossless() -> None:
    original = notification(starts_at=datetime(2026, 2, 4, 17, 5, 0, 123456, tzinfo=timezone.utc),
                            alertname="probe_failing", generator_url="http://wd:9108/")
    assert Notification.from_json(original.to_json()) == original
    again = resolved()
    assert Notification.from_json(again.to_json()) == again


def test_alertname_defaults_to_the_rule() -> None:
    assert notification().alertname == "duplicate_runs"
    assert notification(alertname="target_down").alertname == "target_down"


def test_bad_status_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="status"):
        notification(status="pending")
    with pytest.raises(ValueError, match="timezone-aware"):
        notification(starts_at=datetime(2026, 2, 4, 17, 5))


def test_fingerprint_is_stable_and_distinguishes_alerts() -> None:
    # Pinned: the state file and receivers keep fingerprints across restarts and releases, so the same
    # alert must get the same value in every process (comparing two calls in one process cannot show it).
    assert fingerprint_of("r", "r", "main") == "ea9ef413895f0596"
    assert len({fingerprint_of("r", "r", "main"), fingerprint_of("probe_failing", "r", "main"),
                fingerprint_of("r", "r", "other")}) == 3


def test_the_document_carries_the_ack_or_null_and_round_trips_it() -> None:
    ack = {"by": "ana", "comment": "draining", "at": "2026-02-04T17:10:00Z", "until": "2026-02-04T21:10:00Z"}
    assert notification().to_document()["ack"] is None
    acked = notification(ack=ack)
    assert acked.to_document()["ack"] == ack
    assert Notification.from_json(acked.to_json()) == acked

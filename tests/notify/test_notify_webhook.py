"""The generic webhook: product.md's document, byte for byte, and signatures a receiver can check."""
from __future__ import annotations

import hashlib
import hmac
import json

from notify_helpers import Server, notification, resolved

from watchdog.notify.webhook import WebhookNotifier

NOW = 1_770_224_712.9


def received(server: Server, **kwargs: object) -> tuple[bytes, dict[str, str]]:
    WebhookNotifier(f"{server.url}/alerts", clock=lambda: NOW, **kwargs).send(notification())  # type: ignore[arg-type]
    request = server.requests[-1]
    return request.body, request.headers


def test_body_is_the_sorted_compact_document(server: Server) -> None:
    body, _ = received(server)
    assert body == json.dumps(notification().to_document(), sort_keys=True, separators=(",", ":")).encode()
    assert server.requests[0].path == "/alerts"
    doc = json.loads(body)
    assert doc["status"] == "firing" and doc["samples"][1]["job_id"] == "nightly-export"


def test_resolved_document(server: Server) -> None:
    WebhookNotifier(server.url).send(resolved())
    doc = server.requests[0].json()
    assert (doc["status"], doc["ends_at"], doc["violations"]) == ("resolved", "2026-02-04T17:47:30Z", 0)


def test_signature_verifies_with_the_secret(server: Server) -> None:
    body, headers = received(server, secret="hunter22")
    expected = "sha256=" + hmac.new(b"hunter22", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Watchdog-Signature"], expected)


def test_timestamped_signature_covers_the_timestamp(server: Server) -> None:
    body, headers = received(server, secret="hunter22")
    assert headers["X-Watchdog-Timestamp"] == "1770224712"
    signed = headers["X-Watchdog-Timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(b"hunter22", signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Watchdog-Signature-V2"], expected)
    assert headers["X-Watchdog-Signature-V2"] != headers["X-Watchdog-Signature"]


def test_no_secret_no_signature(server: Server) -> None:
    _, headers = received(server)
    assert "X-Watchdog-Signature" not in headers and "X-Watchdog-Signature-V2" not in headers
    assert headers["X-Watchdog-Timestamp"] == "1770224712"


def test_configured_headers_are_sent_but_cannot_forge_ours(server: Server) -> None:
    body, headers = received(server, secret="hunter22",
                             headers={"Authorization": "Bearer abc", "X-Watchdog-Signature": "sha256=forged"})
    assert headers["Authorization"] == "Bearer abc"
    expected = "sha256=" + hmac.new(b"hunter22", body, hashlib.sha256).hexdigest()
    assert headers["X-Watchdog-Signature"] == expected  # ours, not merely something other than the forged one

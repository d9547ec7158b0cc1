"""The generic webhook: product.md's JSON document, signed with HMAC-SHA256 when a secret is set.

Headers with a secret (receivers verify either, and refuse replays with the second):
- `X-Watchdog-Signature: sha256=<hex HMAC-SHA256(secret, body)>` (product.md);
- `X-Watchdog-Timestamp: <unix seconds>` and
  `X-Watchdog-Signature-V2: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`: the signature
  covers the send time, so a receiver rejects a timestamp more than 5 minutes from its clock and a
  captured request cannot be replayed later. Each retry is signed afresh.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

from watchdog.notify.http import HttpNotifier
from watchdog.notify.message import Notification

SIGNATURE = "X-Watchdog-Signature"
SIGNATURE_V2 = "X-Watchdog-Signature-V2"
TIMESTAMP = "X-Watchdog-Timestamp"


def sign(secret: str, message: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


class WebhookNotifier(HttpNotifier):
    name = "webhook"

    def __init__(self, url: str, secret: str | None = None, headers: Mapping[str, str] | None = None,
                 timeout: float = 10.0, clock: Callable[[], float] = time.time) -> None:
        self.secret = secret or None
        self.extra_headers = dict(headers or {})
        super().__init__(url, timeout, secrets=[secret or "", *self.extra_headers.values()], clock=clock)

    def payload(self, notification: Notification) -> Any:
        return notification.to_document()

    def headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(self.clock()))
        signed = {TIMESTAMP: timestamp}
        if self.secret:
            signed[SIGNATURE] = sign(self.secret, body)
            signed[SIGNATURE_V2] = sign(self.secret, timestamp.encode("ascii") + b"." + body)
        return {**self.extra_headers, **signed}

"""Alertmanager API v2: `POST {url}/api/v2/alerts` with a one-alert list.

Alertmanager's client contract: a firing alert carries no endsAt, so Alertmanager resolves it
`resolve_timeout` (default 5m) after it last heard of it; clients therefore re-send firing
alerts well within that (`resend_interval`). A resolved alert carries endsAt = the resolve time.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from watchdog.notify.http import HttpNotifier
from watchdog.notify.message import Notification, acknowledged
from watchdog.results.model import jsonable, utc_iso

RESEND_INTERVAL = 60.0


class AlertmanagerNotifier(HttpNotifier):
    name = "alertmanager"
    resend_interval = RESEND_INTERVAL

    def __init__(self, url: str, generator_url: str | None = None, timeout: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(url, timeout, clock=clock)
        self.generator_url = generator_url or None

    def endpoint(self) -> str:
        return self.url.rstrip("/") + "/api/v2/alerts"

    def payload(self, notification: Notification) -> Any:
        n = notification
        identity = {"alertname": n.alertname, "rule": n.rule, "target": n.target, "severity": n.severity, "check": n.check}
        labels = {k: str(v) for k, v in {**n.labels, **identity}.items() if v}
        annotations = {"summary": n.summary, "description": n.description, "runbook_url": n.runbook_url,
                       "violations": str(n.violations), "value": None if n.value is None else str(jsonable(n.value)),
                       "ack": acknowledged(n)}
        alert: dict[str, Any] = {
            "labels": labels,
            "annotations": {k: v for k, v in annotations.items() if v},
            "startsAt": utc_iso(n.starts_at),
        }
        if not n.firing:
            alert["endsAt"] = utc_iso(n.ends_at or datetime.fromtimestamp(self.clock(), timezone.utc))
        generator = n.generator_url or self.generator_url
        if generator:
            alert["generatorURL"] = generator
        return [alert]

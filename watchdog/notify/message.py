"""One notification about one alert: what every notifier renders and the outbox stores."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watchdog.results.model import jsonable, utc_iso

STATUSES = ("firing", "resolved")


def fingerprint_of(alertname: str, rule: str, target: str) -> str:
    """A stable id for one alert, so receivers can tie a resolved message to its firing one."""
    return hashlib.sha256(f"{alertname}\x00{rule}\x00{target}".encode()).hexdigest()[:16]


def acknowledged(n: Notification) -> str | None:
    """The ack as one line of text (Slack, Alertmanager's annotation), None when there is none."""
    if not n.ack:
        return None
    return f"Acknowledged by {n.ack['by']} until {n.ack['until']}: {n.ack['comment']}"


@dataclass(frozen=True)
class Notification:
    """An alert's state change (or repeat), rendered already: notifiers only format it."""

    status: str
    rule: str
    target: str
    check: str
    severity: str
    violations: int
    value: float | None
    samples: tuple[dict[str, Any], ...]
    summary: str
    description: str
    runbook_url: str | None
    labels: dict[str, str]
    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    alertname: str = ""
    generator_url: str | None = None
    ack: dict[str, str] | None = None  # {by, comment, at, until} while the alert is acknowledged

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        for moment in (self.starts_at, self.ends_at):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError("notification times must be timezone-aware")
        if not self.alertname:
            object.__setattr__(self, "alertname", self.rule)

    @property
    def firing(self) -> bool:
        return self.status == "firing"

    def to_document(self) -> dict[str, Any]:
        """The generic webhook's JSON document (product.md), times as ISO-8601 UTC."""
        return {
            "status": self.status, "alertname": self.alertname, "rule": self.rule, "target": self.target,
            "check": self.check, "severity": self.severity, "violations": self.violations,
            "value": jsonable(self.value), "samples": [jsonable(s) for s in self.samples],
            "summary": self.summary, "description": self.description, "runbook_url": self.runbook_url,
            "labels": dict(self.labels), "fingerprint": self.fingerprint,
            "starts_at": utc_iso(self.starts_at), "ends_at": utc_iso(self.ends_at) if self.ends_at else None,
            "ack": dict(self.ack) if self.ack else None,
        }

    def to_json(self) -> str:
        """Lossless (times keep their microseconds) for the outbox."""
        return json.dumps({
            **self.to_document(), "generator_url": self.generator_url,
            "starts_at": self.starts_at.isoformat(), "ends_at": self.ends_at.isoformat() if self.ends_at else None,
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Notification:
        data = json.loads(text)
        return cls(
            status=data["status"], rule=data["rule"], target=data["target"], check=data["check"],
            severity=data["severity"], violations=data["violations"], value=data["value"],
            samples=tuple(data["samples"]), summary=data["summary"], description=data["description"],
            runbook_url=data["runbook_url"], labels=data["labels"], fingerprint=data["fingerprint"],
            starts_at=datetime.fromisoformat(data["starts_at"]),
            ends_at=datetime.fromisoformat(data["ends_at"]) if data["ends_at"] else None,
            alertname=data["alertname"], generator_url=data["generator_url"], ack=data.get("ack"),
        )

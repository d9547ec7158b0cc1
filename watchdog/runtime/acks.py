"""Acknowledgements: someone knows about a firing alert, says why, and for how long.

An ack stops an alert's repeat pages (not its Alertmanager resends, which keep Alertmanager from
resolving it) until it expires or the alert resolves. It is kept with the alert in the state, so a
restart keeps it. A request comes from the HTTP API (JSON) or the status page's form; both are
checked here, once, into an AckRequest.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from watchdog.model.durations import format_duration, parse_duration
from watchdog.results.model import utc_iso

MAX_FOR = 30 * 86400.0  # an ack longer than a month is a silence: write one in the rule file
MAX_COMMENT = 1000
MAX_BY = 100


class BadAck(ValueError):
    """The request cannot be an ack; the message says which field and why."""


@dataclass(frozen=True)
class Ack:
    by: str
    comment: str
    at: datetime
    until: datetime

    def active(self, now: datetime) -> bool:
        return now < self.until

    def to_document(self) -> dict[str, str]:
        """As notifications and /api/v1/status show it (times ISO-8601 UTC)."""
        return {"by": self.by, "comment": self.comment, "at": utc_iso(self.at), "until": utc_iso(self.until)}

    def to_state(self) -> dict[str, str]:
        """Lossless, for the state."""
        return {"by": self.by, "comment": self.comment, "at": self.at.isoformat(), "until": self.until.isoformat()}

    @classmethod
    def from_state(cls, data: Mapping[str, str]) -> Ack:
        return cls(data["by"], data["comment"], datetime.fromisoformat(data["at"]), datetime.fromisoformat(data["until"]))


@dataclass(frozen=True)
class AckRequest:
    rule: str
    target: str | None
    seconds: float
    comment: str
    by: str

    def ack(self, now: datetime) -> Ack:
        return Ack(self.by, self.comment, now, now + timedelta(seconds=self.seconds))

    def describe(self) -> str:
        """For the log line (never the token: a request does not carry it)."""
        where = f" on {self.target}" if self.target else ""
        return f"{self.rule}{where} for {format_duration(self.seconds)} by {self.by}: {self.comment}"


def _optional(data: Mapping[str, Any], key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadAck(f"'{key}' must be a string")
    value = value.strip()
    if len(value) > limit:
        raise BadAck(f"'{key}' is longer than {limit} characters")
    return value or None


def _required(data: Mapping[str, Any], key: str, limit: int) -> str:
    value = _optional(data, key, limit)
    if value is None:
        raise BadAck(f"'{key}' is required")
    return value


def parse_request(data: Any, default_by: str) -> AckRequest:
    """{rule, target?, for, comment, by?} checked; BadAck names the first thing wrong."""
    if not isinstance(data, Mapping):
        raise BadAck("the body must be a JSON object: {rule, target?, for, comment, by?}")
    unknown = sorted(set(data) - {"rule", "target", "for", "comment", "by"})
    if unknown:
        raise BadAck(f"unknown field(s): {', '.join(map(str, unknown))}")
    rule = _required(data, "rule", 200)
    target = _optional(data, "target", 200)
    span = _required(data, "for", 50)
    comment = _required(data, "comment", MAX_COMMENT)
    by = _optional(data, "by", MAX_BY) or default_by
    try:
        seconds = parse_duration(span)
    except ValueError as exc:
        raise BadAck(f"'for': {exc}") from None
    if not 0 < seconds <= MAX_FOR:
        raise BadAck(f"'for' must be longer than 0s and at most {format_duration(MAX_FOR)}")
    return AckRequest(rule, target, seconds, comment, by)


class AckRefused(Exception):
    """The daemon will not take the ack: `status` is the HTTP answer (404 no such rule, 409 no firing
    alert, 503 a standby replica), the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

"""The result record of product.md: one per (rule, target) evaluation."""
from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

STATUSES = ("ok", "violated", "error")


def jsonable(value: Any) -> Any:
    """A database value as JSON can carry it (samples come from arbitrary user columns)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    return str(value)


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{moment.microsecond // 1000:03d}Z" if moment.microsecond else "Z"
    )


# Not frozen: a frozen dataclass costs three times as much to build, and the daemon builds one per
# rule per cycle. Treat a Result as a value all the same; dataclasses.replace() makes a changed copy.
@dataclass(slots=True)
class Result:
    rule: str
    target: str
    check: str
    status: str
    severity: str
    evaluated_at: datetime
    violations: int = 0
    value: float | None = None
    samples: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    duration_seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "target": self.target, "check": self.check, "status": self.status,
            "violations": self.violations, "value": jsonable(self.value), "severity": self.severity,
            "samples": [jsonable(s) for s in self.samples], "duration_seconds": round(self.duration_seconds, 6),
            "error": self.error, "evaluated_at": utc_iso(self.evaluated_at),
        }


def summarize(results: Sequence[Result]) -> dict[str, int]:
    return {status: sum(1 for r in results if r.status == status) for status in STATUSES}

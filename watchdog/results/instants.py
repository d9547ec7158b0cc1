"""Time values as databases return them, read as UTC instants (for judging in Python)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

UTC = timezone.utc


def to_instant(value: Any, unit: str) -> datetime | None:
    """A timestamp (aware, or naive and taken as UTC), ISO-8601 text (SQLite), or an epoch number in
    seconds or milliseconds (`time_unit`), as an aware UTC datetime; None stays None."""
    if value is None:
        return None
    if unit in ("s", "ms"):
        if not isinstance(value, (int, float, Decimal)) or isinstance(value, bool):
            raise ValueError(f"expected an epoch number ({unit}), got {value!r}")
        return datetime.fromtimestamp(float(value) / (1000.0 if unit == "ms" else 1.0), UTC)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"expected a timestamp, got {value!r}") from None
    if not isinstance(value, datetime):
        raise ValueError(f"expected a timestamp, got {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

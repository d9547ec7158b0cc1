"""SQLite through the standard library: :name placeholders, [bracketed] names, ISO-8601 UTC text times."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from watchdog.dialects.base import Dialect


class SQLite(Dialect):
    name = "sqlite"

    def quote_part(self, part: str) -> str:
        # SQLite reads an unknown "double-quoted" name as a string literal, so a misspelt column would
        # silently match nothing; [bracketed] names are always identifiers.
        return f"[{part}]"

    def placeholder(self, key: str) -> str:
        return f":{key}"

    def seconds_between(self, later: str, earlier: str, unit: str) -> str:
        # julianday() is a float of days: 3 s comes back as 3.0000239...; SQLite times hold at most ms.
        return (self.epoch_seconds_between(later, earlier, unit)
                or f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)")

    def plan_request(self, sql: str) -> str:
        return f"EXPLAIN QUERY PLAN {sql}"

    def timestamp_value(self, moment: datetime) -> Any:
        utc = moment.astimezone(timezone.utc)
        text = utc.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{utc.microsecond // 1000:03d}" if utc.microsecond else text


SQLITE = SQLite()

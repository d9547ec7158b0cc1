"""Run-history files (JSONL, CSV, Parquet) read through an in-memory DuckDB: $name placeholders.

A time column in a file is whatever DuckDB's reader made of it: TIMESTAMP WITH TIME ZONE for ISO
text with an offset, TIMESTAMP without one, VARCHAR when the values do not all parse, or a number for
epochs. A cutoff is therefore bound as ISO-8601 UTC text ('2026-02-04T17:05:00.000Z', the shape
JavaScript's toISOString() writes): DuckDB casts that text to the column's type when the column is a
timestamp, and compares it as text, in the same order as the instants, when the column holds such
text. Differences cast both sides to TIMESTAMPTZ, which reads all three.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from watchdog.dialects.base import Dialect


class DuckDB(Dialect):
    name = "duckdb"

    def quote_part(self, part: str) -> str:
        return '"' + part.replace('"', '""') + '"'

    def placeholder(self, key: str) -> str:
        return f"${key}"

    def count_where(self, predicate: str) -> str:
        return f"COUNT(*) FILTER (WHERE {predicate})"

    def seconds_between(self, later: str, earlier: str, unit: str) -> str:
        return (self.epoch_seconds_between(later, earlier, unit)
                or f"(epoch(CAST({later} AS TIMESTAMPTZ)) - epoch(CAST({earlier} AS TIMESTAMPTZ)))")

    def timestamp_value(self, moment: datetime) -> Any:
        utc = moment.astimezone(timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"

    def plan_request(self, sql: str) -> str:
        return f"EXPLAIN (FORMAT JSON) {sql}"

    def create_index(self, index: str, table: str, columns: Sequence[str]) -> None:
        """Files have no indexes: a probe reads every file its glob matches."""
        return None


DUCKDB = DuckDB()

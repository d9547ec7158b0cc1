"""PostgreSQL through psycopg 3: %(name)s placeholders, FILTER aggregates, timestamptz in UTC."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from watchdog.dialects.base import Dialect


class PostgreSQL(Dialect):
    name = "postgresql"

    def quote_part(self, part: str) -> str:
        return '"' + part.replace('"', '""') + '"'

    def placeholder(self, key: str) -> str:
        return f"%({key})s"

    def escape_text(self, sql: str) -> str:
        return sql.replace("%", "%%")

    def count_where(self, predicate: str) -> str:
        return f"COUNT(*) FILTER (WHERE {predicate})"

    def seconds_between(self, later: str, earlier: str, unit: str) -> str:
        # date_part is float8; EXTRACT is numeric since PostgreSQL 14, a quarter of a duplicate
        # probe's time when it runs on every row of a window (tens of thousands in an incident).
        return self.epoch_seconds_between(later, earlier, unit) or f"date_part('epoch', ({later}) - ({earlier}))"

    def timestamp_value(self, moment: datetime) -> Any:
        return moment.astimezone(timezone.utc)

    def plan_request(self, sql: str) -> str:
        # Never ANALYZE: the plan is read without running the probe.
        return f"EXPLAIN (FORMAT JSON, VERBOSE) {sql}"

    def create_index(self, index: str, table: str, columns: Sequence[str]) -> str:
        # CONCURRENTLY: building it does not block the scheduler's writes.
        return f"CREATE INDEX CONCURRENTLY {self._index_body(index, table, columns)};"


POSTGRESQL = PostgreSQL()

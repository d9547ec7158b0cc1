"""MySQL and MariaDB through PyMySQL: `backtick` names, %(name)s placeholders, DATETIME in UTC.

The connection sets the session time_zone to '+00:00', so a TIMESTAMP column reads as UTC and a
DATETIME column is taken to hold UTC; times are bound as naive UTC datetimes to match both.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from watchdog.dialects.base import Dialect


class MySQL(Dialect):
    name = "mysql"
    keeps_subquery_order = False

    def quote_part(self, part: str) -> str:
        return "`" + part.replace("`", "``") + "`"

    def placeholder(self, key: str) -> str:
        return f"%({key})s"

    def escape_text(self, sql: str) -> str:
        # PyMySQL formats the statement with Python's % operator whenever parameters are given.
        return sql.replace("%", "%%")

    def seconds_between(self, later: str, earlier: str, unit: str) -> str:
        # In microseconds, so DATETIME(3)/(6) columns keep their fraction of a second.
        return (self.epoch_seconds_between(later, earlier, unit)
                or f"(TIMESTAMPDIFF(MICROSECOND, {earlier}, {later}) / 1000000.0)")

    def timestamp_value(self, moment: datetime) -> Any:
        return moment.astimezone(timezone.utc).replace(tzinfo=None)

    def plan_request(self, sql: str) -> str:
        # Without ANALYZE: MySQL and MariaDB both describe the plan and run nothing.
        return f"EXPLAIN FORMAT=JSON {sql}"

    def create_index(self, index: str, table: str, columns: Sequence[str]) -> str:
        # Online DDL: the table stays writable while the index is built (refused rather than locking).
        return f"CREATE INDEX {self._index_body(index, table, columns)} ALGORITHM=INPLACE LOCK=NONE;"


MYSQL = MySQL()

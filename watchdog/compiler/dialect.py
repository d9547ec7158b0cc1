"""What differs between PostgreSQL and SQLite: placeholders, time arithmetic, time values."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class Dialect:
    name: str

    def quote(self, name: str) -> str:
        """Quoted, case kept; names were already validated against a strict pattern.

        SQLite reads an unknown "double-quoted" name as a string literal, so a misspelt column
        would silently match nothing; [bracketed] names are always identifiers there.
        """
        if self.name == "sqlite":
            return ".".join(f"[{part}]" for part in name.split("."))
        return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))

    def placeholder(self, key: str) -> str:
        return f"%({key})s" if self.name == "postgresql" else f":{key}"

    def escape_text(self, sql: str) -> str:
        """psycopg reads % as a placeholder marker: literal ones are doubled."""
        return sql.replace("%", "%%") if self.name == "postgresql" else sql

    def count_where(self, predicate: str) -> str:
        """How many rows of a scan match `predicate`, as one aggregate of a batch query. PostgreSQL's
        FILTER skips the rows outright; SQLite's before 3.30 had none, so it adds up a CASE."""
        if self.name == "postgresql":
            return f"COUNT(*) FILTER (WHERE {predicate})"
        return f"COALESCE(SUM(CASE WHEN {predicate} THEN 1 ELSE 0 END), 0)"

    def seconds_between(self, later: str, earlier: str, unit: str) -> str:
        """An SQL expression for (later - earlier) in seconds. Used in SELECT lists, never on indexed predicates."""
        if unit == "s":
            return f"(({later}) - ({earlier}))"
        if unit == "ms":
            return f"((({later}) - ({earlier})) / 1000.0)"
        if self.name == "postgresql":
            return f"EXTRACT(EPOCH FROM (({later}) - ({earlier})))"
        # julianday() is a float of days: 3 s comes back as 3.0000239...; SQLite times hold at most ms.
        return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)"

    def time_value(self, moment: datetime, unit: str) -> Any:
        """`moment` as the column stores it, so the comparison needs no function on the column."""
        if unit == "s":
            return int(moment.timestamp())
        if unit == "ms":
            return int(moment.timestamp() * 1000)
        utc = moment.astimezone(timezone.utc)
        if self.name == "postgresql":
            return utc
        text = utc.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{utc.microsecond // 1000:03d}" if utc.microsecond else text


POSTGRESQL = Dialect("postgresql")
SQLITE = Dialect("sqlite")
DIALECTS = {"postgresql": POSTGRESQL, "sqlite": SQLITE}

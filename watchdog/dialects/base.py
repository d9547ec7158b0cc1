"""The dialect interface: everything the compiler and the plan reader need to know about a database."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any


class Dialect(ABC):
    """Stateless; one instance per database kind. Names given to `quote` were already validated
    against a strict identifier pattern, so quoting never has to escape anything dangerous."""

    name: str = ""
    #: Whether an ORDER BY inside a derived table orders what the outer query reads (MariaDB and
    #: MySQL drop it): where not, a query that is not ours is run as written and counted here.
    keeps_subquery_order: bool = True

    def __repr__(self) -> str:
        return f"<dialect {self.name}>"

    @abstractmethod
    def quote_part(self, part: str) -> str:
        """One identifier part quoted, its case kept."""

    def quote(self, name: str) -> str:
        """A possibly schema-qualified name quoted part by part."""
        return ".".join(self.quote_part(part) for part in name.split("."))

    @abstractmethod
    def placeholder(self, key: str) -> str:
        """The driver's marker for the bound parameter named `key`."""

    def escape_text(self, sql: str) -> str:
        """SQL text as the driver wants it around its placeholders (psycopg doubles a literal %)."""
        return sql

    def count_where(self, predicate: str) -> str:
        """How many rows of a scan match `predicate`, as one aggregate of a batch query."""
        return f"COALESCE(SUM(CASE WHEN {predicate} THEN 1 ELSE 0 END), 0)"

    @abstractmethod
    def seconds_between(self, later: str, earlier: str, unit: str) -> str:
        """An SQL expression for (later - earlier) in seconds; for SELECT lists, never on indexed predicates."""

    def epoch_seconds_between(self, later: str, earlier: str, unit: str) -> str | None:
        """(later - earlier) in seconds for epoch columns (unit s or ms); None for timestamps."""
        if unit == "s":
            return f"(({later}) - ({earlier}))"
        if unit == "ms":
            return f"((({later}) - ({earlier})) / 1000.0)"
        return None

    def time_value(self, moment: datetime, unit: str) -> Any:
        """`moment` as the column stores it, so a comparison needs no function on the column."""
        if unit == "s":
            return int(moment.timestamp())
        if unit == "ms":
            return int(moment.timestamp() * 1000)
        return self.timestamp_value(moment)

    @abstractmethod
    def timestamp_value(self, moment: datetime) -> Any:
        """A timezone-aware instant as this database compares it with a timestamp column."""

    @abstractmethod
    def plan_request(self, sql: str) -> str:
        """The statement that asks the database how it would run `sql`, without running it."""

    def create_index(self, index: str, table: str, columns: Sequence[str]) -> str | None:
        """The statement that builds an index without blocking writers where the database can;
        None where the table cannot have one (files read through DuckDB)."""
        return f"CREATE INDEX {self._index_body(index, table, columns)};"

    def _index_body(self, index: str, table: str, columns: Sequence[str]) -> str:
        return f"{self.quote_part(index)} ON {self.quote(table)} ({', '.join(self.quote_part(c) for c in columns)})"

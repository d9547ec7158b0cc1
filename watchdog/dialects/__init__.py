"""SQL dialects: what differs between the databases watchdog probes, one module per database.

A dialect is a value object (quoting, placeholders, time arithmetic, time values, plan requests);
the connection that speaks to the database lives in `watchdog.probing`. `DIALECTS` is the one
registry; a new database is one module here plus its connection and its DSN scheme.
"""
from __future__ import annotations

from watchdog.dialects.base import Dialect
from watchdog.dialects.duckdb import DUCKDB
from watchdog.dialects.mysql import MYSQL
from watchdog.dialects.postgresql import POSTGRESQL
from watchdog.dialects.sqlite import SQLITE

DIALECTS: dict[str, Dialect] = {d.name: d for d in (POSTGRESQL, SQLITE, MYSQL, DUCKDB)}

__all__ = ["DIALECTS", "Dialect", "DUCKDB", "MYSQL", "POSTGRESQL", "SQLITE"]

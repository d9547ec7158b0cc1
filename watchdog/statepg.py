"""`--state postgresql://...`: alert state and the outbox in a PostgreSQL schema, shared by replicas.

watchdog creates the schema (`watchdog`, or the URL's `schema=` parameter, which is watchdog's
own and not passed to the server) and its tables: `alert_state`, `notify_outbox`, `state_owner`,
the same as in an SQLite file. Replicas pointed at one schema elect the one that evaluates and
sends with a session-level advisory lock on their state connection: whoever holds it leads; the
others stand by and try again every second. The lock ends with its session, so a leader that is
killed or loses its connection hands over at once. A leader whose connection drops never writes
again (it stops, and comes back as a standby), so that two never send.
"""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from watchdog.probing.dsn import redact
from watchdog.statefile import CLAIM, OWNER, StateDatabase, StateError

DEFAULT_SCHEMA = "watchdog"
CONNECT_TIMEOUT = 5
LOCK_CLASS = 0x57444F47  # "WDOG": the advisory lock's first key; the second is the schema's hash


def split_schema(url: str) -> tuple[str, str]:
    """(the URL without watchdog's `schema=` parameter, the schema)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), DEFAULT_SCHEMA)
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


class PgState(StateDatabase):
    dialect = "postgresql"
    shared = True
    placeholder = "%s"
    Error = psycopg.Error

    def __init__(self, url: str, on_error: Callable[[], None] | None = None) -> None:
        conninfo, self.schema_name = split_schema(url)
        super().__init__(redact(url), on_error)
        self._conninfo = conninfo
        self._leading = False
        self._led = False  # once it has led, a dropped connection is the end: never reconnect
        try:
            self._conn = self._connect()
        except psycopg.Error as exc:
            raise StateError(f"cannot use state {self.path}: {_first_line(exc)}") from None
        self.schema({"": OWNER})

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        with conn.transaction():
            _serialize_ddl(conn)
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema_name)))
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema_name)))
        return conn

    def _live(self) -> psycopg.Connection[Any]:
        """The connection, opened again if the server dropped it, except for a leader: its lock
        went with the session and another replica may lead now, so it must not write again."""
        if self._conn.closed or self._conn.broken:
            if self._led:
                self._leading = False
                raise psycopg.OperationalError("the state connection dropped, and the lead with it")
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        with self.lock:
            conn = self._live()
            with conn.transaction():
                yield conn

    def read(self, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self._live().execute(query, params).fetchall()  # type: ignore[arg-type]

    def schema(self, scripts: dict[str, str]) -> None:
        try:
            with self.lock, self._live().transaction() as tx:
                _serialize_ddl(tx.connection)
                tx.connection.execute(scripts.get(self.dialect, scripts[""]))  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise StateError(f"cannot use state {self.path}: {_first_line(exc)}") from None

    def lead(self) -> bool:
        """Hold (or take) the schema's advisory lock; False while another replica holds it or the
        database cannot be reached."""
        try:
            with self.lock:
                conn = self._live()
                row = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, self.schema_name)).fetchone()
                was, self._leading = self._leading, bool(row and row[0])
                self._led |= self._leading
                if self._leading and not was:
                    conn.execute(self.sql(CLAIM), (os.getpid(), socket.gethostname(), time.time()))  # type: ignore[arg-type]
        except psycopg.Error:
            self._leading = False
        return self._leading

    def close(self) -> None:
        with self.lock:
            self._conn.close()


def _serialize_ddl(conn: psycopg.Connection[Any]) -> None:
    """Replicas starting together would race on CREATE ... IF NOT EXISTS (a unique violation in
    the catalogue): one at a time, for this transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

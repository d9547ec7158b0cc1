"""Read-only connections with per-statement time limits, for PostgreSQL (psycopg 3) and SQLite."""
from __future__ import annotations

import math
import os
import socket
import sqlite3
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any, Protocol

from watchdog.model.values import TableSource
from watchdog.probing.clock import Wall, host_wall, measure_skew
from watchdog.probing.dsn import DsnError, dialect_of, scrub, secrets_of, sqlite_path


class ProbeFailure(Exception):
    """A probe could not run; the message is one line, safe to show, without secrets.

    `kind` says what failed: `sql` (the statement: a batch that fails so is split), `timeout`
    (statement_timeout), `connection` (the session is gone or was never had)."""

    def __init__(self, message: str, kind: str = "sql") -> None:
        super().__init__(message)
        self.kind = kind


class Connection(Protocol):
    broken: bool
    skew: float  # the server's clock minus this host's (watchdog.probing.clock), 0.0 when they agree

    def query(self, sql: str, params: dict[str, Any], timeout: float, guarded: bool = True) -> list[dict[str, Any]]: ...

    def cancel(self) -> None:
        """Ask the database to stop the statement under way (from another thread)."""

    def abort(self) -> None:
        """Give up on a database that does not answer at all: the statement under way fails at once
        and the connection is broken (from another thread)."""

    def close(self) -> None: ...


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class PostgresConnection:
    """Every probe is one autocommit statement, hence its own transaction, read-only by session default.

    The session starts with default_transaction_read_only=on, statement_timeout and TimeZone=UTC
    (as startup options, beside the DSN's own), so a probe costs one round trip. Every probe goes
    through the extended protocol, which runs one statement and no more, whatever a `;` hides in.
    SQL a user wrote (`guarded`) could change the session with set_config() (its read-only
    default, its search_path, its role); after such a probe the session is discarded back to its
    startup settings, so no rule changes what the next one sees.
    """

    def __init__(self, dsn: str, connect_timeout: float, statement_timeout: float = 5.0, wall: Wall = host_wall) -> None:
        import psycopg
        from psycopg.rows import dict_row

        self._psycopg = psycopg
        self._session_ms = self._timeout_ms = _ms(statement_timeout)
        # Rows come in chunks where libpq has chunked mode (17+), else one by one.
        self._chunk = 1000 if psycopg.pq.version() >= 170000 else 1
        ours = f"-c default_transaction_read_only=on -c statement_timeout={self._timeout_ms} -c TimeZone=UTC"
        try:
            theirs = psycopg.conninfo.conninfo_to_dict(dsn).get("options") or ""
            # prepare_threshold=None: psycopg would otherwise prepare our DISCARD ALL after five
            # runs, and the sixth would run a prepared statement it has just deallocated itself.
            self._conn = psycopg.connect(
                dsn, autocommit=True, row_factory=dict_row, application_name="watchdog", prepare_threshold=None,
                connect_timeout=max(1, math.ceil(connect_timeout)), options=f"{theirs} {ours}".strip(),
            )
            self.skew = measure_skew(self._server_epoch, wall)
        except psycopg.Error as exc:  # libpq may echo the DSN it could not read
            raise ProbeFailure(scrub(f"cannot connect: {_one_line(exc)}", secrets_of(dsn)), "connection") from None
        self.broken = False

    def _server_epoch(self) -> float:
        row = self._conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8 AS t").fetchone()
        return float(row["t"]) if row else 0.0

    def query(self, sql: str, params: dict[str, Any], timeout: float, guarded: bool = True) -> list[dict[str, Any]]:
        psycopg = self._psycopg
        try:
            if _ms(timeout) != self._timeout_ms:
                self._conn.execute(f"SET statement_timeout = {_ms(timeout)}")
                self._timeout_ms = _ms(timeout)
            try:
                # stream() binds even without parameters: the extended protocol, one statement.
                with self._conn.cursor() as cursor:
                    return list(cursor.stream(sql, params, size=self._chunk))
            finally:
                if guarded and not self._conn.closed:
                    self._discard()
        except psycopg.errors.QueryCanceled:
            raise ProbeFailure(f"timeout: the probe ran longer than its statement_timeout ({timeout:g}s)", "timeout") from None
        except psycopg.OperationalError as exc:
            self.broken = self._conn.closed or self._conn.broken
            raise ProbeFailure(f"database error: {_one_line(exc)}", "connection") from None
        except psycopg.Error as exc:
            raise ProbeFailure(f"SQL error: {_one_line(exc)}") from None

    def _discard(self) -> None:
        """Back to the session's startup state: settings (ours and the DSN's options, which RESET
        restores), role, advisory locks, prepared statements. A session that cannot be reset is
        never used again."""
        try:
            self._conn.execute("DISCARD ALL")
        except self._psycopg.Error:
            self.broken = True
            raise
        self._timeout_ms = self._session_ms

    def cancel(self) -> None:
        try:
            self._conn.cancel()
        except self._psycopg.Error:  # the session is gone already: nothing to cancel
            pass

    def abort(self) -> None:
        """Shut the socket down under libpq: its wait returns at once, the query fails, and a frozen
        server (which would not even answer a cancel request) cannot hold the probe forever."""
        self.broken = True
        try:
            with socket.socket(fileno=os.dup(self._conn.fileno())) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except (OSError, self._psycopg.Error):
            pass

    def close(self) -> None:
        self._conn.close()


class SqliteConnection:
    """Opened with mode=ro and query_only; a progress handler enforces the time limit."""

    def __init__(self, dsn: str, connect_timeout: float) -> None:
        path = sqlite_path(dsn)
        uri = f"file:{urllib.parse.quote(path)}?mode=ro"
        try:
            self._conn = sqlite3.connect(uri, uri=True, timeout=connect_timeout, check_same_thread=False)
            self._conn.execute("PRAGMA query_only = ON")
            self._conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise ProbeFailure(f"cannot open SQLite database '{path}': {_one_line(exc)}", "connection") from None
        self._conn.row_factory = sqlite3.Row
        self.broken = False
        self.skew = 0.0  # a file on this host: its clock is ours

    def query(self, sql: str, params: dict[str, Any], timeout: float, guarded: bool = True) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        self._conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        try:
            return [dict(row) for row in self._conn.execute(sql, params).fetchall()]
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise ProbeFailure(f"timeout: the probe ran longer than its statement_timeout ({timeout:g}s)", "timeout") from None
            raise ProbeFailure(f"SQL error: {_one_line(exc)}") from None
        except sqlite3.Error as exc:
            raise ProbeFailure(f"SQL error: {_one_line(exc)}") from None
        finally:
            self._conn.set_progress_handler(None, 0)

    def cancel(self) -> None:
        self._conn.interrupt()

    def abort(self) -> None:
        self._conn.interrupt()

    def close(self) -> None:
        self._conn.close()


def connect(dsn: str, connect_timeout: float = 5.0, statement_timeout: float = 5.0,
            tables: Mapping[str, TableSource] | None = None, wall: Wall = host_wall) -> Connection:
    """A connection of the kind the DSN names; ProbeFailure when it cannot be opened.
    `tables`: the target's files, for duckdb:// (Target.tables); `wall`: this host's clock, against
    which a server's clock skew is measured."""
    try:
        dialect = dialect_of(dsn)
    except DsnError as exc:
        raise ProbeFailure(str(exc)) from None
    if dialect.name == "postgresql":
        return PostgresConnection(dsn, connect_timeout, statement_timeout, wall)
    if dialect.name == "mysql":
        from watchdog.probing.mysql import MySQLConnection
        return MySQLConnection(dsn, connect_timeout, statement_timeout, wall)
    if dialect.name == "duckdb":
        from watchdog.probing.duckdb import DuckDBConnection
        return DuckDBConnection(tables or {}, statement_timeout)
    try:
        return SqliteConnection(dsn, connect_timeout)
    except DsnError as exc:
        raise ProbeFailure(str(exc)) from None

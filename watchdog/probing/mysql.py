"""Read-only connections to MySQL and MariaDB through PyMySQL, with a server-side time limit per probe.

The session reads times in UTC (time_zone '+00:00') and defaults to read-only transactions; each
probe runs inside START TRANSACTION READ ONLY ... COMMIT. Both are needed: a DDL statement commits
the open transaction implicitly and would run outside it, where the session default still refuses
it. The time limit is the server's own: `SET STATEMENT max_statement_time=N FOR ...` on MariaDB,
the session's max_execution_time (milliseconds, SELECTs only) on MySQL.
"""
from __future__ import annotations

import socket

import math
from typing import Any

from watchdog.probing.clock import SkewMeter, Wall, host_wall
from watchdog.probing.connection import ProbeFailure, _ms, _one_line
from watchdog.probing.dsn import mysql_params, scrub, secrets_of

# Server error codes: the statement's time limit (MariaDB, MySQL) or a KILL QUERY; the client's
# codes for a connection that is gone.
_TIMEOUTS = {1969, 3024, 1317}
_GONE = {2006, 2013, 2014, 2045, 2055}
# div_precision_increment: a division keeps 30 decimals, not 4 more than its operands (a ratio of
# 6/37 would read 0.16216, and a threshold would be judged on that).
_SESSION = ("SET time_zone = '+00:00', div_precision_increment = 30", "SET SESSION TRANSACTION READ ONLY")


class MySQLConnection:
    """One PyMySQL connection in autocommit mode; every probe its own read-only transaction."""

    def __init__(self, dsn: str, connect_timeout: float, statement_timeout: float = 5.0, wall: Wall = host_wall) -> None:
        try:
            import pymysql
            import pymysql.cursors
        except ImportError:
            raise ProbeFailure("mysql:// targets need PyMySQL: pip install 'scheduler-watchdog[mysql]'") from None
        self._pymysql = pymysql
        self._secrets = secrets_of(dsn)
        try:
            self._conn = pymysql.connect(
                **mysql_params(dsn), connect_timeout=max(1, math.ceil(connect_timeout)), autocommit=True,
                charset="utf8mb4", cursorclass=pymysql.cursors.DictCursor, program_name="watchdog",
            )
        except pymysql.Error as exc:
            raise ProbeFailure(f"cannot connect: {self._line(exc)}", "connection") from None
        self.mariadb = "mariadb" in self._conn.get_server_info().lower()
        self._limit_ms: int | None = None
        self.broken = False
        try:
            self._reset()
            self._skew = SkewMeter(self._server_epoch, wall, failure=pymysql.Error)
        except pymysql.Error as exc:
            self._conn.close()
            raise ProbeFailure(f"cannot set up the session: {self._line(exc)}") from None

    def query(self, sql: str, params: dict[str, Any], timeout: float, guarded: bool = True) -> list[dict[str, Any]]:
        pymysql = self._pymysql
        try:
            with self._conn.cursor() as cursor:
                if not self.mariadb and _ms(timeout) != self._limit_ms:
                    cursor.execute(f"SET SESSION max_execution_time = {_ms(timeout)}")
                    self._limit_ms = _ms(timeout)
                cursor.execute("START TRANSACTION READ ONLY")
                try:
                    limited = f"SET STATEMENT max_statement_time = {_ms(timeout) / 1000:g} FOR {sql}" if self.mariadb else sql
                    cursor.execute(limited, params)
                    rows = list(cursor.fetchall())
                    cursor.execute("COMMIT")
                except BaseException:
                    if self._conn.open:
                        cursor.execute("ROLLBACK")
                    raise
                finally:
                    if guarded and self._conn.open:
                        self._reset()
            return rows
        except pymysql.Error as exc:
            message = self._failure(exc, timeout)
            raise ProbeFailure(message, "connection" if self.broken else "timeout" if message.startswith("timeout") else "sql") from None

    def _reset(self) -> None:
        """The session's guarantees, set (again: SQL a user wrote may have changed them)."""
        with self._conn.cursor() as cursor:
            for statement in _SESSION:
                cursor.execute(statement)
            if not self.mariadb and self._limit_ms is not None:
                cursor.execute(f"SET SESSION max_execution_time = {self._limit_ms}")

    @property
    def skew(self) -> float:
        return self._skew.value()

    def _server_epoch(self) -> float:
        with self._conn.cursor() as cursor:
            cursor.execute("SELECT UNIX_TIMESTAMP(NOW(6)) AS t")
            return float(cursor.fetchone()["t"])

    def _failure(self, exc: BaseException, timeout: float) -> str:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        if code in _TIMEOUTS:
            return f"timeout: the probe ran longer than its statement_timeout ({timeout:g}s)"
        if code in _GONE or not self._conn.open or isinstance(exc, self._pymysql.InterfaceError):
            self.broken = True
            return f"database error: {self._line(exc)}"
        return f"SQL error: {self._line(exc)}"

    def _line(self, exc: BaseException) -> str:
        """The server's message without its error code tuple, and without any secret of the DSN."""
        text = str(exc.args[1]) if len(exc.args) > 1 else _one_line(exc)
        return scrub(text.strip().splitlines()[0] if text.strip() else type(exc).__name__, self._secrets)

    def cancel(self) -> None:
        self.abort()

    def abort(self) -> None:
        """Shut the socket under PyMySQL: the statement under way fails at once (a server that does
        not answer cannot hold the probe); the session is gone."""
        self.broken = True
        sock = getattr(self._conn, "_sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        if self._conn.open:
            self._conn.close()

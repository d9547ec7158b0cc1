"""Read-only connections with per-statement time limits, for PostgreSQL (psycopg 3) and SQLite."""
from __future__ import annotations

import math
import os
import socket
import sqlite3
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from watchdog.model.values import TableSource
from watchdog.probing.clock import SkewMeter, Wall, host_wall
from watchdog.probing.dsn import DsnError, dialect_of, scrub, secrets_of, sqlite_path


class ProbeFailure(Exception):
    """A probe could not run; the message is one line, safe to show, without secrets.

    `kind` says what failed: `sql` (the statement: a batch that fails so is split), `timeout`
    (statement_timeout), `connection` (the session is gone or was never had)."""

    def __init__(self, message: str, kind: str = "sql") -> None:
        super().__init__(message)
        self.kind = kind


Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Statement:
    """One statement a unit wants run: `guarded` when its SQL is the user's (the session is reset after)."""

    sql: str
    params: dict[str, Any]
    timeout: float
    guarded: bool = True


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


@runtime_checkable
class Pipelining(Protocol):
    """A connection that runs several statements in one round trip."""

    def query_many(self, statements: Sequence[Statement]) -> list[Rows | ProbeFailure]:
        """Each statement's rows or its failure, in order; each statement its own transaction."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


#: How many of its recent statements a PostgreSQL session keeps prepared (psycopg's own default).
PREPARED_MAX = 100

#: DISCARD ALL less DEALLOCATE ALL and DISCARD PLANS: the session back to its startup state (its
#: settings, ours and the DSN's options, which RESET restores; its role; advisory locks; temporary
#: tables and sequences; cursors; LISTENs) while the probes' prepared statements stay. They hold no
#: state of their own: each was parsed at its first prepared run, in a session just reset (every
#: guarded probe is followed by this reset before anything else runs), and each later run finds the
#: settings it was parsed under, so PostgreSQL resolves it as it did then.
RESET_SESSION = ("CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; "
                 "SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES")


class PostgresConnection:
    """Every probe is one autocommit statement, hence its own transaction, read-only by session default.

    The session starts with default_transaction_read_only=on, statement_timeout and TimeZone=UTC
    (as startup options, beside the DSN's own), so a probe costs one round trip. Every probe goes
    through the extended protocol, which runs one statement and no more, whatever a `;` hides in.
    SQL a user wrote (`guarded`) could change the session with set_config() (its read-only
    default, its search_path, its role); after such a probe the session is discarded back to its
    startup settings, so no rule changes what the next one sees.

    A statement that the session ran among its last PREPARED_MAX is run prepared: parsed once per
    session instead of on every evaluation, which on a probe of 0.1 ms is half its cost. Still the
    extended protocol, still one statement (the server refuses a second one in a prepared
    statement too), and a guarded one is still followed by the reset. A statement seen for the
    first time (every one in `watchdog check`, or in a cycle of more statements than that) runs
    unprepared, so preparing never costs an extra round trip in vain.
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
            # Every execute says whether it prepares (prepare=True or False), so psycopg's own
            # threshold never applies; it must not be None, or psycopg would prepare nothing.
            self._conn = psycopg.connect(
                dsn, autocommit=True, row_factory=dict_row, application_name="watchdog",
                connect_timeout=max(1, math.ceil(connect_timeout)), options=f"{theirs} {ours}".strip(),
            )
            self._conn.prepared_max = PREPARED_MAX
            self._skew = SkewMeter(self._server_epoch, wall, failure=psycopg.Error)
        except psycopg.Error as exc:  # libpq may echo the DSN it could not read
            raise ProbeFailure(scrub(f"cannot connect: {_one_line(exc)}", secrets_of(dsn)), "connection") from None
        self.broken = False
        self._recent: OrderedDict[str, None] = OrderedDict()  # our statements, least recently run first
        self._prepares = True
        # libpq 14 and later; and the one private call query_many needs (tests/probing/test_pipeline.py
        # fails if a psycopg release drops it, rather than every round quietly costing more)
        self._pipelines = psycopg.Pipeline.is_supported() and hasattr(psycopg.Pipeline, "_enqueue_sync")
        # Errors query() answers by preparing differently: in a pipeline, the statement runs again alone.
        self._replanned = (psycopg.errors.FeatureNotSupported, psycopg.errors.InvalidSqlStatementName,
                           psycopg.errors.DuplicatePreparedStatement)

    @property
    def skew(self) -> float:
        return self._skew.value()

    def _server_epoch(self) -> float:
        row = self._conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8 AS t", prepare=False).fetchone()
        return float(row["t"]) if row else 0.0

    def query(self, sql: str, params: dict[str, Any], timeout: float, guarded: bool = True) -> list[dict[str, Any]]:
        psycopg = self._psycopg
        try:
            if _ms(timeout) != self._timeout_ms:
                self._conn.execute(f"SET statement_timeout = {_ms(timeout)}", prepare=False)
                self._timeout_ms = _ms(timeout)
            try:
                with self._conn.cursor() as cursor:
                    if self._prepares and self._again(sql):
                        try:  # A prepared statement is parsed by the server as one: the extended protocol.
                            return cursor.execute(sql, params, prepare=True).fetchall()
                        except psycopg.errors.FeatureNotSupported:
                            # "cached plan must not change result type": a watched table changed
                            # (a migration added a column under a SELECT *). This session's prepared
                            # statements are stale: run this one unprepared, and let the pool
                            # replace the session after this unit.
                            self.broken = True
                        except (psycopg.errors.InvalidSqlStatementName, psycopg.errors.DuplicatePreparedStatement):
                            # The server does not keep what this session prepared (a pooler such as
                            # PgBouncer in transaction mode between us): never prepare here again.
                            self._prepares = self._pipelines = False  # and a pooler may not pipeline
                    if guarded or not (params or self._pipelines):
                        # stream() binds even without parameters: the extended protocol, one statement.
                        # libpq keeps its row mode for a pipeline that follows (psycopg 3.3 with libpq
                        # 18: "unexpected result status TUPLES_CHUNK"); the reset after the user's SQL
                        # is a plain query, which ends it.
                        return list(cursor.stream(sql, params, size=self._chunk))
                    if params:  # bound: the extended protocol
                        return cursor.execute(sql, params, prepare=False).fetchall()
                    with self._conn.pipeline():  # a pipeline binds even without parameters too
                        cursor.execute(sql, params, prepare=False)
                    return cursor.fetchall()
            finally:
                if guarded and not self._conn.closed:
                    self._reset()
        except psycopg.Error as exc:
            raise self._failure(exc, timeout) from None

    def _failure(self, exc: Exception, timeout: float) -> ProbeFailure:
        """What a psycopg error means for the probe: its time limit, the session, or its SQL."""
        if isinstance(exc, self._psycopg.errors.QueryCanceled):
            return ProbeFailure(f"timeout: the probe ran longer than its statement_timeout ({timeout:g}s)", "timeout")
        if isinstance(exc, self._psycopg.OperationalError):
            self.broken = self._conn.closed or self._conn.broken
            return ProbeFailure(f"database error: {_one_line(exc)}", "connection")
        return ProbeFailure(f"SQL error: {_one_line(exc)}")

    def query_many(self, statements: Sequence[Statement]) -> list[Rows | ProbeFailure]:
        """Compiled statements at the session's time limit go out together in psycopg's pipeline
        mode, a Sync after each: one round trip, and still one autocommit transaction per
        statement (its locks held for its own run, an error its own). The others (the user's SQL,
        which the session is reset after, or a rule's own statement_timeout) run one by one after.
        A connection failure stands for every statement not answered yet."""
        answers: list[Rows | ProbeFailure | None] = [None] * len(statements)
        together = [i for i, s in enumerate(statements) if not s.guarded and _ms(s.timeout) == self._timeout_ms]
        if len(together) > 1 and self._pipelines:
            for i, answer in zip(together, self._pipelined([statements[i] for i in together])):
                answers[i] = answer
        out: list[Rows | ProbeFailure] = []
        for statement, answer in zip(statements, answers):
            if answer is None:
                try:
                    answer = self.query(statement.sql, statement.params, statement.timeout, statement.guarded)
                except ProbeFailure as exc:
                    answer = exc
            if isinstance(answer, ProbeFailure) and answer.kind == "connection":
                return out + [answer] * (len(statements) - len(out))
            out.append(answer)
        return out

    def _pipelined(self, statements: Sequence[Statement]) -> list[Rows | ProbeFailure | None]:
        """The statements' answers from one pipeline; None for one that failed where the pipeline
        cannot tell with which error (psycopg raises the first of a round's errors only): the
        caller runs it again alone. A statement prepared in the pipeline is prepared as by query()."""
        psycopg, conn = self._psycopg, self._conn
        cursors: list[Any] = []
        errors: list[Exception] = []
        try:
            with conn.pipeline() as pipeline:
                for statement in statements:
                    cursor = conn.cursor()
                    cursors.append(cursor)
                    try:
                        cursor.execute(statement.sql, statement.params, prepare=self._prepares and self._again(statement.sql))
                    except psycopg.Error as exc:  # an earlier statement's error, read while sending this one
                        errors.append(exc)
                    finally:
                        pipeline._enqueue_sync()  # each statement its own transaction (psycopg has no public call for this)
        except psycopg.Error as exc:
            errors.append(exc)
        if conn.closed or conn.broken:
            self.broken = True
            lost = f"database error: {_one_line(errors[-1]) if errors else 'the connection was lost'}"
            return [ProbeFailure(lost, "connection")] * len(statements)
        failed = [i for i, cursor in enumerate(cursors) if cursor.pgresult is None]
        answers: list[Rows | ProbeFailure | None] = [None] * len(statements)
        for i, cursor in enumerate(cursors):
            if i not in failed:
                answers[i] = cursor.fetchall()
            cursor.close()
        told = [exc for exc in errors if not isinstance(exc, self._replanned)]
        if len(failed) == 1 and len(told) == len(errors) == 1:
            answers[failed[0]] = self._failure(told[0], statements[failed[0]].timeout)
        return answers

    def _again(self, sql: str) -> bool:
        """Whether `sql` is among the statements this session ran lately (and note that it ran)."""
        recent = self._recent
        seen = sql in recent
        recent[sql] = None
        if seen:
            recent.move_to_end(sql)
        elif len(recent) > PREPARED_MAX:
            recent.popitem(last=False)
        return seen

    def _reset(self) -> None:
        """Back to the session's startup state (RESET_SESSION). A session that cannot be reset is
        never used again."""
        try:
            self._conn.execute(RESET_SESSION, prepare=False)
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

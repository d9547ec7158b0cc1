"""The `--state` database: one connection and one lock per process, shared by the alert state
(watchdog.runtime.state) and the outbox (watchdog.notify.outbox). An SQLite file here
(StateFile); a PostgreSQL schema shared by replicas in watchdog.statepg.

One connection, so an alert's new state and the notifications it queues are written in one
transaction: a crash leaves both or neither. The file is also locked (flock) for the life of the
process, so a second watchdog on the same file refuses to start instead of paging twice. Opening
writes a row, so a file that cannot be written is found at start, not at the first page.

A write that fails later is never taken as done: callers keep what they could not write in memory
and try again; `failing` says so (for /-/healthy and the `state_unwritable` alert) and `errors`
counts the failures (watchdog_state_errors_total).
"""
from __future__ import annotations

import fcntl
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger("watchdog.state")

OWNER = """
CREATE TABLE IF NOT EXISTS state_owner (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL
);
"""
CLAIM = ("INSERT INTO state_owner VALUES (1, {p}, {p}, {p}) ON CONFLICT (id) DO UPDATE "
         "SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at")
BUSY_TIMEOUT = 5.0


class StateError(Exception):
    """The state file cannot be opened, written or read at start; the message names the file."""


class StateDatabase:
    """What both backends share: the lock, the failure bookkeeping, the SQL dialect's bits.

    `lock` guards the connection and what callers keep beside it in memory; `path` names the
    database in messages (never with a password); `Error` is what a failed statement raises;
    SQL is written with `{p}` where a parameter goes (`sql()` fills in the driver's marker)."""

    dialect = ""
    shared = False  # other processes (replicas) write it too
    placeholder = "?"
    Error: type[Exception] = sqlite3.Error

    def __init__(self, path: str, on_error: Callable[[], None] | None) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.errors = 0
        self.failing: str | None = None
        self._on_error = on_error

    def sql(self, text: str) -> str:
        return text.format(p=self.placeholder)

    def transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def schema(self, scripts: dict[str, str]) -> None:
        raise NotImplementedError

    def lead(self) -> bool:
        """Whether this process is the one that evaluates and sends (a replica may stand by)."""
        return True

    def close(self) -> None:
        raise NotImplementedError

    def failed(self, what: str, exc: Exception) -> None:
        """A write (or read) did not happen: log it, count it, be unhealthy until one succeeds."""
        with self.lock:
            self.errors += 1
            first, self.failing = self.failing is None, f"{what} failed: {' '.join(str(exc).split())}"
        if self._on_error is not None:
            self._on_error()
        (log.error if first else log.warning)("state %s: %s failed (%s); kept in memory and tried again",
                                              self.path, what, exc)

    def recovered(self) -> None:
        with self.lock:
            was, self.failing = self.failing, None
        if was is not None:
            log.info("state %s is written again; what was kept in memory is in it", self.path)


def open_state(spec: str | Path, on_error: Callable[[], None] | None = None) -> StateDatabase:
    """A postgresql:// URL: the shared schema of watchdog.statepg; anything else: an SQLite file."""
    if isinstance(spec, str) and spec.startswith(("postgresql://", "postgres://")):
        from watchdog.statepg import PgState  # psycopg only when asked for

        return PgState(spec, on_error=on_error)
    return StateFile(spec, on_error=on_error)


class StateFile(StateDatabase):
    """The open SQLite state file."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, busy_timeout: float = BUSY_TIMEOUT,
                 on_error: Callable[[], None] | None = None) -> None:
        super().__init__(str(path), on_error)
        self._fd = self._claim()
        try:
            self._conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            os.close(self._fd)
            raise StateError(f"cannot use state file {self.path}: {exc}") from None
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(OWNER)
            with self.transaction() as conn:
                conn.execute(self.sql(CLAIM), (os.getpid(), socket.gethostname(), time.time()))
        except sqlite3.Error as exc:
            self.close()
            raise StateError(f"cannot use state file {self.path}: {exc}") from None

    def _claim(self) -> int:
        """Our own descriptor on the file, exclusively flock'ed until close (SQLite's locks are fcntl's,
        which flock does not touch on Linux); a second process on the same file is refused."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(f"cannot use state file {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StateError(f"state file {self.path} is in use by another watchdog{self._owner()}; "
                             "each process needs a state file of its own") from None
        return fd

    def _owner(self) -> str:
        try:
            with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=1.0)) as peek:
                row = peek.execute("SELECT pid, host FROM state_owner WHERE id = 1").fetchone()
        except sqlite3.Error:
            return ""
        return f" (pid {row[0]} on {row[1]})" if row else ""

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back if anything in it fails, so nothing is half-written."""
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self._conn.execute(sql, params).fetchall()

    def schema(self, scripts: dict[str, str]) -> None:
        """Create a caller's tables (each keeps to its own)."""
        try:
            with self.lock:
                self._conn.executescript(scripts.get(self.dialect, scripts[""]))
        except sqlite3.Error as exc:
            raise StateError(f"cannot use state file {self.path}: {exc}") from None

    def close(self) -> None:
        with self.lock:
            self._conn.close()
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

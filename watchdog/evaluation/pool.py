"""A bounded pool of read-only connections to one target, for both dialects.

At most `pool_size` connections exist, so no command ever holds more sessions on the watched
database than the rule file allows. A broken connection is closed, not returned. After a failed
connect the pool answers with that failure for `cooldown` seconds instead of dialling again, so a
database that is down is not hammered by every rule at once.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from watchdog.config.model import Target
from watchdog.probing.connection import Connection, ProbeFailure, connect

Connector = Callable[..., Connection]  # connect(dsn, connect_timeout, statement_timeout[, tables=...])


class TargetUnreachable(ProbeFailure):
    """No connection to the target could be opened. `attempted` is False when the pool answered
    from a failure within the cooldown without dialling again."""

    def __init__(self, message: str, attempted: bool) -> None:
        super().__init__(message)
        self.attempted = attempted


class Pool:
    def __init__(self, target: Target, connector: Connector = connect, cooldown: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.target = target
        self._connector = connector
        self._cooldown = cooldown
        self._monotonic = monotonic
        self._idle: list[Connection] = []
        self._closed = False
        self._slots = threading.BoundedSemaphore(target.pool_size)
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self._failure = ""
        self._reused: set[int] = set()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection for one unit of work; waits while all `pool_size` are in use."""
        self._slots.acquire()
        try:
            conn = self._take()
            try:
                yield conn
            finally:
                self._give_back(conn)
        finally:
            self._slots.release()

    def _take(self) -> Connection:
        with self._lock:
            if self._idle:
                conn = self._idle.pop()
                self._reused.add(id(conn))
                return conn
            if self._failed_at is not None and self._monotonic() - self._failed_at < self._cooldown:
                raise TargetUnreachable(self._failure, attempted=False)
        try:
            target = self.target
            extra = {"tables": target.tables} if target.tables else {}  # a duckdb:// target's files
            conn = self._connector(target.dsn, target.connect_timeout, target.statement_timeout, **extra)
        except ProbeFailure as exc:
            with self._lock:
                self._failed_at, self._failure = self._monotonic(), str(exc)
            raise TargetUnreachable(str(exc), attempted=True) from None
        with self._lock:
            self._failed_at = None
        return conn

    def fresh(self, conn: Connection) -> bool:
        """Whether `conn` was opened for this use (a reused one may have died while idle)."""
        with self._lock:
            return id(conn) not in self._reused

    def _give_back(self, conn: Connection) -> None:
        with self._lock:
            drop = conn.broken or self._closed
            if drop:
                self._reused.discard(id(conn))
            if not drop:
                self._idle.append(conn)
        if drop:
            _close_quietly(conn)

    def close(self) -> None:
        """Close idle connections now and busy ones as they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)


def _close_quietly(conn: Connection) -> None:
    try:
        conn.close()
    except Exception:  # closing a connection the server already dropped may raise; it is gone either way
        pass

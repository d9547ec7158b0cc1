"""Real scheduler processes for the tests: their database, how a worker is started, starting and
killing them, waiting on conditions with a deadline, and plain SQL to read their tables.

Waits poll a condition until a deadline and fail with the processes' logs, so a test never sleeps
blindly and a worker that crashed at start fails the test at once, with its reason.
"""
from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

T = TypeVar("T")
POLL_SECONDS = 0.1
# The tables the Celery faults are read from (docs/schedulers-python.md lists the grants).
CELERY_TABLES = ("django_celery_results_taskresult", "django_celery_beat_periodictask",
                 "django_celery_beat_intervalschedule", "django_celery_beat_crontabschedule")


@dataclass(frozen=True)
class SchedulerDb:
    """A database of its own for the schedulers' tables, as a libpq DSN and an SQLAlchemy URL
    (driver psycopg 3, which the project already uses)."""

    dsn: str
    sqlalchemy_url: str


def celery_worker_args(name: str, queue: str, pool: str = "solo") -> list[str]:
    """A worker of one process slot: with the solo pool the task runs in the worker's own process,
    so killing it kills the task; with prefork, in a child the worker watches. Mingle, gossip and
    heartbeats need a fanout exchange, which the SQLAlchemy transport lacks."""
    return ["-m", "celery", "-A", "wdcelery", "worker", "--pool", pool, "--concurrency", "1", "-n", f"{name}@%h",
            "-Q", queue, "--without-mingle", "--without-gossip", "--without-heartbeat", "-l", "info"]


def require_packages(modules: Iterable[str]) -> None:
    """Skip when a scheduler package is not installed; fail under WATCHDOG_REQUIRE_POSTGRES=1."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if not missing:
        return
    reason = f"not installed: {', '.join(missing)} (pip install -e '.[test]')"
    if os.environ.get("WATCHDOG_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"scheduler tests required (WATCHDOG_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(reason)


@dataclass
class Proc:
    """One running scheduler process, its output going to a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        """Its process id, which is also its process group's."""
        return self.popen.pid

    def log_tail(self, lines: int = 30) -> str:
        """The end of its output, for failure messages."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL it and whatever it forked (its own process group), and reap it."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.popen.wait(timeout=10)


@dataclass
class Processes:
    """The processes a fixture started; kill_all() in its teardown ends every one of them."""

    workdir: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, args: Sequence[str], env: Mapping[str, str]) -> Proc:
        """Start `python ARGS...` with this interpreter, in a session of its own so a kill reaches its children."""
        log = self.workdir / f"{name.replace(' ', '-')}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen([sys.executable, *args], cwd=self.workdir, env=dict(env),
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def kill_all(self) -> None:
        """SIGKILL every process started here, whether or not a test already killed it."""
        for proc in self.started:
            proc.kill()


def wait_until(condition: Callable[[], T], timeout: float, what: str, alive: Iterable[Proc] = ()) -> T:
    """Poll `condition` until it returns something truthy and return that; fail after `timeout`
    seconds, or as soon as one of the `alive` processes has exited, with their logs."""
    watched = list(alive)
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        dead = [proc for proc in watched if proc.popen.poll() is not None]
        if dead or time.monotonic() > deadline:
            reason = f"{', '.join(p.name for p in dead)} exited" if dead else f"timed out after {timeout:g}s"
            logs = "\n".join(f"--- {proc.name} (pid {proc.pid}) ---\n{proc.log_tail()}" for proc in watched)
            pytest.fail(f"{reason} waiting for {what}\n{logs}")
        time.sleep(POLL_SECONDS)


def query(dsn: str, statement: str, params: Mapping[str, Any] | Sequence[Any] | None = None,
          role: str | None = None) -> list[dict[str, Any]]:
    """Run one plain SQL statement on a connection of its own and return its rows as dicts; with
    `role`, as that role, so a test proves which grants the statement needs."""
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        if role:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        return conn.execute(statement, params).fetchall()


def grant_select(dsn: str, role: str, tables: Iterable[str]) -> None:
    """GRANT SELECT on `tables` to `role`: all a read-only watchdog role needs on these tables."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(
            sql.SQL(", ").join(map(sql.Identifier, tables)), sql.Identifier(role)))

"""The pool: at most pool_size connections, broken ones dropped, a down target not dialled per rule."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from watchdog.config.model import Target
from watchdog.probing.connection import Connection, connect
from watchdog.evaluation.pool import Pool, TargetUnreachable


class Counting:
    """The real connector, counting how often it is called."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, dsn: str, connect_timeout: float, statement_timeout: float) -> Connection:
        self.calls += 1
        return connect(dsn, connect_timeout, statement_timeout)


def test_connections_are_reused_and_broken_ones_replaced(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "db.sqlite").close()
    connector = Counting()
    pool = Pool(Target("main", f"sqlite:///{tmp_path / 'db.sqlite'}", pool_size=1), connector)
    with pool.connection() as first:
        pass
    with pool.connection() as second:
        assert second is first
        second.broken = True
    with pool.connection() as third:
        assert third is not first
    assert connector.calls == 2
    pool.close()


def test_after_a_failed_connect_the_pool_answers_from_it_until_the_cooldown_is_over(tmp_path: Path) -> None:
    now = [0.0]
    connector = Counting()
    pool = Pool(Target("main", f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}"), connector, cooldown=5.0, monotonic=lambda: now[0])
    for attempted in (True, False, False):
        with pytest.raises(TargetUnreachable, match="cannot open SQLite database") as raised:
            with pool.connection():
                pass
        assert raised.value.attempted is attempted
    now[0] = 5.0
    with pytest.raises(TargetUnreachable) as raised:
        with pool.connection():
            pass
    assert raised.value.attempted and connector.calls == 2

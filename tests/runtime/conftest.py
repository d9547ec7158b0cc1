"""Fixtures of the runtime tests: an SQLite scheduler database, a Watchdog over a rule file, a receiver."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from artifacts.conftest import receiver  # noqa: F401 (the HTTP receiver fixture)
from watchdog.runtime.watchdog import Watchdog

JOBS = "CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL)"


@pytest.fixture
def jobs_db(tmp_path: Path) -> Path:
    """An SQLite database with a `jobs` table and one finished job."""
    path = tmp_path / "scheduler.db"
    with sqlite3.connect(path) as conn:
        conn.execute(JOBS)
        conn.execute("INSERT INTO jobs (status, created_at) VALUES ('done', datetime('now', '-1 hour'))")
    return path


@pytest.fixture
def make_watchdog(write_rules: Callable[[str], Path], tmp_path: Path) -> Iterator[Callable[..., Watchdog]]:
    """A Watchdog over the given rule text (state in tmp_path), stopped after the test."""
    made: list[Watchdog] = []

    def make(rules: str, **options: Any) -> Watchdog:
        options.setdefault("state", tmp_path / "state.db")
        made.append(Watchdog.from_file(write_rules(rules), **options))
        return made[-1]

    yield make
    for watchdog in made:
        watchdog.stop(timeout=2)

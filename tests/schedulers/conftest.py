"""Fixtures of the scheduler tests: the real tools, started here and stopped after.

pg_cron runs in a throwaway cluster of its own (it needs shared_preload_libraries, which the shared
server does not have); procrastinate gets a fresh schema on the usual test server and real
`procrastinate worker` processes. Like the `postgres` tests, these skip when the tool is missing,
and fail instead when WATCHDOG_REQUIRE_POSTGRES=1 (CI, whose .ci/run installs both).
"""
from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from schedulers import pg_cron
from tests.conftest import _throwaway_cluster

if TYPE_CHECKING:
    from schedulers.procrastinate_workers import Procrastinate


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pg_cron 1.4 runs jobs at minute boundaries only: the tests that wait for a run (marked
    `pg_cron_runs`) go last, in their order, so every other test runs while the minute passes."""
    items.sort(key=lambda item: item.get_closest_marker("pg_cron_runs") is not None)


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail where CI requires the real tools."""
    if os.environ.get("WATCHDOG_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason}, and WATCHDOG_REQUIRE_POSTGRES=1 requires it")
    pytest.skip(reason)


def pg_cron_cluster() -> Iterator[pg_cron.PgCron]:
    """A cluster with pg_cron preloaded and its extension created, removed when the generator
    closes; skips (or fails, in CI) where pg_cron or a throwaway cluster is not to be had."""
    if pg_cron.installed_library() is None:
        unavailable("pg_cron is not installed for the server on PATH (Debian: apt-get install postgresql-NN-cron)")
    started = pg_cron.start(_throwaway_cluster)
    if started is None:
        unavailable("no throwaway cluster for pg_cron: initdb/pg_ctl (and, as root, a 'postgres' user) needed")
    server, stop = started
    yield server
    stop()


@pytest.fixture(scope="session")
def pg_cron_server() -> Iterator[pg_cron.PgCron]:
    """pg_cron for the whole session: it fires at minute boundaries, so the tests share one
    cluster and one wait."""
    yield from pg_cron_cluster()


@pytest.fixture(scope="session")
def pg_cron_jobs(pg_cron_server: pg_cron.PgCron) -> dict[str, int]:
    """pg_cron.JOBS, scheduled in one transaction (so all fire from the same minute on, and the
    inactive ones never), as early as a test asks; their job ids by name."""
    return pg_cron_server.schedule(pg_cron.JOBS, inactive=pg_cron.INACTIVE)


@pytest.fixture
def procrastinate_db(postgres_dsn: str, tmp_path: Path) -> Iterator[Procrastinate]:
    """procrastinate's schema, applied by procrastinate, in a fresh schema of the test server; the
    worker processes a test starts on it are killed afterwards, whatever the test did."""
    if importlib.util.find_spec("procrastinate") is None:
        unavailable("procrastinate is not installed (pip install -e '.[test]')")
    from schedulers.procrastinate_workers import Procrastinate

    db = Procrastinate(postgres_dsn, tmp_path)
    db.apply_schema()
    yield db
    db.close()

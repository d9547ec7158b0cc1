"""Fixtures that run the real Celery (worker and beat, results and schedule in PostgreSQL through
django-celery-results and django-celery-beat) and the real APScheduler 3 against a database of
their own, created for the session and dropped after it.

The broker is kombu's SQLAlchemy transport on that same database, so nothing but PostgreSQL is
needed. The tests are marked `schedulers` (and `postgres`); like the PostgreSQL tests, they skip when
a package or the server is missing, and fail instead when WATCHDOG_REQUIRE_POSTGRES=1 (CI).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from sched_harness import Proc, Processes, SchedulerDb, celery_worker_args, require_packages

HERE = Path(__file__).resolve().parent
CELERY_PACKAGES = ("celery", "django", "django_celery_results", "django_celery_beat", "sqlalchemy")
APSCHEDULER_PACKAGES = ("apscheduler", "sqlalchemy")
# Queues the tests' workers consume. They are declared once before any worker starts: kombu's
# SQLAlchemy transport creates its tables and queue rows on first use, and two processes doing that
# at once can collide.
QUEUES = ("celery", "exports", "defaults")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "schedulers: runs real Celery/APScheduler processes against PostgreSQL "
                   "(WATCHDOG_REQUIRE_POSTGRES=1 turns a skip into a failure)")


@pytest.fixture(scope="session")
def scheduler_db(postgres_server: str) -> Iterator[SchedulerDb]:
    """CREATE DATABASE wd_celery_<random> on the test server for the session; dropped after it."""
    require_packages(APSCHEDULER_PACKAGES)
    from sqlalchemy.engine import URL

    name = f"wd_celery_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(postgres_server)
    url = URL.create("postgresql+psycopg", username=params.get("user"), password=params.get("password"),
                     host=params.get("host"), port=int(params["port"]) if params.get("port") else None,
                     database=name)
    try:
        yield SchedulerDb(make_conninfo(postgres_server, dbname=name), url.render_as_string(hide_password=False))
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def readonly_role(postgres_server: str, scheduler_db: SchedulerDb) -> Iterator[str]:
    """A role with no privileges yet, for proving which grants reading the faults needs. NOLOGIN:
    the tests SET ROLE to it. Its grants are dropped with it."""
    role = f"wd_ro_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
    try:
        yield role
    finally:
        with psycopg.connect(scheduler_db.dsn, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP ROLE "{role}"')


@pytest.fixture(scope="session")
def celery_env(scheduler_db: SchedulerDb) -> Iterator[dict[str, str]]:
    """The environment of the Django project `wdcelery`, migrated (django_celery_results and
    django_celery_beat) in the session's database and set up in this process too, so tests send
    tasks and create periodic tasks through Celery's and Django's own APIs."""
    require_packages(CELERY_PACKAGES)
    env = {"WD_CELERY_DATABASE_URL": scheduler_db.sqlalchemy_url, "DJANGO_SETTINGS_MODULE": "wdcelery.settings"}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    call_command("migrate", verbosity=0)
    from sqlalchemy.orm import close_all_sessions
    from wdcelery import app

    with app.connection_for_write() as conn:
        for queue in QUEUES:
            conn.default_channel.queue_declare(queue)
    path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
    try:
        yield {**os.environ, **env, "PYTHONPATH": path}
    finally:
        # Give back the connections this process holds before the database is dropped: kombu's
        # channels keep an SQLAlchemy session each, open in a transaction.
        app.close()
        close_all_sessions()
        connections.close_all()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def celery_worker(celery_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    """One worker on the default queue for the whole session."""
    processes = Processes(tmp_path_factory.mktemp("celery-worker"))
    try:
        yield processes.start("worker main", celery_worker_args("main", "celery"), celery_env)
    finally:
        processes.kill_all()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Processes a test starts itself (a worker it kills, beat, a scheduler); all killed when it ends."""
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.kill_all()

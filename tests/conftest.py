"""Shared fixtures: a real PostgreSQL (never a mock), an isolated schema per test, rule files on disk.

Where PostgreSQL comes from: $WATCHDOG_TEST_POSTGRES_DSN, else the server on 127.0.0.1:5432 if it
answers, else a throwaway cluster started with initdb/pg_ctl when they are on PATH. With none, the
tests that need it skip with the reason, unless WATCHDOG_REQUIRE_POSTGRES=1 (CI), where they fail.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import textwrap
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import freezegun
import pytest

# pytest times each phase through the `perf_counter` its `_pytest.timing` module imported; freezegun
# replaces such references in every loaded module while time is frozen, so `--durations` showed 0 s
# or the epoch. Left out of freezing, pytest reports real durations; the code under test stays frozen.
freezegun.configure(extend_ignore_list=["_pytest.timing"])

LOCAL_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _answers(dsn: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unprivileged(workdir: Path) -> list[str] | None:
    """The command prefix that runs initdb/pg_ctl, which refuse root: as root (CI containers), the
    'postgres' user the server packages create, owning `workdir`; None if there is no such user."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if not runuser or "postgres" not in {user.pw_name for user in pwd.getpwall()}:
        return None
    shutil.chown(workdir, "postgres")
    return [runuser, "-u", "postgres", "--"]


def _conf_line(name: str, value: str) -> str:
    """One postgresql.conf line, the value quoted as the file's syntax wants ('' for a quote)."""
    quoted = value.replace("'", "''")
    return f"{name} = '{quoted}'\n"


def _throwaway_cluster(settings: Mapping[str, str] | None = None) -> tuple[str, Callable[[], None]] | None:
    """A cluster of its own in a fresh directory under the system's temporary one (which the
    'postgres' user can reach, unlike pytest's private tmp_path), and the callable that removes it.
    `settings` are appended to its postgresql.conf before it starts (for example
    shared_preload_libraries, which only a server start reads); the file, not the command line,
    so that no value goes through pg_ctl's shell quoting."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        return None
    workdir = Path(tempfile.mkdtemp(prefix="watchdog-pg-"))
    prefix = _unprivileged(workdir)
    if prefix is None:
        shutil.rmtree(workdir, ignore_errors=True)
        return None
    data, port = workdir / "pgdata", _free_port()
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "postgres", "--auth=trust"], check=True, capture_output=True)
    if settings:
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(_conf_line(name, value) for name, value in settings.items())
    # -l: the server's output goes to a file, not to the pipes it would otherwise keep open forever.
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-l", str(workdir / "server.log"),
                    "-o", f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1", "-w", "start"], check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """DSN of a PostgreSQL server the tests may create schemas in."""
    explicit = os.environ.get("WATCHDOG_TEST_POSTGRES_DSN")
    stop: Callable[[], None] | None = None
    dsn: str | None = None
    if explicit:
        dsn = explicit if _answers(explicit) else None
        reason = "WATCHDOG_TEST_POSTGRES_DSN does not answer"
    elif _answers(LOCAL_DSN):
        dsn = LOCAL_DSN
    else:
        started = _throwaway_cluster()
        if started:
            dsn, stop = started
        reason = ("no PostgreSQL: set WATCHDOG_TEST_POSTGRES_DSN, run one on 127.0.0.1:5432, or put initdb/pg_ctl "
                  "on PATH (as root, with a 'postgres' user and runuser)")
    if dsn is None:
        if os.environ.get("WATCHDOG_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required (WATCHDOG_REQUIRE_POSTGRES=1) but unavailable: {reason}")
        pytest.skip(reason)
    yield dsn
    if stop:
        stop()


@pytest.fixture
def postgres_dsn(postgres_server: str) -> Iterator[str]:
    """A DSN whose search_path is a fresh, empty schema, dropped after the test."""
    import psycopg

    schema = f"wd_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in postgres_server else "?"
    yield f"{postgres_server}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def write_rules(tmp_path: Path) -> Callable[[str], Path]:
    """Write a rule file (dedented) and return its path."""

    def write(text: str, name: str = "rules.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


def _mysql_answers(params: dict[str, object]) -> bool:
    import pymysql

    try:
        pymysql.connect(**params, connect_timeout=2).close()
        return True
    except pymysql.Error:
        return False


def _throwaway_mariadb() -> tuple[str, Callable[[], None]] | str:
    """A MariaDB server of its own (mariadb-install-db + mariadbd) on a free port in a fresh
    directory, and the callable that stops and removes it; or why there is none."""
    install, server = shutil.which("mariadb-install-db"), shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
    if not install or not server:
        return "mariadb-install-db/mariadbd not on PATH (Debian: apt-get install mariadb-server)"
    workdir = Path(tempfile.mkdtemp(prefix="watchdog-mariadb-"))
    as_root = os.geteuid() == 0
    if as_root:
        if "mysql" not in {user.pw_name for user in pwd.getpwall()}:
            shutil.rmtree(workdir, ignore_errors=True)
            return "running as root without a 'mysql' user for mariadbd"
        shutil.chown(workdir, "mysql")
    user = ["--user=mysql"] if as_root else []
    data, port = workdir / "data", _free_port()
    subprocess.run([install, "--no-defaults", f"--datadir={data}", *user, "--auth-root-authentication-method=normal",
                    "--skip-test-db"], check=True, capture_output=True)
    process = subprocess.Popen(
        [server, "--no-defaults", f"--datadir={data}", *user, f"--port={port}", "--bind-address=127.0.0.1",
         f"--socket={workdir / 'sock'}", f"--pid-file={workdir / 'pid'}", f"--log-error={workdir / 'server.log'}",
         "--skip-name-resolve", "--innodb-buffer-pool-size=16M"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )

    def stop() -> None:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    params = {"host": "127.0.0.1", "port": port, "user": "root"}
    deadline = time.monotonic() + 60
    while not _mysql_answers(params):
        if process.poll() is not None or time.monotonic() > deadline:
            log = (workdir / "server.log").read_text(errors="replace")[-2000:] if (workdir / "server.log").exists() else ""
            stop()
            return f"the throwaway mariadbd did not start: {log}"
        time.sleep(0.2)  # start-up of a real server, not test logic
    return f"mysql://root@127.0.0.1:{port}", stop


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[str]:
    """DSN (no database) of a MariaDB/MySQL server the tests may create databases in:
    $WATCHDOG_TEST_MYSQL_DSN, else a throwaway server started here. WATCHDOG_REQUIRE_MYSQL=1 (CI)
    turns a missing server into a failure."""
    from watchdog.probing.dsn import mysql_params

    explicit = os.environ.get("WATCHDOG_TEST_MYSQL_DSN")
    stop: Callable[[], None] | None = None
    if explicit:
        dsn: str | None = explicit if _mysql_answers(mysql_params(explicit)) else None
        reason = "WATCHDOG_TEST_MYSQL_DSN does not answer"
    else:
        started = _throwaway_mariadb()
        dsn, stop, reason = (started[0], started[1], "") if isinstance(started, tuple) else (None, None, started)
    if dsn is None:
        if os.environ.get("WATCHDOG_REQUIRE_MYSQL") == "1":
            pytest.fail(f"MariaDB required (WATCHDOG_REQUIRE_MYSQL=1) but unavailable: {reason}")
        pytest.skip(reason)
    yield dsn
    if stop:
        stop()


@pytest.fixture
def mysql_dsn(mariadb_server: str) -> Iterator[str]:
    """A DSN whose database is fresh and empty, dropped after the test."""
    import pymysql

    from watchdog.probing.dsn import mysql_params

    database = f"wd_test_{uuid.uuid4().hex[:10]}"
    with pymysql.connect(**mysql_params(mariadb_server), autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{database}`")
    yield f"{mariadb_server}/{database}"
    with pymysql.connect(**mysql_params(mariadb_server), autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE `{database}`")

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
import textwrap
import uuid
from collections.abc import Callable, Iterator
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


def _throwaway_cluster() -> tuple[str, Callable[[], None]] | None:
    """A cluster of its own in a fresh directory under the system's temporary one (which the
    'postgres' user can reach, unlike pytest's private tmp_path), and the callable that removes it."""
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

"""Probes are read-only, time-limited and named `watchdog` on the watched database."""
from __future__ import annotations

import sqlite3

import psycopg
import pytest

from watchdog.probing.connection import ProbeFailure, connect


@pytest.mark.postgres
def test_postgres_probe_cannot_write(postgres_dsn):
    with psycopg.connect(postgres_dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE t (x int)")
        setup.execute("CREATE SEQUENCE s")
    conn = connect(postgres_dsn)
    with pytest.raises(ProbeFailure, match="read-only transaction"):
        conn.query("INSERT INTO t VALUES (1)", {}, 5)
    with pytest.raises(ProbeFailure, match="read-only transaction"):
        conn.query("SELECT nextval('s')", {}, 5)
    assert conn.query("SELECT count(*) AS n FROM t", {}, 5) == [{"n": 0}]
    conn.close()


@pytest.mark.postgres
def test_postgres_statement_timeout_and_connection_survives(postgres_dsn):
    conn = connect(postgres_dsn)
    with pytest.raises(ProbeFailure, match=r"timeout: the probe ran longer than its statement_timeout \(0.2s\)"):
        conn.query("SELECT pg_sleep(3)", {}, 0.2)
    assert not conn.broken
    assert conn.query("SELECT current_setting('statement_timeout') AS t", {}, 5) == [{"t": "5s"}]
    conn.close()


@pytest.mark.postgres
def test_postgres_session_is_named_watchdog_in_utc(postgres_dsn):
    conn = connect(postgres_dsn)
    rows = conn.query("SELECT application_name AS a, current_setting('TimeZone') AS tz FROM pg_stat_activity WHERE pid = pg_backend_pid()", {}, 5)
    assert rows == [{"a": "watchdog", "tz": "UTC"}]
    conn.close()


def test_postgres_unreachable_is_one_line_without_password():
    with pytest.raises(ProbeFailure) as caught:
        connect("postgresql://app:topsecret@127.0.0.1:1/db", 1)
    assert str(caught.value).startswith("cannot connect:")
    assert "\n" not in str(caught.value) and "topsecret" not in str(caught.value)


def test_sqlite_is_read_only_and_time_limited(tmp_path):
    path = tmp_path / "x.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (x int)")
    setup.commit()
    setup.close()
    conn = connect(f"sqlite:///{path}")
    with pytest.raises(ProbeFailure, match="SQL error: attempt to write a readonly database"):
        conn.query("INSERT INTO t VALUES (1)", {}, 5)
    slow = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT max(n) FROM c"
    with pytest.raises(ProbeFailure, match="timeout"):
        conn.query(slow, {}, 0.2)
    assert conn.query("SELECT count(*) AS n FROM t", {}, 5) == [{"n": 0}]
    conn.close()


def test_sqlite_missing_file_is_not_created(tmp_path):
    with pytest.raises(ProbeFailure, match="cannot open SQLite database"):
        connect(f"sqlite:///{tmp_path / 'nope.db'}")
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.postgres
def test_user_sql_cannot_switch_later_probes_to_read_write(postgres_dsn):
    with psycopg.connect(postgres_dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE t (x int)")
    conn = connect(postgres_dsn)
    conn.query("SELECT set_config('default_transaction_read_only', 'off', false) AS s", {}, 5, guarded=True)
    with pytest.raises(ProbeFailure, match="read-only transaction"):
        conn.query("INSERT INTO t VALUES (1)", {}, 5, guarded=False)
    conn.close()


@pytest.mark.postgres
def test_dsn_options_are_kept(postgres_dsn):
    conn = connect(postgres_dsn)
    assert conn.query("SELECT current_schema() AS s", {}, 5)[0]["s"].startswith("wd_test_")
    conn.close()


def test_only_user_written_sql_is_guarded(write_rules):
    from watchdog.plan import build_plan

    path = write_rules("""
        version: 1
        targets: {main: {dsn: "postgresql://h/db"}}
        rules:
          - {name: builtin, check: count, table: t}
          - {name: raw_where, check: count, table: t, where_sql: "x > 1"}
          - {name: raw_query, check: sql, query: "select 1"}
    """)
    assert [p.guarded for p in build_plan(path, env={}).probes] == [False, True, True]

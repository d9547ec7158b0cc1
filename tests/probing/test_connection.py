"""Probes are read-only, time-limited and named `watchdog` on the watched database."""
from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest

from watchdog.cli import main
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


def test_sqlite_runs_one_statement_only(tmp_path):
    path = tmp_path / "x.db"
    sqlite3.connect(path).close()
    conn = connect(f"sqlite:///{path}")
    with pytest.raises(ProbeFailure, match="one statement at a time"):
        conn.query("SELECT 1; SELECT 2", {}, 5)
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


# The issue's probes: a ';' hidden from a regex after /* ' */ or inside $q$...$q$, closing the
# count the compiler wraps a `samples: 0` query in, then leaving the read-only transaction.
HIDDEN_WRITES = [
    "select 1 as a) wd_x /* ' */; commit; set transaction read write; insert into t values (1); select 1 from (select 1 -- '",
    "select $q$'$q$ as a) wd_x; commit; set transaction read write; insert into t values (2); select 1 from (select $q$'$q$",
]


@pytest.mark.postgres
@pytest.mark.parametrize("query", HIDDEN_WRITES)
def test_a_probe_is_one_statement_even_without_parameters(postgres_dsn, query):
    with psycopg.connect(postgres_dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE t (x int)")
    conn = connect(postgres_dsn)
    for guarded in (True, False, True, False):  # each run again is run prepared: refused all the same
        with pytest.raises(ProbeFailure, match="cannot insert multiple commands into a prepared statement"):
            conn.query(f"SELECT COUNT(*) AS wd_count FROM (\n{query}\n) wd_v", {}, 5, guarded)
    assert conn.query("SELECT count(*) AS n FROM t", {}, 5) == [{"n": 0}]
    conn.close()


@pytest.mark.postgres
@pytest.mark.parametrize("query", HIDDEN_WRITES)
def test_a_hidden_write_is_refused_by_validate_and_writes_nothing(postgres_dsn, write_rules, capsys, query):
    with psycopg.connect(postgres_dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE t (x int)")
    path = write_rules(f"""
        version: 1
        targets: {{main: {{dsn: "{postgres_dsn}"}}}}
        rules:
          - {{name: sneaky, check: sql, samples: 0, query: "{query}"}}
    """)
    assert main(["validate", "-c", str(path)]) == 2
    assert main(["check", "-c", str(path)]) == 2
    assert "the query must be a single statement" in capsys.readouterr().err
    with psycopg.connect(postgres_dsn) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (0,)


@pytest.mark.postgres
def test_user_sql_cannot_change_the_session_the_next_probe_sees(postgres_dsn):
    conn = connect(postgres_dsn)
    before = conn.query(SETTINGS, {}, 5)
    changes = ", ".join(f"set_config('{name}', '{value}', false)" for name, value in [
        ("search_path", "pg_catalog"), ("TimeZone", "Asia/Tokyo"), ("application_name", "other"),
        ("statement_timeout", "0"), ("default_transaction_read_only", "off"),
    ])
    conn.query(f"SELECT {changes}, pg_advisory_lock(42)", {}, 5, guarded=True)
    assert conn.query(SETTINGS, {}, 5, guarded=False) == before
    assert before[0]["search_path"].startswith("wd_test_") and before[0]["tz"] == "UTC" and before[0]["ro"] == "on"
    assert conn.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()", {}, 5) == [{"n": 0}]
    conn.close()


@pytest.mark.postgres
def test_a_session_is_reset_after_every_guarded_probe_not_only_the_first_few(postgres_dsn):
    conn = connect(postgres_dsn)
    for _ in range(12):
        assert conn.query("SELECT 1 AS one", {}, 5, guarded=True) == [{"one": 1}]
        assert conn.query("SELECT 1 AS one", {}, 2, guarded=True) == [{"one": 1}]
    assert not conn.broken
    conn.close()


SETTINGS = ("SELECT current_setting('search_path') AS search_path, current_setting('TimeZone') AS tz, "
            "current_setting('application_name') AS app, current_setting('statement_timeout') AS st, "
            "current_setting('default_transaction_read_only') AS ro")


@pytest.mark.postgres
def test_one_rule_cannot_blind_the_next_on_the_same_connection(postgres_dsn, write_rules, capsys):
    with psycopg.connect(postgres_dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE jobs (status text)")
        setup.execute("INSERT INTO jobs VALUES ('failed')")
        decoy = f"{setup.execute('SELECT current_schema()').fetchone()[0]}_decoy"  # an empty jobs table
        setup.execute(f"CREATE SCHEMA {decoy}")
        setup.execute(f"CREATE TABLE {decoy}.jobs (status text)")
    path = write_rules(f"""
        version: 1
        targets: {{main: {{dsn: "{postgres_dsn}", pool_size: 1}}}}
        rules:
          - {{name: blinds, check: sql, query: "select 1 where set_config('search_path', '{decoy}', false) is null"}}
          - {{name: failed_jobs, check: count, table: jobs, where: {{status: failed}}, expect: "== 0"}}
    """)
    try:
        code = main(["check", "-c", str(path), "--format", "json"])
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as cleanup:
            cleanup.execute(f"DROP SCHEMA {decoy} CASCADE")
    results = {r["rule"]: r["status"] for r in json.loads(capsys.readouterr().out)["results"]}
    assert (code, results) == (1, {"blinds": "ok", "failed_jobs": "violated"})


PREPARED = "SELECT count(*) AS n FROM pg_prepared_statements"


@pytest.mark.postgres
def test_probes_run_again_are_prepared_and_survive_the_reset_after_user_sql(postgres_dsn):
    conn = connect(postgres_dsn)
    assert conn.query(PREPARED, {}, 5, guarded=False) == [{"n": 0}]  # first run: not prepared
    assert conn.query(PREPARED, {}, 5, guarded=False) == [{"n": 1}]  # second: prepared, sees itself
    before = conn.query(SETTINGS, {}, 5, guarded=False)
    blind = "SELECT set_config('search_path', 'pg_catalog', false), set_config('default_transaction_read_only', 'off', false)"
    for run in range(3):  # user SQL prepared too from its second run on, and the session reset after each
        conn.query(blind, {}, 5, guarded=True)
        assert conn.query(SETTINGS, {}, 5, guarded=False) == before
        assert conn.query(PREPARED, {}, 5, guarded=False) == [{"n": 2 if run == 0 else 3}]  # ours, SETTINGS, blind
    with pytest.raises(ProbeFailure, match="read-only transaction"):
        conn.query("CREATE TABLE written (x int)", {}, 5, guarded=False)
    assert not conn.broken
    conn.close()


@pytest.mark.postgres
def test_a_prepared_probe_survives_a_migration_of_its_table_and_the_session_is_replaced(postgres_dsn):
    with psycopg.connect(postgres_dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE t (x int)")
        setup.execute("INSERT INTO t VALUES (1)")
    conn = connect(postgres_dsn)
    for _ in range(2):  # the second run is prepared
        assert conn.query("SELECT * FROM t", {}, 5, guarded=False) == [{"x": 1}]
    with psycopg.connect(postgres_dsn, autocommit=True) as migration:
        migration.execute("ALTER TABLE t ADD COLUMN y int")
    assert conn.query("SELECT * FROM t", {}, 5, guarded=False) == [{"x": 1, "y": None}]
    assert conn.broken  # the pool opens a new session instead of this one's stale statements
    conn.close()


@pytest.mark.postgres
def test_a_session_whose_server_forgets_prepared_statements_stops_preparing(postgres_dsn):
    conn = connect(postgres_dsn)
    for _ in range(2):
        assert conn.query("SELECT 1 AS one", {}, 5, guarded=False) == [{"one": 1}]
    # As a pooler in transaction mode does: the server side of the session no longer has them.
    conn._conn.pgconn.exec_(b"DEALLOCATE ALL")  # type: ignore[attr-defined]
    for _ in range(3):
        assert conn.query("SELECT 1 AS one", {}, 5, guarded=False) == [{"one": 1}]
        assert conn.query(PREPARED, {}, 5, guarded=False) == [{"n": 0}]  # nothing prepared any more
    assert not conn.broken
    conn.close()

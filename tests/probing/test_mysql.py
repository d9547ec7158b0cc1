"""MySQL/MariaDB probes on a real server (a throwaway mariadbd, see tests/conftest.py): read-only,
time-limited in UTC, failures as one line without secrets.

The SQL below is what the check kinds render through the MySQL dialect, written out by hand.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pymysql
import pytest

from watchdog.dialects import MYSQL
from watchdog.probing.connection import Connection, ProbeFailure, connect
from watchdog.probing.dsn import mysql_params

pytestmark = pytest.mark.mysql

NOW = datetime(2026, 2, 4, 17, 6, tzinfo=timezone.utc)


def admin(dsn: str) -> pymysql.connections.Connection:
    return pymysql.connect(**mysql_params(dsn), autocommit=True)


@pytest.fixture
def runs(mysql_dsn: str) -> str:
    """Seed 000's duplicate run at 17:05 (prod and staging) among healthy ones, three ways of storing time."""
    with admin(mysql_dsn) as conn, conn.cursor() as cursor:
        cursor.execute("SET time_zone = '+05:00'")  # the loader's zone must not matter: TIMESTAMP is stored in UTC
        cursor.execute("CREATE TABLE runs (id int PRIMARY KEY, job_id varchar(20), env varchar(20), "
                       "started_at DATETIME(3), stamped TIMESTAMP(3) NULL, run_at_ms BIGINT, run_at_s INT)")
        rows = [(1, "a%b", "prod", NOW - timedelta(minutes=11)), (2, "a%b", "prod", NOW - timedelta(minutes=6)),
                (3, "a%b", "prod", NOW - timedelta(minutes=1)), (4, "a%b", "staging", NOW - timedelta(seconds=58.5))]
        for id_, job, env, at in rows:
            cursor.execute("INSERT INTO runs VALUES (%s, %s, %s, %s, CONVERT_TZ(%s, '+00:00', '+05:00'), %s, %s)",
                           (id_, job, env, at.replace(tzinfo=None), at.replace(tzinfo=None),
                            int(at.timestamp() * 1000), int(at.timestamp())))
    return mysql_dsn


@pytest.fixture
def conn(runs: str) -> Iterator[Connection]:
    connection = connect(runs)
    yield connection
    connection.close()


def test_percent_in_sql_and_bound_values(conn: Connection):
    sql = MYSQL.escape_text("SELECT COUNT(*) AS n FROM runs WHERE job_id LIKE 'a%' AND env = ") + MYSQL.placeholder("p0")
    assert conn.query(sql, {"p0": "staging"}, 5) == [{"n": 1}]


@pytest.mark.parametrize("column, unit", [("started_at", "timestamp"), ("stamped", "timestamp"),
                                          ("run_at_ms", "ms"), ("run_at_s", "s")])
def test_window_cutoff_on_each_way_of_storing_time(conn: Connection, column: str, unit: str):
    """A 2-minute window from NOW: the two runs of 17:05 (the column compared bare with the bound cutoff)."""
    sql = f"SELECT id FROM runs WHERE {MYSQL.quote(column)} >= {MYSQL.placeholder('p0')} ORDER BY id"
    cutoff = MYSQL.time_value(NOW - timedelta(minutes=2), unit)
    assert conn.query(sql, {"p0": cutoff}, 5) == [{"id": 3}, {"id": 4}]


@pytest.mark.parametrize("column, unit, gap", [("started_at", "timestamp", 1.5), ("stamped", "timestamp", 1.5),
                                               ("run_at_ms", "ms", 1.5), ("run_at_s", "s", 1)])
def test_duplicate_tolerance_gap(conn: Connection, column: str, unit: str, gap: float):
    """The duplicate kind's tolerance form: each run's gap to the previous one of its job."""
    col = MYSQL.quote(column)
    gap_sql = MYSQL.seconds_between(col, f"LAG({col}) OVER (PARTITION BY job_id ORDER BY {col})", unit)
    rows = conn.query(f"SELECT id, {gap_sql} AS gap FROM runs ORDER BY id", {}, 5)
    assert [float(r["gap"]) if r["gap"] is not None else None for r in rows] == [None, 300, 300, gap]


def test_age_against_bound_now(conn: Connection):
    """The stuck/stale kinds' age: NOW (bound) minus the column."""
    age = MYSQL.seconds_between(MYSQL.placeholder("now"), "started_at", "timestamp")
    rows = conn.query(f"SELECT MIN({age}) AS youngest FROM runs", {"now": MYSQL.time_value(NOW, "timestamp")}, 5)
    assert float(rows[0]["youngest"]) == 58.5


def test_batch_counts(conn: Connection):
    counts = ", ".join(f"{MYSQL.count_where(p)} AS c{i}" for i, p in enumerate(["env = 'prod'", "env = 'none'"]))
    assert [{k: int(v) for k, v in row.items()} for row in conn.query(f"SELECT {counts} FROM runs", {}, 5)] == [{"c0": 3, "c1": 0}]


def test_ratios_keep_their_precision(conn: Connection):
    """The ratio kind's division: 6 of 37 as the other databases give it, not 0.16216."""
    [row] = conn.query("SELECT 6 * 1.0 / NULLIF(37, 0) AS value", {}, 5)
    assert abs(float(row["value"]) - 6 / 37) < 1e-12


def test_session_is_utc_and_read_only(conn: Connection):
    rows = conn.query("SELECT @@session.time_zone AS tz, @@session.tx_read_only AS ro", {}, 5)
    assert rows == [{"tz": "+00:00", "ro": 1}]


@pytest.mark.parametrize("sql", [
    "INSERT INTO runs (id) VALUES (99)",
    "UPDATE runs SET env = 'x'",
    "CREATE TABLE stolen (x int)",  # DDL commits the transaction implicitly: the session default refuses it
    "CREATE TEMPORARY TABLE scratch (x int)",
    "DROP TABLE runs",
])
def test_writes_are_refused(runs: str, conn: Connection, sql: str):
    with pytest.raises(ProbeFailure, match=r"^SQL error: Cannot execute statement in a READ ONLY transaction"):
        conn.query(sql, {}, 5)
    with admin(runs) as check, check.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), SUM(env = 'x') FROM runs")
        assert cursor.fetchone() == (4, 0)
        cursor.execute("SHOW TABLES")
        assert cursor.fetchall() == (("runs",),)
    assert conn.query("SELECT COUNT(*) AS n FROM runs", {}, 5) == [{"n": 4}]


@pytest.mark.parametrize("unlock", ["SET SESSION TRANSACTION READ WRITE", "SET SESSION tx_read_only = 0"])
def test_sql_a_user_wrote_cannot_unlock_the_session(conn: Connection, unlock: str):
    """Whether or not the server takes the SET, the next probe is read-only again."""
    try:
        conn.query(unlock, {}, 5)
    except ProbeFailure:
        pass
    with pytest.raises(ProbeFailure, match="READ ONLY transaction"):
        conn.query("CREATE TABLE stolen (x int)", {}, 5)


def test_timeout_stops_a_slow_query_and_the_connection_goes_on(conn: Connection):
    slow = ("SELECT COUNT(*) AS n FROM information_schema.columns a, information_schema.columns b, "
            "information_schema.columns c")
    with pytest.raises(ProbeFailure, match=r"^timeout: the probe ran longer than its statement_timeout \(0.3s\)$"):
        conn.query(slow, {}, 0.3)
    assert not conn.broken
    assert conn.query("SELECT 1 AS one", {}, 5) == [{"one": 1}]


def test_a_dropped_connection_is_broken(runs: str, conn: Connection):
    [row] = conn.query("SELECT CONNECTION_ID() AS id", {}, 5)
    with admin(runs) as other, other.cursor() as cursor:
        cursor.execute(f"KILL {int(row['id'])}")
    with pytest.raises(ProbeFailure, match="^database error: "):
        conn.query("SELECT 1 AS one", {}, 5)
    assert conn.broken


def test_syntax_error_is_one_line(conn: Connection):
    with pytest.raises(ProbeFailure) as caught:
        conn.query("SELEC 1", {}, 5)
    assert str(caught.value).startswith("SQL error: You have an error in your SQL syntax")
    assert "\n" not in str(caught.value)


def test_plan_request_reads_the_plan_as_json(conn: Connection):
    import json

    [row] = conn.query(MYSQL.plan_request("SELECT id FROM runs WHERE env = %(p0)s"), {"p0": "prod"}, 5)
    plan = json.loads(next(iter(row.values())))
    assert plan["query_block"]["nested_loop"][0]["table"]["table_name"] == "runs"


def test_bad_password_is_one_line_without_it(mariadb_server: str):
    host = mariadb_server.split("@", 1)[1]
    with pytest.raises(ProbeFailure) as caught:
        connect(f"mariadb://nobody:hunter2secret@{host}/x", 2)
    assert str(caught.value).startswith("cannot connect: Access denied for user 'nobody'")
    assert "hunter2secret" not in str(caught.value) and "\n" not in str(caught.value)


def test_unreachable_server():
    with pytest.raises(ProbeFailure, match="^cannot connect: Can't connect to MySQL server on '127.0.0.1'"):
        connect("mysql://root@127.0.0.1:1/x", 1)

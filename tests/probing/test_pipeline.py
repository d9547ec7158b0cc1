"""Statements sent together (PostgresConnection.query_many): one round trip, yet each statement its own
transaction with its own answer or error, as if run one by one."""
from __future__ import annotations

import psycopg
import pytest

from watchdog.probing.connection import Pipelining, PostgresConnection, ProbeFailure, Statement

pytestmark = pytest.mark.postgres


def _plain(sql: str, timeout: float = 5.0) -> Statement:
    return Statement(sql, {}, timeout, guarded=False)


def _connection(dsn: str) -> PostgresConnection:
    conn = PostgresConnection(dsn, 5.0, 5.0)
    assert isinstance(conn, Pipelining)
    assert conn._pipelines, "the installed psycopg cannot pipeline: every round would cost a round trip per statement"
    return conn


def _round_trips(conn: PostgresConnection) -> list[int]:
    """The number of statements each round trip carried (psycopg's pipeline entered once per round)."""
    carried: list[int] = []
    plain = conn._conn.pipeline

    def counting():  # type: ignore[no-untyped-def]
        carried.append(0)
        return plain()
    conn._conn.pipeline = counting  # type: ignore[method-assign]
    real_cursor = conn._conn.cursor

    def cursor(*args, **kwargs):  # type: ignore[no-untyped-def]
        if conn._conn._pipeline is not None:
            carried[-1] += 1
        return real_cursor(*args, **kwargs)
    conn._conn.cursor = cursor  # type: ignore[method-assign]
    return carried


def test_answers_come_back_in_order_from_one_round_trip(postgres_dsn: str) -> None:
    conn = _connection(postgres_dsn)
    carried = _round_trips(conn)
    statements = [Statement("SELECT %(x)s::int * 2 AS v", {"x": n}, 5.0, guarded=False) for n in range(6)]
    assert conn.query_many(statements) == [[{"v": n * 2}] for n in range(6)]
    assert carried == [6]
    assert conn.query_many(statements) == [[{"v": n * 2}] for n in range(6)]  # prepared from the second run on
    conn.close()


def test_each_statement_is_its_own_transaction(postgres_dsn: str) -> None:
    """A Sync after each statement: no statement's locks are held through the others' run, and
    none shares a snapshot or a failure with the next."""
    conn = _connection(postgres_dsn)
    xacts = [_plain("SELECT pg_sleep(0.01), transaction_timestamp() AS t") for _ in range(3)]
    started = [rows[0]["t"] for rows in conn.query_many(xacts)]  # type: ignore[index]
    assert len(set(started)) == 3
    conn.close()


def test_a_failing_statement_gets_its_own_error_and_the_others_their_rows(postgres_dsn: str) -> None:
    conn = _connection(postgres_dsn)
    answers = conn.query_many([_plain("SELECT 1 AS a"), _plain("SELECT 1 / 0 AS b"), _plain("SELECT 3 AS c")])
    assert answers[0] == [{"a": 1}] and answers[2] == [{"c": 3}]
    assert isinstance(answers[1], ProbeFailure) and answers[1].kind == "sql"
    assert str(answers[1]) == "SQL error: division by zero"
    assert not conn.broken
    conn.close()


def test_several_failures_in_one_round_each_get_their_own_error(postgres_dsn: str) -> None:
    conn = _connection(postgres_dsn)
    answers = conn.query_many([_plain("SELECT 1 / 0 AS a"), _plain("SELECT 2 AS b"),
                               _plain("SELECT * FROM no_such_table"), _plain("SELECT pg_sleep(2)", 0.2)])
    assert answers[1] == [{"b": 2}]
    assert [str(a) for a in (answers[0], answers[2])] == [
        "SQL error: division by zero", 'SQL error: relation "no_such_table" does not exist']
    assert isinstance(answers[3], ProbeFailure) and answers[3].kind == "timeout"  # its own limit: run alone
    conn.close()


def test_a_timeout_in_the_round_is_that_statements_alone(postgres_dsn: str) -> None:
    conn = PostgresConnection(postgres_dsn, 5.0, 0.3)
    answers = conn.query_many([Statement("SELECT 1 AS a", {}, 0.3, False), Statement("SELECT pg_sleep(3)", {}, 0.3, False),
                               Statement("SELECT 3 AS c", {}, 0.3, False)])
    assert answers[0] == [{"a": 1}] and answers[2] == [{"c": 3}]
    assert isinstance(answers[1], ProbeFailure) and answers[1].kind == "timeout"
    assert conn.query("SELECT 4 AS d", {}, 0.3) == [{"d": 4}]
    conn.close()


def test_user_sql_in_a_round_runs_alone_and_the_session_is_reset_after(postgres_dsn: str) -> None:
    conn = _connection(postgres_dsn)
    carried = _round_trips(conn)
    answers = conn.query_many([
        _plain("SELECT 1 AS a"),
        Statement("SELECT set_config('search_path', 'nowhere', false) AS p", {}, 5.0, guarded=True),
        _plain("SELECT current_setting('search_path') AS p"),
    ])
    assert carried == [2]  # the user's statement was not in the pipeline
    assert answers[0] == [{"a": 1}] and answers[1] == [{"p": "nowhere"}]
    assert answers[2] != [{"p": "nowhere"}]  # ran before it, in the pipeline
    assert conn.query("SELECT current_setting('search_path') AS p", {}, 5.0, guarded=False) != [{"p": "nowhere"}]
    conn.close()


def test_a_session_killed_under_the_round_fails_every_statement_as_a_connection(postgres_dsn: str) -> None:
    conn = _connection(postgres_dsn)
    [[pid]] = [list(r[0].values()) for r in [conn.query("SELECT pg_backend_pid() AS pid", {}, 5.0)]]
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    answers = conn.query_many([_plain("SELECT 1 AS a"), _plain("SELECT 2 AS b")])
    assert all(isinstance(a, ProbeFailure) and a.kind == "connection" for a in answers)
    assert conn.broken
    conn.close()


def test_a_streamed_user_query_does_not_spoil_the_next_round(postgres_dsn: str) -> None:
    """psycopg 3.3 with libpq 18 keeps stream()'s chunked mode for the next pipeline unless a plain
    query comes between: the reset after user SQL is that query."""
    conn = _connection(postgres_dsn)
    assert conn.query("SELECT 1 AS a", {}, 5.0, guarded=True) == [{"a": 1}]
    assert conn.query_many([_plain("SELECT 2 AS b"), _plain("SELECT 3 AS c")]) == [[{"b": 2}], [{"c": 3}]]
    assert conn.query("SELECT 4 AS d", {}, 5.0, guarded=False) == [{"d": 4}]
    assert conn.query_many([_plain("SELECT 5 AS e"), _plain("SELECT 6 AS f")]) == [[{"e": 5}], [{"f": 6}]]
    conn.close()

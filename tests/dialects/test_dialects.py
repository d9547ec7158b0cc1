"""What each dialect renders: names, placeholders, counts, time arithmetic, time values, plan requests.

The SQL is run on the real databases in tests/probing (test_mysql.py, test_duckdb.py); here each
dialect's text is pinned, so a change to one shows up as exactly the strings it changes.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from watchdog.dialects import DIALECTS, DUCKDB, MYSQL, POSTGRESQL, SQLITE, Dialect

MOMENT = datetime(2026, 2, 4, 18, 5, 30, 250000, tzinfo=timezone(timedelta(hours=1)))  # 17:05:30.25 UTC


def test_every_database_is_registered_by_its_name():
    assert DIALECTS == {"postgresql": POSTGRESQL, "sqlite": SQLITE, "mysql": MYSQL, "duckdb": DUCKDB}


@pytest.mark.parametrize("dialect, name, quoted", [
    (POSTGRESQL, "ops.jobRuns", '"ops"."jobRuns"'),
    (SQLITE, "ops.jobRuns", "[ops].[jobRuns]"),
    (MYSQL, "ops.jobRuns", "`ops`.`jobRuns`"),
    (MYSQL, "a`b", "`a``b`"),
    (DUCKDB, "automation_runs", '"automation_runs"'),
    (DUCKDB, 'a"b', '"a""b"'),
])
def test_quote(dialect: Dialect, name: str, quoted: str):
    assert dialect.quote(name) == quoted


@pytest.mark.parametrize("dialect, marker, escaped", [
    (POSTGRESQL, "%(p0)s", "LIKE 'a%%'"),
    (SQLITE, ":p0", "LIKE 'a%'"),
    (MYSQL, "%(p0)s", "LIKE 'a%%'"),
    (DUCKDB, "$p0", "LIKE 'a%'"),
])
def test_placeholders_and_literal_percent(dialect: Dialect, marker: str, escaped: str):
    assert dialect.placeholder("p0") == marker
    assert dialect.escape_text("LIKE 'a%'") == escaped


@pytest.mark.parametrize("dialect, counted", [
    (POSTGRESQL, "COUNT(*) FILTER (WHERE x > 1)"),
    (SQLITE, "COALESCE(SUM(CASE WHEN x > 1 THEN 1 ELSE 0 END), 0)"),
    (MYSQL, "COALESCE(SUM(CASE WHEN x > 1 THEN 1 ELSE 0 END), 0)"),
    (DUCKDB, "COUNT(*) FILTER (WHERE x > 1)"),
])
def test_count_where(dialect: Dialect, counted: str):
    assert dialect.count_where("x > 1") == counted


@pytest.mark.parametrize("dialect, expected", [
    (MYSQL, "(TIMESTAMPDIFF(MICROSECOND, b, a) / 1000000.0)"),
    (DUCKDB, "(epoch(CAST(a AS TIMESTAMPTZ)) - epoch(CAST(b AS TIMESTAMPTZ)))"),
])
def test_seconds_between_timestamps(dialect: Dialect, expected: str):
    assert dialect.seconds_between("a", "b", "timestamp") == expected


@pytest.mark.parametrize("dialect", [MYSQL, DUCKDB])
def test_seconds_between_epochs(dialect: Dialect):
    assert dialect.seconds_between("a", "b", "s") == "((a) - (b))"
    assert dialect.seconds_between("a", "b", "ms") == "(((a) - (b)) / 1000.0)"


@pytest.mark.parametrize("dialect, value", [
    (MYSQL, datetime(2026, 2, 4, 17, 5, 30, 250000)),  # naive UTC: the session's time_zone is '+00:00'
    (DUCKDB, "2026-02-04T17:05:30.250Z"),  # ISO-8601 UTC text: cast to a timestamp column, ordered as text
])
def test_time_values(dialect: Dialect, value: object):
    assert dialect.time_value(MOMENT, "timestamp") == value
    assert dialect.time_value(MOMENT, "s") == 1770224730
    assert dialect.time_value(MOMENT, "ms") == 1770224730250


def test_duckdb_time_text_always_has_milliseconds():
    assert DUCKDB.time_value(datetime(2026, 2, 4, 17, 5, tzinfo=timezone.utc), "timestamp") == "2026-02-04T17:05:00.000Z"


@pytest.mark.parametrize("dialect, request_", [
    (POSTGRESQL, "EXPLAIN (FORMAT JSON, VERBOSE) SELECT 1"),
    (SQLITE, "EXPLAIN QUERY PLAN SELECT 1"),
    (MYSQL, "EXPLAIN FORMAT=JSON SELECT 1"),
    (DUCKDB, "EXPLAIN (FORMAT JSON) SELECT 1"),
])
def test_plan_request(dialect: Dialect, request_: str):
    assert dialect.plan_request("SELECT 1") == request_


@pytest.mark.parametrize("dialect, statement", [
    (POSTGRESQL, 'CREATE INDEX CONCURRENTLY "runs_job_id_idx" ON "runs" ("job_id");'),
    (SQLITE, "CREATE INDEX [runs_job_id_idx] ON [runs] ([job_id]);"),
    (MYSQL, "CREATE INDEX `runs_job_id_idx` ON `runs` (`job_id`) ALGORITHM=INPLACE LOCK=NONE;"),
    (DUCKDB, None),  # files cannot be indexed
])
def test_create_index(dialect: Dialect, statement: str | None):
    assert dialect.create_index("runs_job_id_idx", "runs", ["job_id"]) == statement

"""Time windows on the database's clock: a watchdog host whose clock is off by an hour neither pages
on fresh rows nor misses old ones, on a real PostgreSQL and a real MariaDB."""
from __future__ import annotations

import functools
from collections.abc import Callable
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pymysql
import psycopg
import pytest

from watchdog.evaluation.evaluator import evaluate
from watchdog.plan import build_plan
from watchdog.probing.clock import SKEW_MAX_AGE, SKEW_THRESHOLD, SkewMeter, host_wall, measure_skew, shifted
from watchdog.probing.connection import connect
from watchdog.probing.dsn import mysql_params

HOUR = 3600.0


def test_skew_is_the_server_minus_the_midpoint_of_the_request() -> None:
    walls = iter([100.0, 100.5])
    assert measure_skew(lambda: 3700.25, lambda: next(walls)) == pytest.approx(3600.0)


def test_noise_under_the_threshold_is_not_applied() -> None:
    assert measure_skew(lambda: 100.0 + SKEW_THRESHOLD * 0.9, lambda: 100.0) == 0.0
    assert measure_skew(lambda: 100.0 - SKEW_THRESHOLD * 1.1, lambda: 100.0) == pytest.approx(-SKEW_THRESHOLD * 1.1)


def test_a_sessions_skew_is_measured_again_once_it_is_old_and_a_failed_measure_keeps_the_last() -> None:
    server, mono, asked = [3700.0], [0.0], []

    def server_epoch() -> float:
        asked.append(mono[0])
        if server[0] < 0:
            raise OSError("the session is gone")
        return server[0]

    meter = SkewMeter(server_epoch, wall=lambda: 100.0, monotonic=lambda: mono[0], failure=OSError)
    assert meter.value() == 3600.0
    server[0], mono[0] = 1900.0, SKEW_MAX_AGE - 1  # the server's clock was corrected: not looked at yet
    assert meter.value() == 3600.0 and asked == [0.0]
    mono[0] = SKEW_MAX_AGE
    assert meter.value() == 1800.0 and asked == [0.0, SKEW_MAX_AGE]
    server[0], mono[0] = -1.0, 2 * SKEW_MAX_AGE
    assert meter.value() == 1800.0


def test_shifted_clock() -> None:
    at = datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc)
    assert shifted(lambda: at, 0.0)() is at
    assert shifted(lambda: at, -HOUR)() == at - timedelta(hours=1)


def test_a_file_database_is_on_this_hosts_clock(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "x.db").close()
    conn = connect(f"sqlite:///{tmp_path / 'x.db'}", wall=lambda: host_wall() + HOUR)
    assert conn.skew == 0.0


def _stuck_rules(write_rules, dsn: str) -> Path:
    return write_rules(f"""
        version: 1
        targets: {{main: {{dsn: "{dsn}"}}}}
        rules:
          - {{name: stuck, check: stuck, table: jobs, where: {{status: queued}}, time_column: created_at, older_than: 10m}}
    """)


def _judged_with_a_clock_an_hour_ahead(path: Path) -> tuple[str, int]:
    """The host's clock (both its wall clock and watchdog's `now`) an hour ahead of the database's."""
    plan = build_plan(path, env={})
    [result] = evaluate(plan.probes, plan.targets, connector=functools.partial(connect, wall=lambda: host_wall() + HOUR),
                        clock=lambda: datetime.now(timezone.utc) + timedelta(hours=1))
    assert result.error is None
    return result.status, result.violations


def _fresh_then_old(execute: Callable[[str], object], path: Path, row: str) -> None:
    """A row queued 2 minutes ago by the server's clock holds; one queued 20 minutes ago is stuck.
    Without the database's clock the fresh row would look 62 minutes old and page."""
    execute(row.format(id=1, minutes=2))
    assert _judged_with_a_clock_an_hour_ahead(path) == ("ok", 0)
    execute(row.format(id=2, minutes=20))
    assert _judged_with_a_clock_an_hour_ahead(path) == ("violated", 1)


def test_postgresql_windows_use_the_servers_clock(postgres_dsn: str, write_rules) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute("CREATE TABLE jobs (id int, status text, created_at timestamptz)")
        _fresh_then_old(admin.execute, _stuck_rules(write_rules, postgres_dsn),
                        "INSERT INTO jobs VALUES ({id}, 'queued', now() - interval '{minutes} minutes')")


@pytest.mark.mysql
def test_mysql_windows_use_the_servers_clock(mysql_dsn: str, write_rules) -> None:
    with pymysql.connect(**mysql_params(mysql_dsn), autocommit=True) as admin, admin.cursor() as cursor:
        cursor.execute("SET time_zone = '+00:00'")
        cursor.execute("CREATE TABLE jobs (id int, status varchar(10), created_at DATETIME(3))")
        _fresh_then_old(cursor.execute, _stuck_rules(write_rules, mysql_dsn),
                        "INSERT INTO jobs VALUES ({id}, 'queued', NOW(3) - INTERVAL {minutes} MINUTE)")

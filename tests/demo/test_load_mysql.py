"""The demo database on a real MariaDB (the throwaway server of tests/conftest.py): its schema, its
UTC times, and `watchdog demo --dsn mysql://...` end to end."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pymysql
import pytest

from watchdog.demo.incidents import SEEDS, dataset
from watchdog.demo.load import LoadError, load
from watchdog.demo.schema import TABLES, create_statements
from watchdog.dialects import MYSQL
from watchdog.probing.dsn import mysql_params

RULES = Path(__file__).resolve().parents[2] / "rules.yaml"


def test_schema_types_for_mysql():
    ddl = " ".join(create_statements(MYSQL))
    assert "`id` BIGINT AUTO_INCREMENT PRIMARY KEY" in ddl and "`started_at` DATETIME(6)" in ddl
    assert "CREATE INDEX `automation_runs_job_id_run_at_ms_idx` ON `automation_runs` (`job_id`, `run_at_ms`)" in ddl


@pytest.mark.mysql
def test_load_keeps_other_tables_and_stores_utc(mysql_dsn: str):
    with pymysql.connect(**mysql_params(mysql_dsn), autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE mine (x int)")
    now = datetime(2026, 2, 4, 19, 6, 30, tzinfo=timezone(timedelta(hours=2)))
    load(mysql_dsn, dataset(now, [seed.id for seed in SEEDS]))
    with pymysql.connect(**mysql_params(mysql_dsn)) as conn, conn.cursor() as cursor:
        cursor.execute("SHOW TABLES")
        assert {row[0] for row in cursor.fetchall()} == {t.name for t in TABLES} | {"mine"}
        cursor.execute("SELECT MAX(started_at) FROM batch_jobs")
        assert cursor.fetchone() == (datetime(2026, 2, 4, 17, 3, 30),)  # 3 min before now, in UTC
        cursor.execute("SELECT COUNT(*), SUM(env = 'staging') FROM automation_runs")
        assert cursor.fetchone() == (15, 3)


@pytest.mark.mysql
def test_demo_on_mariadb_runs_every_rule(mysql_dsn: str, tmp_path: Path):
    run = subprocess.run([sys.executable, "-m", "watchdog", "demo", "-c", str(RULES), "--dsn", mysql_dsn],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "1 ok, 18 violated, 0 error" in run.stdout


def test_unreachable_mysql_is_one_line_without_the_password():
    with pytest.raises(LoadError) as caught:
        load("mysql://app:hunter2secret@127.0.0.1:1/db", {})
    assert str(caught.value).startswith("cannot build the demo database mysql://app:***@127.0.0.1:1/db: Can't connect")
    assert "hunter2secret" not in str(caught.value)

"""The `schedule` kind on both dialects: seed 003's daily batch across both daylight saving changes,
and schedules read per job from a jobs table (a job that stopped, one that never ran, a bad schedule)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from watchdog.cli import main
from watchdog.demo.incidents import dataset
from watchdog.demo.files import write_tables
from watchdog.demo.load import load
from watchdog.model.values import TableSource
from integration.files_target import on_files

RULES = Path(__file__).resolve().parents[2] / "rules.yaml"


@pytest.fixture
def check(dsn: str, capsys: pytest.CaptureFixture[str], files: Path, tables: dict[str, Any]):
    """`watchdog check --format json` on the test's database (DuckDB: its tables as files)."""

    def run(*args: str, path: Path = RULES) -> dict[str, Any]:
        if dsn.startswith("duckdb"):
            path = on_files(path, files, tables)
        main(["check", "-c", str(path), "--dsn", dsn, "--format", "json", *args])
        return {r["rule"]: r for r in json.loads(capsys.readouterr().out)["results"]}

    return run


@pytest.fixture
def build(dsn: str, files: Path, tables: dict[str, Any]):
    """The demo tables at `now` with the given incidents, in the test's database or as files."""

    def made(now: datetime, incidents: list[str]) -> None:
        rows = dataset(now, incidents)
        if dsn.startswith("duckdb"):
            tables.update(write_tables(files, rows))
        else:
            load(dsn, rows)

    return made


@pytest.mark.parametrize("now, missed, duplicate, outside", [
    # Autumn: New York leaves EDT on Sunday Nov 1. Oct 31 (EDT) has no run; on Nov 2 (EST) the EDT entry
    # (07:00 UTC = 02:00 EST) ran it too: a second run in Nov 1's slot, which began at 08:00 UTC.
    (datetime(2026, 11, 4, 12, tzinfo=timezone.utc), "2026-10-31T03:00:00-04:00", "2026-11-01T03:00:00-05:00", 1),
    # Spring: New York enters EDT on Sunday Mar 8. Mar 7 (EST) has no run; on Mar 9 (EDT) both entries
    # (03:00 and 04:00 EDT) ran it, both in Mar 9's own slot.
    (datetime(2026, 3, 11, 12, tzinfo=timezone.utc), "2026-03-07T03:00:00-05:00", "2026-03-09T03:00:00-04:00", 0),
])
def test_daily_batch_once_per_new_york_date_across_daylight_saving(check, build, now, missed, duplicate, outside):
    with freeze_time(now):
        build(now, ["003"])
        result = check("--rule", "daily_batch_schedule")["daily_batch_schedule"]
    assert (result["status"], result["violations"]) == ("violated", 2), result
    assert [(s["problem"], s["fire_local"]) for s in result["samples"]] == [("missed", missed), ("duplicate", duplicate)]
    with freeze_time(now):
        counted = check("--rule", "daily_batch_once_per_date", "--rule", "daily_batch_outside_window")
    per_date = counted["daily_batch_once_per_date"]
    # the date with no run, and the date both entries ran it (a local day, wherever daylight saving put it)
    assert [(s["bucket"], s["value"]) for s in per_date["samples"]] == [(missed[:10], 0), (_second_run_date(now), 2)]
    # in winter the EDT entry's 07:00 UTC is 02:00 EST, outside 03:00-06:00; in summer both are inside
    assert counted["daily_batch_outside_window"]["value"] == outside
    with freeze_time(now):
        build(now, [])
        healthy = check("--rule", "daily_batch_schedule")["daily_batch_schedule"]
    assert (healthy["status"], healthy["error"]) == ("ok", None), healthy  # 03:00 local is 07:00 UTC, then 08:00 UTC


def _second_run_date(now: datetime) -> str:
    """The New York date two days before `now`'s, when the incident's two entries both ran the batch."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    return (now.astimezone(ZoneInfo("America/New_York")).date() - timedelta(days=2)).isoformat()


PER_JOB = """
version: 1
targets: {{main: {{dsn: '{dsn}'}}}}
rules:
  - name: jobs_on_schedule
    check: schedule
    table: job_runs
    time_column: started_at
    finished_column: finished_at
    max_runtime: 10m
    jobs: {{table: job_defs, "on": {{job_id: id}}, schedule_column: schedule, timezone_column: tz,
            name_column: name, where: {{enabled: 1}}}}
    grace: 2m
    lookback: 61m
    samples: 10
"""


def test_schedules_read_per_job(dsn, check, write_rules, files, tables):
    now = datetime(2026, 2, 4, 12, 0, 30, tzinfo=timezone.utc)
    stamp = {"sqlite": "TEXT", "mysql": "DATETIME"}.get(dsn.split(":", 1)[0], "timestamptz")
    _exec(dsn, files, tables, [
        "CREATE TABLE job_defs (id integer, name text, schedule text, tz text, enabled integer)",
        f"CREATE TABLE job_runs (job_id integer, started_at {stamp}, finished_at {stamp})",
        "INSERT INTO job_defs VALUES (1, 'every-10', '*/10 * * * *', 'UTC', 1), (2, 'stopped', '*/15 * * * *', NULL, 1),"
        " (3, 'never-ran', '0 * * * *', 'Europe/London', 1), (4, 'broken', '61 * * * *', NULL, 1),"
        " (5, 'disabled', '* * * * *', NULL, 0)",
    ], [("INSERT INTO job_runs VALUES (1, {}, {})", f"2026-02-04 {h:02d}:{m:02d}:05", f"2026-02-04 {h:02d}:{m:02d}:50")
        for h, m in ((11, 0), (11, 10), (11, 20), (11, 30), (11, 40), (11, 50), (12, 0))]
       + [("INSERT INTO job_runs VALUES (2, {}, {})", "2026-02-04 11:00:03", "2026-02-04 11:25:00")])
    with freeze_time(now):
        result = check(path=write_rules(PER_JOB.format(dsn=dsn)))["jobs_on_schedule"]
    got = sorted((s["name"], s["problem"], s.get("fire_utc", "")) for s in result["samples"])
    assert got == [
        ("broken", "bad_schedule", ""),
        ("never-ran", "missed", "2026-02-04T11:00:00+00:00"),   # 11:00 London = 11:00 UTC in February
        ("stopped", "missed", "2026-02-04T11:15:00+00:00"),
        ("stopped", "missed", "2026-02-04T11:30:00+00:00"),
        ("stopped", "missed", "2026-02-04T11:45:00+00:00"),
        ("stopped", "overlong", "2026-02-04T11:00:00+00:00"),   # ran 25 minutes, max_runtime 10m
    ], result
    assert result["violations"] == 6


def _exec(dsn: str, files: Path, tables: dict[str, Any], statements: list[str], inserts: list[tuple[str, str, str]]) -> None:
    """Writes through the driver directly (watchdog's own connections are read-only); for DuckDB,
    the same rows as JSONL files."""
    if dsn.startswith("duckdb"):
        import duckdb

        db = duckdb.connect()
        for sql in statements:
            db.execute(sql.replace("timestamptz", "TIMESTAMPTZ"))
        for sql, a, b in inserts:
            db.execute(sql.format("?::TIMESTAMPTZ", "?::TIMESTAMPTZ"), [a + "+00", b + "+00"])
        for table in ("job_defs", "job_runs"):
            folder = files / table
            folder.mkdir(parents=True)
            db.execute(f"COPY {table} TO '{folder / 'rows.jsonl'}' (FORMAT JSON)")
            tables[table] = TableSource(str(folder / "*.jsonl"), "jsonl")
        return
    if dsn.startswith("mysql"):
        import pymysql

        from watchdog.probing.dsn import mysql_params

        with pymysql.connect(**mysql_params(dsn), autocommit=True) as db, db.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
            for sql, a, b in inserts:
                cursor.execute(sql.format("%s", "%s"), (a, b))
        return
    if dsn.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(dsn.split("///", 1)[1]) as db:
            for sql in statements:
                db.execute(sql)
            for sql, a, b in inserts:
                db.execute(sql.format("?", "?"), (a, b))
        return
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as db:
        for sql in statements:
            db.execute(sql)
        for sql, a, b in inserts:
            db.execute(sql.format("%s::timestamptz", "%s::timestamptz"), (a + "+00", b + "+00"))

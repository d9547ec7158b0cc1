"""`watchdog explain` on real PostgreSQL and SQLite: plans without running the probes, a warning with
the CREATE INDEX that fixes a sequential scan of a large table, silence once the index exists."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from watchdog.cli import main

RULES = """
version: 1
targets:
  main: {{dsn: "{dsn}"}}
rules:
  - {{name: jobs_stuck, check: stuck, table: jobs, where: {{status: pending}}, time_column: created_at, older_than: 5m}}
"""
ROWS = 20_000


def explain(write_rules: Callable[[str], Path], dsn: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["explain", "-c", str(write_rules(RULES.format(dsn=dsn))), *args])
    return code, capsys.readouterr().out


@pytest.mark.postgres
def test_postgresql_a_large_sequential_scan_warns_with_its_index_and_the_index_silences_it(
        postgres_dsn: str, write_rules: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE jobs (id serial PRIMARY KEY, status text, created_at timestamptz)")
        conn.execute(f"INSERT INTO jobs (status, created_at) SELECT 'done', now() - i * interval '1 minute' FROM generate_series(1, {ROWS}) i")
        conn.execute("ANALYZE jobs")
    code, out = explain(write_rules, postgres_dsn, capsys)
    assert code == 1, out
    assert out.startswith("jobs_stuck on main (stuck) [postgresql]  cost ") and "\n  Seq Scan on jobs  ~" in out
    assert f"WARNING: reads all of jobs (~{ROWS:,} rows) on every evaluation" in out
    assert 'CREATE INDEX CONCURRENTLY "jobs_status_created_at_idx" ON "jobs" ("status", "created_at");' in out

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute('CREATE INDEX "jobs_status_created_at_idx" ON "jobs" ("status", "created_at")')
        conn.execute("ANALYZE jobs")
        assert conn.execute("SELECT count(*) FROM jobs WHERE status = 'pending'").fetchone() == (0,)
    code, out = explain(write_rules, postgres_dsn, capsys, "--large", "1000")
    assert code == 0, out
    assert "using jobs_status_created_at_idx on jobs" in out and "WARNING" not in out


def test_sqlite_search_using_an_index_is_fine_and_a_scan_of_a_large_table_is_not(
        tmp_path: Path, write_rules: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "jobs.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT, created_at TEXT)")
        conn.executemany("INSERT INTO jobs (status, created_at) VALUES ('done', '2026-01-01 00:00:00')", [()] * ROWS)
    code, out = explain(write_rules, f"sqlite:///{db}", capsys)
    assert code == 1 and "  SCAN on jobs" in out
    assert "CREATE INDEX [jobs_status_created_at_idx] ON [jobs] ([status], [created_at]);" in out
    assert explain(write_rules, f"sqlite:///{db}", capsys, "--large", str(ROWS + 1))[0] == 0

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE INDEX jobs_status_created_at_idx ON jobs (status, created_at)")
    code, out = explain(write_rules, f"sqlite:///{db}", capsys)
    assert code == 0 and "  SEARCH using jobs_status_created_at_idx on jobs" in out


def test_a_target_that_cannot_be_reached_is_an_error_exit_3(tmp_path: Path, write_rules: Callable[[str], Path],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out = explain(write_rules, f"sqlite:///{tmp_path / 'missing' / 'x.db'}", capsys)
    assert code == 3 and "ERROR: cannot open SQLite database" in out


@pytest.mark.parametrize("large, message", [
    ("-5", "a number of rows cannot be negative, got -5"),
    ("many", "expected a number of rows, got 'many'"),
])
def test_large_must_be_a_number_of_rows(write_rules: Callable[[str], Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str], large: str, message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["explain", "-c", str(write_rules(RULES.format(dsn=f"sqlite:///{tmp_path / 'x.db'}"))), f"--large={large}"])
    assert exited.value.code == 2
    assert f"argument --large: {message}" in capsys.readouterr().err


def test_one_row_is_one_row() -> None:
    from watchdog.commands.explain import rows_label

    assert [rows_label(n) for n in (0, 1, 1.2, 2, 20_000)] == ["0 rows", "1 row", "1 row", "2 rows", "20,000 rows"]


def test_an_index_is_named_once_and_never_suggested_when_it_exists() -> None:
    from watchdog.commands.explain import render
    from watchdog.config.model import Rule
    from watchdog.evaluation.explain import Advice, Explanation, Scan

    used = Scan("Index Scan", "runs", index="runs_started_at_idx", rows=3)
    explanation = Explanation(
        (Rule(name="r", check="allowlist", target="main", params={}),), "postgresql",
        (Scan("Seq Scan", "runs", rows=143), used, used), 18.7,
        (Advice("runs", 143, 'CREATE INDEX CONCURRENTLY "runs_started_at_idx" ON "runs" ("started_at");'),))
    assert render("r on main", explanation) == (
        "r on main (allowlist) [postgresql]  cost 18.7\n"
        "  Seq Scan on runs  ~143 rows\n"
        "  Index Scan using runs_started_at_idx on runs  ~3 rows\n"
        "  WARNING: reads all of runs (~143 rows) on every evaluation\n")

"""Running a unit: a row-level rule that held costs its count alone; never evaluated or once
violated, one statement brings the count and the samples, until it holds again."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from watchdog.evaluation.execute import run_units
from watchdog.evaluation.units import Unit
from watchdog.plan import build_plan
from watchdog.probing.connection import SqliteConnection

NOW = datetime(2026, 2, 4, 17, 6, tzinfo=timezone.utc)


class Recording:
    """A real SQLite connection that remembers the statements it ran (which form the probe chose)."""

    def __init__(self, dsn: str) -> None:
        self.inner = SqliteConnection(dsn, 5.0)
        self.broken = False
        self.statements: list[str] = []

    def query(self, sql: str, params: dict[str, Any], timeout: float, guarded: bool = True) -> list[dict[str, Any]]:
        self.statements.append(sql)
        return self.inner.query(sql, params, timeout, guarded)


def test_a_holding_rule_runs_its_count_alone_and_a_violated_one_a_single_statement(tmp_path: Path, write_rules) -> None:
    db = tmp_path / "jobs.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE jobs (id integer, status text, created_at text)")
    path = write_rules(f"""
        version: 1
        targets: {{main: {{dsn: "sqlite:///{db}"}}}}
        rules:
          - {{name: stuck, check: stuck, table: jobs, where: {{status: pending}}, time_column: created_at, older_than: 5m}}
    """)
    [probe] = build_plan(path, env={}).probes
    unit, conn = Unit(probe), Recording(f"sqlite:///{db}")
    target = build_plan(path, env={}).targets["main"]

    def evaluate() -> tuple[str, int, list[str]]:
        conn.statements.clear()
        [result] = run_units(conn, [unit], target, lambda: NOW)[0].values()  # type: ignore[arg-type]
        return result.status, result.violations, list(conn.statements)

    assert evaluate() == ("ok", 0, [probe.sql])  # nothing known yet: count and samples in one statement
    assert evaluate() == ("ok", 0, [probe.count_sql])  # held: one statement, the count
    with sqlite3.connect(db) as db_conn:
        db_conn.execute("INSERT INTO jobs VALUES (1, 'pending', '2026-02-04 16:00:00'), (2, 'pending', '2026-02-04 15:00:00')")
    status, violations, statements = evaluate()  # the turn: the count, then the samples it has to show
    assert (status, violations, statements) == ("violated", 2, [probe.count_sql, probe.samples_sql])
    assert evaluate()[2] == [probe.sql]  # still violated: count and samples in one statement
    with sqlite3.connect(db) as db_conn:
        db_conn.execute("DELETE FROM jobs")
    assert evaluate() == ("ok", 0, [probe.sql])  # the turn back is seen by the one statement...
    assert evaluate()[2] == [probe.count_sql]  # ...and then the count alone again

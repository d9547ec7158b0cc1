"""min_population: a rule that sees fewer rows than it should is an error, never a pass."""
from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from watchdog.cli import main

RULES = """
version: 1
targets: {{main: {{dsn: '{dsn}'}}}}
rules:
  - {{name: pending_jobs, check: stuck, table: jobs, where: {{status: pending}}, time_column: created_at, older_than: 5m, {extra}}}
"""


def check(write_rules, capsys, dsn: str, extra: str) -> dict:
    code = main(["check", "-c", str(write_rules(RULES.format(dsn=dsn, extra=extra))), "--format", "json"])
    [result] = json.loads(capsys.readouterr().out)["results"]
    return {"code": code, **result}


@pytest.mark.postgres
def test_a_rule_blinded_by_row_level_security_is_an_error_with_min_population(postgres_dsn, postgres_server, write_rules, capsys):
    role = f"wd_ro_{uuid.uuid4().hex[:8]}"
    schema = postgres_dsn.rsplit("%3D", 1)[1]
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE jobs (id int, status text, created_at timestamptz)")
        conn.execute("INSERT INTO jobs VALUES (1, 'pending', now() - interval '1 hour'), (2, 'pending', now())")
        conn.execute("ALTER TABLE jobs ENABLE ROW LEVEL SECURITY")
        conn.execute("CREATE POLICY own ON jobs USING (false)")  # the read-only role sees no row
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        conn.execute(f"GRANT SELECT ON jobs TO {role}")
    blind = postgres_dsn.replace("postgres@", f"{role}@")
    try:
        assert check(write_rules, capsys, postgres_dsn, "samples: 0")["status"] == "violated"  # the owner sees the stuck job
        assert check(write_rules, capsys, blind, "samples: 0")["status"] == "ok"  # the blind role: silently ok
        guarded = check(write_rules, capsys, blind, "min_population: 1")
        assert (guarded["code"], guarded["status"]) == (3, "error")
        assert "sees 0 matching rows, fewer than its min_population 1" in guarded["error"]
        seen = check(write_rules, capsys, postgres_dsn, "min_population: 2")
        assert (seen["status"], seen["violations"]) == ("violated", 1)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY {role}')
            conn.execute(f"DROP ROLE {role}")


def test_min_population_counts_the_rules_own_filter_not_the_violation(tmp_path, write_rules, capsys):
    import sqlite3

    db = tmp_path / "jobs.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE jobs (id int, status text, created_at text)")
        conn.execute("INSERT INTO jobs VALUES (1, 'pending', '2000-01-01 00:00:00'), (2, 'done', '2000-01-01 00:00:00')")
    dsn = f"sqlite:///{db}"
    assert check(write_rules, capsys, dsn, "min_population: 1")["status"] == "violated"  # one pending row: enough
    short = check(write_rules, capsys, dsn, "min_population: 2")
    assert short["status"] == "error" and "sees 1 matching row, fewer than its min_population 2" in short["error"]

"""`watchdog doctor` against real databases: SQLite files, and PostgreSQL with its grants,
row-level security and column types. Each case is a mistake an operator makes, caught before the
rules are trusted."""
from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from watchdog.cli import main

SQLITE_RULES = """
version: 1
targets:
  main: {{dsn: "sqlite:///{db}"}}
rules:
{rules}"""


@pytest.fixture
def jobs_db(tmp_path: Path) -> Path:
    path = tmp_path / "jobs.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT, created_at TIMESTAMP, run_at_ms INTEGER)")
        conn.execute("INSERT INTO jobs (status, created_at, run_at_ms) VALUES ('running', '2026-01-01 00:00:00', 1767225600000),"
                     " ('done', '2026-01-01 00:00:00', 1767225600000)")
    return path


def doctor(write_rules: Callable[..., Path], db: Path, rules: str, *args: str) -> int:
    return main(["doctor", "-c", str(write_rules(SQLITE_RULES.format(db=db, rules=rules))), *args])


def test_sqlite_a_file_that_checks_out_exits_0(write_rules, jobs_db, capsys) -> None:
    rules = "  - {name: stuck, check: stuck, table: jobs, where: {status: running}, time_column: created_at, older_than: 5m}\n"
    assert doctor(write_rules, jobs_db, rules) == 0
    assert capsys.readouterr().out == "doctor: the 1 rule(s) check out against the database\n"


def test_sqlite_missing_table_and_column_are_problems_exit_2(write_rules, jobs_db, capsys) -> None:
    rules = ("  - {name: gone, check: count, table: job}\n"
             "  - {name: typo, check: stuck, table: jobs, time_column: created, older_than: 5m}\n")
    assert doctor(write_rules, jobs_db, rules) == 2
    out = capsys.readouterr().out
    assert ":5:5: rule 'gone': problem: table job does not exist (or is not on the search_path of the target's role)" in out
    assert ":6:5: rule 'typo': problem: column created does not exist in jobs (did you mean created_at?)" in out
    assert out.endswith("doctor: 4 problem(s), 0 warning(s)\n")  # and each probe fails too


def test_a_filter_value_no_row_has_is_a_warning_with_the_closest_value(write_rules, jobs_db, capsys) -> None:
    rules = "  - {name: stuck, check: stuck, table: jobs, where: {status: runing}, time_column: created_at, older_than: 5m}\n"
    assert doctor(write_rules, jobs_db, rules) == 0
    assert "rule 'stuck': warning: where status: 'runing' matches no row of jobs (did you mean 'running'?)" in capsys.readouterr().out
    assert doctor(write_rules, jobs_db, rules, "--strict") == 1


def test_a_count_that_expects_no_row_is_not_warned_about_its_filter(write_rules, jobs_db, capsys) -> None:
    rules = "  - {name: none_failed, check: count, table: jobs, where: {status: failed}, expect: '== 0'}\n"
    assert doctor(write_rules, jobs_db, rules, "--strict") == 0


def test_sqlite_an_epoch_unit_on_a_timestamp_column_and_a_timestamp_read_from_an_integer(write_rules, jobs_db, capsys) -> None:
    rules = ("  - {name: epoch, check: stuck, table: jobs, time_column: created_at, time_unit: s, older_than: 5m}\n"
             "  - {name: stamp, check: stuck, table: jobs, time_column: run_at_ms, older_than: 5m}\n")
    assert doctor(write_rules, jobs_db, rules) == 2
    out = capsys.readouterr().out
    assert ("rule 'epoch': problem: time_unit: s reads created_at as epoch numbers, but it is timestamp: remove time_unit"
            " (a timestamp is compared as it is)") in out
    assert "rule 'stamp': problem: run_at_ms is integer, not a timestamp: if it holds epoch seconds or milliseconds, set time_unit: s or ms" in out


@pytest.fixture
def pg_schema(postgres_server: str) -> Iterator[tuple[str, str]]:
    """A schema with a jobs table (RLS enabled, one row per owner) and a login role that may read
    it but sees none of its rows; (schema, role)."""
    schema, role = f"wd_doc_{uuid.uuid4().hex[:8]}", f"wd_doc_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".runs (id bigint, status text, started_at timestamptz, owner text)')
        conn.execute(f"""INSERT INTO "{schema}".runs VALUES (1, 'running', now(), 'postgres')""")
        conn.execute(f'CREATE TABLE "{schema}".secret (id bigint)')
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        conn.execute(f'GRANT SELECT ON "{schema}".runs TO "{role}"')
        conn.execute(f'ALTER TABLE "{schema}".runs ENABLE ROW LEVEL SECURITY')
        conn.execute(f'CREATE POLICY mine ON "{schema}".runs USING (owner = current_user)')
    yield schema, role
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.execute(f'DROP ROLE "{role}"')


def pg_rules(write_rules, postgres_server: str, user: str, rules: str) -> Path:
    host = psycopg.conninfo.conninfo_to_dict(postgres_server)
    dsn = f"postgresql://{user}@{host.get('host', '127.0.0.1')}:{host.get('port', 5432)}/{host['dbname']}"
    return write_rules(f"version: 1\ntargets:\n  main: {{dsn: '{dsn}'}}\nrules:\n{rules}")


@pytest.mark.postgres
def test_postgresql_rls_that_hides_every_row_and_a_table_without_grant_are_problems(write_rules, postgres_server, pg_schema, capsys) -> None:
    schema, role = pg_schema
    rules = (f"  - {{name: running, check: count, table: {schema}.runs, where: {{status: running}}}}\n"
             f"  - {{name: hidden, check: count, table: {schema}.secret}}\n")
    assert main(["doctor", "-c", str(pg_rules(write_rules, postgres_server, role, rules))]) == 2
    out = capsys.readouterr().out
    assert (f"rule 'running': problem: row-level security on {schema}.runs hides every row from role '{role}', so rules over it"
            f" would hold on nothing: ALTER ROLE {role} BYPASSRLS, or read it through a view whose owner sees the rows") in out
    assert f"rule 'hidden': problem: role '{role}' cannot read {schema}.secret: GRANT SELECT ON {schema}.secret TO {role}" in out
    # The table's owner sees its rows: the same rule checks out.
    assert main(["doctor", "-c", str(pg_rules(write_rules, postgres_server, "postgres", rules.splitlines()[0] + "\n"))]) == 0


@pytest.mark.postgres
def test_postgresql_an_epoch_unit_on_timestamptz_is_a_problem_with_a_hint(write_rules, postgres_server, pg_schema, capsys) -> None:
    schema, _ = pg_schema
    rules = f"  - {{name: late, check: stuck, table: {schema}.runs, time_column: started_at, time_unit: s, older_than: 5m}}\n"
    assert main(["doctor", "-c", str(pg_rules(write_rules, postgres_server, "postgres", rules))]) == 2
    assert ("rule 'late': problem: time_unit: s reads started_at as epoch numbers, but it is timestamp with time zone: "
            "remove time_unit (a timestamp is compared as it is)") in capsys.readouterr().out


def test_a_column_the_rule_groups_by_that_is_null_in_every_row_is_a_warning(write_rules, tmp_path, capsys) -> None:
    """What Celery's defaults write (no task_name without result_extended): a per-task ratio would
    see one group of everything."""
    db = tmp_path / "results.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE results (status TEXT, task_name TEXT, date_done TIMESTAMP)")
        conn.execute("INSERT INTO results VALUES ('SUCCESS', NULL, '2026-01-01 00:00:00'), ('FAILURE', NULL, '2026-01-01 00:00:00')")
    rules = ("  - {name: failing, check: ratio, table: results, failed: {status: FAILURE}, max: 0.5, group_by: [task_name],"
             " time_column: date_done, window: 1h}\n")
    assert doctor(write_rules, db, rules, "--strict") == 1
    assert ("rule 'failing': warning: task_name is NULL in every row of results: the rule cannot tell rows apart or age them by it"
            in capsys.readouterr().out)

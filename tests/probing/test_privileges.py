"""`watchdog check` warns, once per target, when the role could write despite read-only transactions."""
from __future__ import annotations

import uuid
from dataclasses import replace

import psycopg
import pytest

from watchdog.cli import main
from watchdog.evaluation.evaluator import Evaluator
from watchdog.plan import build_plan
from watchdog.probing.connection import Connection, connect
from watchdog.probing.privileges import role_warnings


def rules(write_rules, dsn: str):
    return write_rules(f"""
        version: 1
        targets: {{main: {{dsn: "{dsn}"}}}}
        rules:
          - {{name: failed, check: count, table: jobs, where: {{status: failed}}, expect: "== 0"}}
          - {{name: stuck, check: stuck, table: jobs, where: {{status: running}}, time_column: at, older_than: 1h}}
    """)


@pytest.fixture
def jobs(postgres_dsn):
    with psycopg.connect(postgres_dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE jobs (status text, at timestamptz)")
    return postgres_dsn


@pytest.fixture
def role(postgres_server, jobs):
    """A login role of its own (the server trusts local connections), dropped after the test."""
    name = f"wd_role_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(jobs, autocommit=True) as admin:
        schema = admin.execute("SELECT current_schema()").fetchone()[0]
        admin.execute(f"CREATE ROLE {name} LOGIN")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {name}")
    yield name, jobs.replace("postgres@", f"{name}@", 1)
    with psycopg.connect(jobs, autocommit=True) as admin:
        admin.execute(f"DROP OWNED BY {name}")
        admin.execute(f"DROP ROLE {name}")


@pytest.mark.postgres
def test_a_superuser_is_warned_about_once_per_target(jobs, write_rules, capsys):
    assert main(["check", "-c", str(rules(write_rules, jobs))]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        "watchdog: warning: target 'main': role 'postgres' is a superuser: dblink_exec, lo_export or COPY ... TO "
        "PROGRAM can write despite the read-only transaction; use a role that can only SELECT (README, Safety)"
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("grant, warned", [("SELECT, UPDATE", True), ("SELECT", False)])
def test_a_role_is_warned_about_only_if_it_can_write_a_watched_table(role, write_rules, capsys, grant, warned):
    name, dsn = role
    with psycopg.connect(dsn.replace(f"{name}@", "postgres@", 1), autocommit=True) as admin:
        admin.execute(f"GRANT {grant} ON jobs TO {name}")
    assert main(["check", "-c", str(rules(write_rules, dsn))]) == 0
    warning = f"watchdog: warning: target 'main': role '{name}' may write to jobs; use a role that can only SELECT (README, Safety)\n"
    assert capsys.readouterr().err == (warning if warned else "")



@pytest.mark.postgres
def test_the_role_is_looked_up_on_a_session_the_probes_then_reuse(jobs, write_rules):
    plan = build_plan(rules(write_rules, jobs))
    opened: list[str] = []

    def connector(dsn: str, connect_timeout: float, statement_timeout: float, **_: object) -> Connection:
        opened.append(dsn)
        return connect(dsn, connect_timeout, statement_timeout)

    evaluator = Evaluator({name: replace(t, pool_size=1) for name, t in plan.targets.items()}, connector=connector)
    try:
        warnings = list(role_warnings(plan.probes, evaluator.session))
        results = evaluator.evaluate(plan.probes)
    finally:
        evaluator.close()
    assert len(warnings) == 1 and "is a superuser" in warnings[0]
    assert [r.status for r in results] == ["ok", "ok"] and len(opened) == 1

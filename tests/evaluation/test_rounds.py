"""An evaluation sends each connection's statements together: a target's units are drained by at most
pool_size connections in chunks, and a chunk's statements go out in rounds, one round trip each on
PostgreSQL. Every rule still gets its own answer or error."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from watchdog.evaluation.evaluator import Evaluator
from watchdog.evaluation.execute import run_units, utc_now
from watchdog.evaluation.units import Unit, plan_units
from watchdog.plan import build_plan
from watchdog.probing.connection import PostgresConnection, connect

pytestmark = pytest.mark.postgres

RULES = """
version: 1
targets: {{main: {{dsn: "{dsn}", pool_size: {pool}}}}}
rules:
  - {{name: stuck, check: stuck, table: jobs, where: {{status: pending}}, time_column: created_at, older_than: 5m}}
  - {{name: beats, check: stale_heartbeat, table: workers, heartbeat_column: beat_at, max_age: 1m}}
  - {{name: missing, check: count, table: no_such_table, expect: ">= 1"}}
  - {{name: started, check: absent, table: events, where: {{kind: job_started}}, time_column: at, within: 1h}}
  - {{name: dupes, check: duplicate, table: events, key: [kind, at]}}
  - {{name: custom, check: sql, query: "SELECT id FROM jobs WHERE status = 'failed'"}}
"""


class Rounds:
    """A real PostgreSQL connection that notes how many statements went out in each round."""

    def __init__(self, conn: PostgresConnection, rounds: list[int]) -> None:
        self.conn, self.rounds = conn, rounds
        self.broken = False

    def query(self, *args: Any) -> Any:
        self.rounds.append(1)
        return self.conn.query(*args)

    def query_many(self, statements: Any) -> Any:
        self.rounds.append(len(statements))
        return self.conn.query_many(statements)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def database(postgres_dsn: str) -> str:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE jobs (id int, status text, created_at timestamptz)")
        conn.execute("INSERT INTO jobs VALUES (1, 'pending', now() - interval '1 hour'), (2, 'failed', now())")
        conn.execute("CREATE TABLE workers (id int, beat_at timestamptz)")
        conn.execute("INSERT INTO workers VALUES (1, now())")
        conn.execute("CREATE TABLE events (kind text, at timestamptz)")
        conn.execute("INSERT INTO events VALUES ('job_started', now()), ('x', '2026-01-01'), ('x', '2026-01-01')")
    return postgres_dsn


def _plan(write_rules: Callable[[str], Path], dsn: str, pool: int) -> Any:
    return build_plan(write_rules(RULES.format(dsn=dsn, pool=pool)), env={})


def test_a_connections_units_share_round_trips_and_keep_their_own_answers(write_rules, database: str) -> None:
    plan = _plan(write_rules, database, 1)
    rounds: list[int] = []
    evaluator = Evaluator(plan.targets, connector=lambda dsn, *a, **k: Rounds(connect(dsn), rounds))
    try:
        results = evaluator.evaluate(plan.probes)
    finally:
        evaluator.close()
    alone = [run_units(connect(database), [Unit(p)], plan.targets["main"], utc_now)[0][id(p)] for p in plan.probes]
    view = lambda r: (r.rule, r.status, r.violations, r.error)  # noqa: E731
    assert [view(r) for r in results] == [view(r) for r in alone]
    assert [view(r) for r in results] == [
        ("stuck", "violated", 1, None), ("beats", "ok", 0, None),
        ("missing", "error", 0, 'SQL error: relation "no_such_table" does not exist'),
        ("started", "ok", 0, None), ("dupes", "violated", 1, None), ("custom", "violated", 1, None)]
    # All six first statements handed over in one round (the connection pipelines the five compiled
    # ones and runs the user's SQL alone, the session reset after it: tests/probing/test_pipeline.py);
    # nothing more: a rule found violated got its samples in its one statement.
    assert rounds[0] == 6 and sum(rounds) == 6


def test_a_target_is_never_given_more_than_pool_size_sessions(write_rules, database: str) -> None:
    plan = _plan(write_rules, database, 2)
    opened: list[str] = []

    def connector(dsn: str, *args: Any, **kwargs: Any) -> Any:
        opened.append(dsn)
        return connect(dsn, *args, **kwargs)
    evaluator = Evaluator(plan.targets, connector=connector)
    try:
        units = plan_units(plan.probes)
        assert [r.status for r in evaluator.evaluate(plan.probes, units)].count("error") == 1
        assert [r.status for r in evaluator.evaluate(plan.probes, units)].count("error") == 1
    finally:
        evaluator.close()
    assert len(opened) == 2


def test_a_session_killed_between_evaluations_is_replaced_for_the_whole_group(write_rules, database: str) -> None:
    plan = _plan(write_rules, database, 1)
    targets = {name: replace(t, statement_timeout=2.0) for name, t in plan.targets.items()}
    evaluator = Evaluator(targets)
    try:
        first = evaluator.evaluate(plan.probes)
        with evaluator.session("main") as conn:
            [[pid]] = [list(conn.query("SELECT pg_backend_pid() AS pid", {}, 2.0)[0].values())]
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        again = evaluator.evaluate(plan.probes)
    finally:
        evaluator.close()
    assert [(r.rule, r.status) for r in again] == [(r.rule, r.status) for r in first]
    assert not any("unreachable" in (r.error or "") for r in again)

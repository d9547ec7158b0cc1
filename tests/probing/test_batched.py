"""One scan per table: batched evaluation gives the same results as rule-by-rule, with fewer queries."""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timezone

import psycopg
import pytest
from freezegun import freeze_time

from watchdog.compiler.batch import split
from watchdog.plan import build_plan
from watchdog.probing.connection import Pipelining, connect
from watchdog.evaluation.evaluator import Evaluator, evaluate
from watchdog.evaluation.units import Unit
from watchdog.model.conditions import Compare, In, time_bound
from watchdog.evaluation.execute import run_units

NOW = datetime(2026, 2, 4, 17, 5, tzinfo=timezone.utc)
RULES = """
version: 1
targets: {{main: {{dsn: "{dsn}"}}}}
rules:
  - {{name: stuck_pending, check: stuck, table: jobs, where: {{status: pending}}, time_column: created_at, older_than: 5m}}
  - {{name: stuck_running, check: stuck, table: jobs, where: {{status: running}}, time_column: created_at, older_than: 1h}}
  - {{name: bad_type, check: allowlist, table: jobs, column: job_type, allowed: [sitemap, deep_scan]}}
  - {{name: recent_jobs, check: count, table: jobs, time_column: created_at, window: 1h, expect: ">= 1"}}
  - {{name: other_table, check: count, table: domains}}
"""
JOBS = [  # id, job_type, status, created_at
    (1, "sitemap", "pending", "2026-02-04 17:04:00"),
    (2, "sitemap", "pending", "2026-02-04 16:00:00"),
    (3, "deep_scan", "running", "2026-02-04 16:30:00"),
    (4, "mystery", "done", "2026-02-04 12:00:00"),
]


class Counting:
    """A real connection that counts the statements it is asked to run."""

    def __init__(self, conn):
        self.conn, self.queries = conn, []
        self.broken = False

    def query(self, sql, params, timeout, guarded=True):
        self.queries.append(sql)
        return self.conn.query(sql, params, timeout, guarded)

    def close(self):
        self.conn.close()


class CountingRounds(Counting):
    """The same for a connection that sends statements together: `rounds` holds how many went in each."""

    def __init__(self, conn):
        super().__init__(conn)
        self.rounds = []

    def query_many(self, statements):
        self.rounds.append(len(statements))
        self.queries += [s.sql for s in statements]
        return self.conn.query_many(statements)


def counting(conn):
    return CountingRounds(conn) if isinstance(conn, Pipelining) else Counting(conn)


def load(dialect: str, dsn: str, rows) -> None:
    ts = "timestamptz" if dialect == "postgresql" else "TEXT"
    ddl = [f"CREATE TABLE jobs (id bigint PRIMARY KEY, job_type text, status text, created_at {ts})",
           "CREATE TABLE domains (id bigint PRIMARY KEY)", "INSERT INTO domains VALUES (1)"]
    if dialect == "postgresql":
        with psycopg.connect(dsn, autocommit=True) as conn:
            for stmt in ddl:
                conn.execute(stmt)
            for row in rows:
                conn.execute("INSERT INTO jobs VALUES (%s, %s, %s, %s::timestamp AT TIME ZONE 'UTC')", row)
    else:
        conn = sqlite3.connect(dsn.removeprefix("sqlite:///"))
        for stmt in ddl:
            conn.execute(stmt)
        conn.executemany("INSERT INTO jobs VALUES (?, ?, ?, ?)", rows)
        conn.commit()
        conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target(request, tmp_path):
    if request.param == "postgresql":
        return "postgresql", request.getfixturevalue("postgres_dsn")
    return "sqlite", f"sqlite:///{tmp_path / 'jobs.db'}"


def test_rules_on_one_table_share_one_batch(write_rules, target):
    plan = build_plan(write_rules(RULES.format(dsn=target[1])), env={})
    batches, alone = split(plan.probes)
    assert [[p.rule.name for p in b.members] for b in batches] == [["stuck_pending", "stuck_running", "bad_type", "recent_jobs"]]
    assert [p.rule.name for p in alone] == ["other_table"]


@freeze_time(NOW)
def test_batched_results_equal_rule_by_rule(write_rules, target):
    dialect, dsn = target
    load(dialect, dsn, JOBS)
    plan = build_plan(write_rules(RULES.format(dsn=dsn)), env={})
    conn = counting(connect(dsn))
    # One connection: every unit's statements share its rounds (with two, each unit would have its own).
    targets = {name: replace(target, pool_size=1) for name, target in plan.targets.items()}
    batched = evaluate(plan.probes, targets, connector=lambda *_: conn)
    one_by_one = [run_units(connect(dsn), [Unit(p)], plan.targets["main"], lambda: NOW)[0][id(p)] for p in plan.probes]
    strip = lambda r: (r.rule, r.status, r.violations, r.value, [s["id"] for s in r.samples])  # noqa: E731
    assert [strip(r) for r in batched] == [strip(r) for r in one_by_one]
    assert [strip(r) for r in batched] == [
        ("stuck_pending", "violated", 1, 1.0, [2]),
        ("stuck_running", "ok", 0, 0.0, []),
        ("bad_type", "violated", 1, 1.0, [4]),
        ("recent_jobs", "ok", 0, 2.0, []),
        ("other_table", "ok", 0, 1.0, []),
    ]
    # one scan of jobs, samples for the two violated rules, one probe of domains
    assert len(conn.queries) == 4
    if dialect == "postgresql":  # the scan and the probe of domains in one round trip; the samples after
        assert conn.rounds == [2]


@freeze_time(NOW)
def test_a_healthy_table_costs_one_query(write_rules, target):
    dialect, dsn = target
    load(dialect, dsn, [(1, "sitemap", "done", "2026-02-04 17:00:00")])
    plan = build_plan(write_rules(RULES.format(dsn=dsn)), env={}, rules=["stuck_pending", "stuck_running", "bad_type", "recent_jobs"])
    conn = counting(connect(dsn))
    assert [r.status for r in evaluate(plan.probes, plan.targets, connector=lambda *_: conn)] == ["ok"] * 4
    assert len(conn.queries) == 1


def test_a_failing_member_is_attributed_to_its_rule(write_rules, tmp_path):
    dsn = f"sqlite:///{tmp_path / 'jobs.db'}"
    load("sqlite", dsn, JOBS)
    rules = RULES.format(dsn=dsn) + "  - {name: typo, check: stuck, table: jobs, where: {statsu: x}, time_column: created_at, older_than: 1m}\n"
    plan = build_plan(write_rules(rules), env={})
    results = {r.rule: r for r in evaluate(plan.probes, plan.targets)}
    assert results["typo"].status == "error" and "statsu" in results["typo"].error
    assert results["stuck_pending"].status == "violated" and results["bad_type"].status == "violated"


RANGES = """
version: 1
targets: {{main: {{dsn: "{dsn}"}}}}
rules:
  - {{name: pending_5m, check: stuck, table: jobs, where: {{status: pending}}, time_column: created_at, older_than: 5m}}
  - {{name: pending_2h, check: stuck, table: jobs, where: {{status: pending}}, time_column: created_at, older_than: 2h}}
  - {{name: sitemaps_1h, check: count, table: jobs, where: {{job_type: sitemap}}, time_column: created_at, window: 1h, expect: ">= 2"}}
  - {{name: sitemaps_6h, check: allowlist, table: jobs, where: {{job_type: sitemap}}, column: status, allowed: [done, pending],
      time_column: created_at, window: 6h}}
  - {{name: beat_10m, check: stale_heartbeat, table: jobs, where: {{status: pending}}, heartbeat_column: created_at, max_age: 10m}}
  - {{name: beat_1h, check: stale_heartbeat, table: jobs, where: {{status: pending}}, heartbeat_column: created_at, max_age: 1h}}
"""
AROUND = [  # rows on both sides of every cutoff above (NOW is 17:05)
    (1, "sitemap", "pending", "2026-02-04 17:04:00"), (2, "sitemap", "pending", "2026-02-04 16:30:00"),
    (3, "sitemap", "pending", "2026-02-04 14:00:00"), (4, "sitemap", "failed", "2026-02-04 12:00:00"),
    (5, "sitemap", "failed", "2026-02-04 10:00:00"), (6, "crawl", "failed", "2026-02-04 17:00:00"),
    (7, "sitemap", "pending", None),
]


@freeze_time(NOW)
def test_rules_sharing_conditions_scan_one_range_and_count_exactly_their_rows(write_rules, target):
    dialect, dsn = target
    load(dialect, dsn, AROUND)
    plan = build_plan(write_rules(RANGES.format(dsn=dsn)), env={})
    one_by_one = {p.rule.name: run_units(connect(dsn), [Unit(p)], plan.targets["main"], lambda: NOW)[0][id(p)]
                  for p in plan.probes}
    assert {name: r.violations for name, r in one_by_one.items()} == {
        "pending_5m": 2, "pending_2h": 1, "sitemaps_1h": 0, "sitemaps_6h": 1, "beat_10m": 3, "beat_1h": 2}
    # ages narrowed by a shared status; windows; stale heartbeats "or none at all"
    for kinds, shared in ((("stuck",), "status"), (("count", "allowlist"), "job_type"), (("stale_heartbeat",), "status")):
        members = [p for p in plan.probes if p.rule.check in kinds]
        [batch], _ = split(members)
        # one range for the batch (no arm per rule), the shared condition tested once per row in the WHERE
        assert any(time_bound(c) for c in batch.shared)
        assert [c.column.name for c in batch.shared if isinstance(c, (Compare, In))] == [shared]
        evaluator = Evaluator(plan.targets)
        results = evaluator.evaluate(members, [Unit(batch)])
        evaluator.close()
        assert [(r.rule, r.violations, r.value) for r in results] == [
            (p.rule.name, one_by_one[p.rule.name].violations, one_by_one[p.rule.name].value) for p in members]

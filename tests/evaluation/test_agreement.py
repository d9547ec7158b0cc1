"""One workload for every command: a batch gives exactly what its rules give one by one, on both
dialects, with where_sql, a schema-qualified table, an orphan join and a custom kind; and `compile`,
`check`, `run --once` and `explain` agree on the same file."""
from __future__ import annotations

import json
import re
import sqlite3
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from watchdog.cli import main
from watchdog.evaluation.evaluator import Evaluator
from watchdog.evaluation.units import Unit, plan_units
from watchdog.plan import build_plan

NOW = datetime(2026, 2, 4, 17, 6, tzinfo=timezone.utc)
SCHEMA = [
    "CREATE TABLE jobs (id integer, status text, kind text, created_at {ts}, last_beat {ts})",
    "CREATE TABLE domains (id integer, status text, updated_at {ts})",
    "CREATE TABLE sitemap_files (domain_id integer, state text)",
]
ROWS = {
    "jobs": [(1, "pending", "sitemap", "2026-02-04 16:00:00", None), (2, "pending", "crawl", "2026-02-04 17:05:00", None),
             (3, "running", "sitemap", "2026-02-04 16:30:00", "2026-02-04 16:31:00"),
             (4, "running", "crawl", "2026-02-04 17:00:00", "2026-02-04 17:05:30"),
             (5, "pending", "sitemap", "2026-02-01 10:00:00", None), (6, "failed", "bogus", "2026-02-04 15:00:00", None)],
    "domains": [(1, "submitted", "2026-02-04 10:00:00"), (2, "submitted", "2026-02-04 17:05:00"), (3, "submitted", "2026-02-03 10:00:00")],
    "sitemap_files": [(1, "ok"), (3, "broken")],
}
CUSTOM_SPEC = """
description: Jobs of a kind nobody processes.
shape: rows
uses: [table, where, where_sql, time_column, time_unit]
requires: [table]
batch: true
params:
  kinds: {type: values, required: true}
"""
CUSTOM_SQL = "SELECT * FROM {{ table }}\n{{ where(not_in('kind', kinds)) }}\nORDER BY {{ time_column }}\n"


def rules(dsn: str, jobs: str) -> str:
    return textwrap.dedent(f"""
    version: 1
    check_paths: [kinds]
    targets: {{main: {{dsn: "{dsn}"}}}}
    rules:
      - {{name: pending_5m, check: stuck, table: {jobs}, where: {{status: pending}}, time_column: created_at, older_than: 5m}}
      - {{name: pending_2h_raw, check: stuck, table: {jobs}, where: {{status: pending}}, time_column: created_at, older_than: 2h, where_sql: "jobs.id > 1"}}
      - {{name: sitemaps_only, check: allowlist, table: {jobs}, column: kind, allowed: [sitemap], time_column: created_at, window: 6h}}
      - {{name: beats, check: stale_heartbeat, table: {jobs}, where: {{status: running}}, heartbeat_column: last_beat, max_age: 2m}}
      - {{name: known_kinds, check: unknown_kinds, table: {jobs}, kinds: [sitemap, crawl], time_column: created_at}}
      - {{name: raw_only, check: stuck, table: {jobs}, time_column: created_at, older_than: 1m, where_sql: "jobs.kind <> 'crawl'"}}
      - {{name: orphans, check: orphan, table: domains, where: {{status: submitted}}, time_column: updated_at, older_than: 5m, child: {{table: sitemap_files, "on": {{id: domain_id}}, where: {{state: ok}}}}}}
      - {{name: orphans_any, check: orphan, table: domains, time_column: updated_at, older_than: 1m, child: {{table: sitemap_files, "on": {{id: domain_id}}}}}}
    """)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def workload(request, tmp_path: Path) -> tuple[Path, str]:
    return build(tmp_path, request.getfixturevalue("postgres_dsn") if request.param == "postgresql" else None)


def build(tmp_path: Path, postgres_dsn: str | None) -> tuple[Path, str]:
    """The workload's tables, custom kind and rule file, in SQLite (no DSN given) or that PostgreSQL schema."""
    kinds = tmp_path / "kinds"
    kinds.mkdir()
    (kinds / "unknown_kinds.yaml").write_text(CUSTOM_SPEC)
    (kinds / "unknown_kinds.sql").write_text(CUSTOM_SQL)
    if postgres_dsn is None:
        db = tmp_path / "w.db"
        with sqlite3.connect(db) as conn:
            for ddl in SCHEMA:
                conn.execute(ddl.format(ts="TEXT"))
            for table, rows in ROWS.items():
                conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        dsn, jobs = f"sqlite:///{db}", "main.jobs"  # schema-qualified: SQLite's main schema
    else:
        dsn = postgres_dsn
        schema = dsn.rsplit("%3D", 1)[1]
        with psycopg.connect(dsn, autocommit=True) as conn:
            for ddl in SCHEMA:
                conn.execute(ddl.format(ts="timestamptz"))
            for table, rows in ROWS.items():
                marks = ", ".join("%s" for _ in rows[0])
                conn.cursor().executemany(f"INSERT INTO {table} VALUES ({marks})",
                                          [tuple(v + "+00" if isinstance(v, str) and v[:2] == "20" else v for v in r) for r in rows])
        jobs = f"{schema}.jobs"
    path = tmp_path / "rules.yaml"
    path.write_text(rules(dsn, jobs))
    return path, dsn


def _view(result):
    return (result.rule, result.status, result.violations, result.value, result.error,
            [json.dumps(s, sort_keys=True, default=str) for s in result.samples])


def test_batches_give_exactly_what_their_rules_give_one_by_one(workload):
    path, _ = workload
    plan = build_plan(path, env={})
    units = plan_units(plan.probes)
    assert [len(u.probes) for u in units if u.batch] == [6, 2]  # every jobs rule shares one scan, both orphans another
    evaluator = Evaluator(plan.targets, clock=lambda: NOW)
    try:
        batched = evaluator.evaluate(plan.probes, units)
        alone = evaluator.evaluate(plan.probes, [Unit(p) for p in plan.probes])
    finally:
        evaluator.close()
    assert [_view(r) for r in batched] == [_view(r) for r in alone]
    assert {r.rule: (r.status, r.violations) for r in batched} == {
        "pending_5m": ("violated", 2), "pending_2h_raw": ("violated", 1), "sitemaps_only": ("violated", 3),
        "beats": ("violated", 1), "known_kinds": ("violated", 1), "raw_only": ("violated", 4),
        "orphans": ("violated", 1), "orphans_any": ("ok", 0),  # domain 3's only file is broken; 2 is a minute old
    }


def test_a_failing_batch_is_split_logged_and_its_rules_still_judged(workload, caplog):
    path, dsn = workload
    text = path.read_text().replace('where_sql: "jobs.id > 1"', 'where_sql: "jobs.no_such_column > 1"')
    path.write_text(text)
    plan = build_plan(path, env={})
    units = plan_units(plan.probes)
    splits = []
    evaluator = Evaluator(plan.targets, clock=lambda: NOW, on_split=lambda unit, error: splits.append(unit.name))
    try:
        first = {r.rule: r for r in evaluator.evaluate(plan.probes, units)}
        again = {r.rule: r for r in evaluator.evaluate(plan.probes, units)}
    finally:
        evaluator.close()
    batch = next(u for u in units if u.batch is None and len(u.probes) == 6)
    assert splits == [batch.name]  # split once, and from then on its rules run one by one
    for results in (first, again):
        assert results["pending_2h_raw"].status == "error" and "no_such_column" in results["pending_2h_raw"].error
        assert (results["pending_5m"].status, results["pending_5m"].violations) == ("violated", 2)


def test_compile_check_run_once_and_explain_agree(workload, capsys, tmp_path):
    path, _ = workload
    assert main(["compile", "-c", str(path)]) == 0
    compiled = capsys.readouterr().out
    assert sorted(re.findall(r"^-- rule (\w+) ", compiled, re.M)) == sorted(
        ["pending_5m", "pending_2h_raw", "sitemaps_only", "beats", "known_kinds", "raw_only", "orphans", "orphans_any"])
    assert "-- pending_2h_raw: where_sql kept as this rule's own filter in the batch" in compiled
    assert main(["check", "-c", str(path), "--format", "json"]) == 1
    checked = {r["rule"]: (r["status"], r["violations"]) for r in json.loads(capsys.readouterr().out)["results"]}
    assert main(["run", "--once", "-c", str(path), "--state", str(tmp_path / "state.db")]) == 1
    table = capsys.readouterr().out.split("\n\n")[0].splitlines()[1:]  # the results table, before the details
    ran = {cells[0]: (cells[3].lower(), int(cells[4])) for cells in (line.split() for line in table)}
    assert ran == checked
    assert main(["explain", "-c", str(path), "--large", "1000000"]) == 0
    explained = capsys.readouterr().out
    assert "ERROR" not in explained and all(name in explained for name in checked)


@pytest.mark.postgres
def test_explain_advises_an_index_for_each_kind_from_its_conditions(postgres_dsn, tmp_path, capsys):
    path, dsn = build(tmp_path, postgres_dsn)
    schema = dsn.rsplit("%3D", 1)[1]
    assert main(["explain", "-c", str(path), "--large", "0"]) == 1
    out = capsys.readouterr().out
    quoted = f'"{schema}"."jobs"'
    for statement in (
        f'CREATE INDEX CONCURRENTLY "jobs_status_created_at_idx" ON {quoted} ("status", "created_at");',
        'CREATE INDEX CONCURRENTLY "domains_status_updated_at_idx" ON "domains" ("status", "updated_at");',
        'CREATE INDEX CONCURRENTLY "sitemap_files_domain_id_state_idx" ON "sitemap_files" ("domain_id", "state");',
    ):
        assert statement in out, out
    assert "[(" not in out  # never a Python repr of a join in an index name
    for block in out.split("\n\n"):  # each unit names an index once
        indexes = re.findall(r"CREATE INDEX CONCURRENTLY (\S+)", block)
        assert len(indexes) == len(set(indexes)), block

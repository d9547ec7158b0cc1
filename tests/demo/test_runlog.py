"""Seed 000 as run-history files (`watchdog demo --runlog`), read by the example rule file's target
through a real DuckDB: the duplicated slots, and the files that hold them."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from watchdog.demo.runlog import write_runlog
from watchdog.plan import build_plan
from watchdog.probing.connection import connect

NOW = datetime(2026, 2, 4, 17, 6, tzinfo=timezone.utc)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "runlog.yaml"


def test_demo_runlog_writes_the_files_and_the_rules(tmp_path: Path):
    run = subprocess.run([sys.executable, "-m", "watchdog", "demo", "--runlog", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    logs = tmp_path / "out" / "automation-runs"
    assert sorted(p.name for p in logs.iterdir()) == ["production.jsonl", "staging.jsonl"]
    assert f"watchdog check -c {tmp_path / 'out' / 'runlog.yaml'}" in run.stdout
    assert (tmp_path / "out" / "runlog.yaml").read_text() == EXAMPLE.read_text()


def test_lines_are_the_schedulers_own(tmp_path: Path):
    write_runlog(tmp_path, NOW)
    lines = [json.loads(line) for line in (tmp_path / "automation-runs" / "staging.jsonl").read_text().splitlines()]
    assert [(line["runAtMs"], line["startedAt"], line["status"]) for line in lines] == [
        (1770224100000, "2026-02-04T16:55:03.000Z", "success"),
        (1770224400000, "2026-02-04T17:00:03.000Z", "success"),
        (1770224700000, "2026-02-04T17:05:03.000Z", "error"),
    ]
    assert lines[-1]["error"] == "bash: /tmp/claude-1001-cwd: Permission denied"


def test_the_example_rules_find_the_duplicates_and_name_the_files(tmp_path: Path):
    """The example's own `sql` rule, and the duplicate kind's SQL written out, over the written files
    (at the real time: the `sql` rule's window is DuckDB's own now())."""
    *_, staging, rules = write_runlog(tmp_path, datetime.now(timezone.utc))
    slots = [json.loads(line)["runAtMs"] for line in staging.read_text().splitlines()]
    plan = build_plan(rules, env={})
    target = plan.targets["runlog"]
    assert target.tables["automation_runs"].path == f"{tmp_path}/automation-runs/*.jsonl"
    conn = connect(target.dsn, target.connect_timeout, target.statement_timeout, tables=target.tables)
    try:
        by_file = conn.query(plan.rule_file.rule("duplicate_runs_by_file").params["query"], {}, 30)
        duplicates = conn.query('SELECT "jobId", "runAtMs", COUNT(*) AS copies FROM "automation_runs" '
                                'WHERE "runAtMs" >= $p0 GROUP BY "jobId", "runAtMs" HAVING COUNT(*) > 1 ORDER BY "runAtMs"',
                                {"p0": slots[-1] - 24 * 3600 * 1000}, 30)
    finally:
        conn.close()
    files = f"{tmp_path}/automation-runs/production.jsonl, {tmp_path}/automation-runs/staging.jsonl"
    assert by_file == [{"jobId": "digest", "runAtMs": slot, "copies": 2, "files": files} for slot in slots]
    assert duplicates == [{"jobId": "digest", "runAtMs": slot, "copies": 2} for slot in slots]

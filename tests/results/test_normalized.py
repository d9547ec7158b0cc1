"""`duplicate` with `normalize: {schedule: cron}`: one command scheduled as `* * * * *` and as
`*/1 * * * *` is one schedule twice; the database groups as written, watchdog merges."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from watchdog.cli import main
from watchdog.evaluation.evaluator import evaluate
from watchdog.plan import build_plan
from watchdog.results.normalized import merged_duplicates


def test_groups_with_one_canonical_schedule_are_merged_and_show_how_they_were_written() -> None:
    rows = [{"schedule": "* * * * *", "command": "SELECT 2", "copies": 1},
            {"schedule": "*/1 * * * *", "command": "SELECT 2", "copies": 1},
            {"schedule": "0 7 * * *", "command": "SELECT 2", "copies": 1},
            {"schedule": "@daily", "command": "VACUUM", "copies": 1},
            {"schedule": "0 0 * * *", "command": "VACUUM", "copies": 2},
            {"schedule": "not a schedule", "command": "SELECT 3", "copies": 1}]
    count, samples = merged_duplicates(rows, ["schedule", "command"], {"schedule": "cron"}, samples=5)
    assert count == 2
    assert samples == (
        {"schedule": "0 0 * * *", "command": "VACUUM", "copies": 3, "schedule_as_written": ["0 0 * * *", "@daily"]},
        {"schedule": "* * * * *", "command": "SELECT 2", "copies": 2, "schedule_as_written": ["* * * * *", "*/1 * * * *"]},
    )


def test_a_schedule_that_cannot_be_read_is_compared_as_written() -> None:
    rows = [{"schedule": "@reboot", "command": "x", "copies": 1}, {"schedule": "@reboot", "command": "x", "copies": 1}]
    assert merged_duplicates(rows, ["schedule", "command"], {"schedule": "cron"}, samples=5)[0] == 1


RULES = """
version: 1
targets:
  main: {{dsn: "sqlite:///{db}"}}
rules:
  - {{name: twice, check: duplicate, table: cron_job, key: [schedule, command], normalize: {normalize}, samples: 1}}
"""


@pytest.fixture
def cron_db(tmp_path: Path) -> Path:
    path = tmp_path / "cron.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE cron_job (jobid INTEGER PRIMARY KEY, schedule TEXT, command TEXT)")
        conn.executemany("INSERT INTO cron_job (schedule, command) VALUES (?, ?)",
                         [("* * * * *", "SELECT 2"), ("*/1 * * * *", "SELECT 2"), ("0 7 * * *", "SELECT 2"),
                          ("@hourly", "SELECT 1"), ("0 * * * *", "SELECT 1"), ("0 */1 * * *", "SELECT 1")])
    return path


def test_on_a_database_every_group_is_read_and_merged(write_rules, cron_db: Path) -> None:
    plan = build_plan(write_rules(RULES.format(db=cron_db, normalize="{schedule: cron}")), env={})
    [result] = evaluate(plan.probes, plan.targets)
    assert (result.status, result.violations) == ("violated", 2)
    assert result.samples == ({"schedule": "0 * * * *", "command": "SELECT 1", "copies": 3,
                               "schedule_as_written": ["0 * * * *", "0 */1 * * *", "@hourly"]},)


@pytest.mark.parametrize("normalize, message", [
    ("{command: cron}", "'normalize' names 'command', which is not a column of 'key'"),
    ("{schedule: crontab}", "'normalize' knows the form 'cron' only, not 'crontab'"),
])
def test_a_normalize_the_kind_cannot_do_exits_2(write_rules, cron_db: Path, capsys, normalize: str, message: str) -> None:
    body = RULES.format(db=cron_db, normalize=normalize).replace("key: [schedule, command]", "key: [schedule]")
    assert main(["validate", "-c", str(write_rules(body))]) == 2
    assert message in capsys.readouterr().err

"""`watchdog demo` end to end (a real subprocess), and the demo schema and data it builds."""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from watchdog.commands.demo import EXAMPLE_RULES
from watchdog.dialects import POSTGRESQL, SQLITE
from watchdog.demo.incidents import SEEDS, dataset
from watchdog.demo.load import LoadError, load
from watchdog.demo.schema import TABLES, create_statements

RULES = Path(__file__).resolve().parents[2] / "rules.yaml"
SEED_RULES = {"000": "duplicate_runs", "001": "reply_scheduler_started", "002": "duplicate_notifications",
              "003": "batch_job_heartbeat", "004": "sitemap_jobs_pending"}


def demo(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "watchdog", "demo", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_demo_builds_every_incident_and_exits_1(tmp_path):
    run = demo("-c", str(RULES), cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    for seed, rule in SEED_RULES.items():
        assert f"seed {seed}" in run.stdout
        assert re.search(rf"^{rule}\s+main\s+\w+\s+VIOLATED", run.stdout, re.MULTILINE), rule
    assert "1 ok, 18 violated, 0 error" in run.stdout
    assert list(tmp_path.iterdir()) == []  # the temporary database is gone


def renamed_rules(path: Path, name: str) -> Path:
    """The example rule file with its seed-004 rule renamed: output naming `name` proves this file ran."""
    text = RULES.read_text()
    assert text.count("name: sitemap_jobs_pending\n") == 1
    path.write_text(text.replace("name: sitemap_jobs_pending\n", f"name: {name}\n"))
    return path


def test_demo_finds_rules_yaml_like_the_other_commands(tmp_path):
    renamed_rules(tmp_path / "rules.yaml", "pending_in_cwd")
    run = demo(cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert re.search(r"^pending_in_cwd\s+main\s+\w+\s+VIOLATED", run.stdout, re.MULTILINE), run.stdout
    assert not re.search(r"^sitemap_jobs_pending\s", run.stdout, re.MULTILINE)
    # $WATCHDOG_CONFIG comes before ./rules.yaml, as for the other commands.
    env = {**os.environ, "WATCHDOG_CONFIG": str(renamed_rules(tmp_path / "env.yaml", "pending_in_env"))}
    run = demo(cwd=tmp_path, env=env)
    assert run.returncode == 1, run.stderr
    assert re.search(r"^pending_in_env\s+main\s+\w+\s+VIOLATED", run.stdout, re.MULTILINE), run.stdout
    assert "pending_in_cwd" not in run.stdout


def test_demo_without_a_rule_file_at_hand_runs_the_example_the_package_carries(tmp_path):
    run = demo(cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "1 ok, 18 violated, 0 error" in run.stdout
    assert EXAMPLE_RULES.read_text() == RULES.read_text()
    missing = demo(cwd=tmp_path, env={**os.environ, "WATCHDOG_CONFIG": str(tmp_path / "nope.yaml")})
    assert missing.returncode == 2 and "no such rule file" in missing.stderr  # an explicit choice is kept


def test_demo_json_keeps_stdout_for_the_report(tmp_path):
    run = demo("-c", str(RULES), "--format", "json", cwd=tmp_path)
    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert report["summary"] == {"ok": 1, "violated": 18, "error": 0}
    assert "seed 004" in run.stderr


def test_demo_db_keeps_the_file_and_only_replaces_demo_tables(tmp_path):
    path = tmp_path / "kept.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE mine (x INTEGER)")
        conn.execute("INSERT INTO mine VALUES (42)")
    for _ in range(2):
        assert demo("-c", str(RULES), "--db", str(path), cwd=tmp_path).returncode == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT x FROM mine").fetchall() == [(42,)]
        assert conn.execute("SELECT COUNT(*) FROM cron_jobs").fetchone() == (9,)


def test_a_bad_rule_file_exits_2_before_touching_the_database(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(RULES.read_text().replace("older_than: 5m", "older_then: 5m", 1))
    run = demo("-c", str(bad), "--db", str(tmp_path / "x.db"), cwd=tmp_path)
    assert run.returncode == 2
    assert "did you mean 'older_than'?" in run.stderr
    assert not (tmp_path / "x.db").exists()


def test_help_warns_that_the_demo_tables_are_dropped(tmp_path):
    run = subprocess.run([sys.executable, "-m", "watchdog", "demo", "--help"], capture_output=True, text=True)
    assert "DROP AND RECREATE" in " ".join(run.stdout.split())


@pytest.mark.postgres
def test_demo_on_postgres(postgres_dsn, tmp_path):
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE mine (x integer)")
    run = demo("-c", str(RULES), "--dsn", postgres_dsn, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "1 ok, 18 violated, 0 error" in run.stdout
    with psycopg.connect(postgres_dsn) as conn:
        tables = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
        assert tables == {t.name for t in TABLES} | {"mine"}
        assert conn.execute("SELECT nextval(pg_get_serial_sequence('domains', 'id'))").fetchone() == (7,)


@pytest.mark.postgres
def test_unreachable_postgres_exits_3_without_the_password(tmp_path):
    run = demo("-c", str(RULES), "--dsn", "postgresql://app:hunter2secret@127.0.0.1:1/db", cwd=tmp_path)
    assert run.returncode == 3
    assert "cannot build the demo database postgresql://app:***@127.0.0.1:1/db" in run.stderr
    assert "hunter2secret" not in run.stdout + run.stderr


def test_schema_types_per_dialect():
    pg, lite = " ".join(create_statements(POSTGRESQL)), " ".join(create_statements(SQLITE))
    assert '"id" bigserial PRIMARY KEY' in pg and '"started_at" timestamptz' in pg and '"active" boolean' in pg
    assert "[id] INTEGER PRIMARY KEY" in lite and "[started_at] TEXT" in lite
    assert 'CREATE INDEX "system_events_event_type_created_at_idx" ON "system_events" ("event_type", "created_at")' in pg


def test_sqlite_timestamps_are_utc_text_in_the_probes_format(tmp_path):
    now = datetime(2026, 2, 4, 19, 6, 30, 123456, tzinfo=timezone(timedelta(hours=2)))
    load(f"sqlite:///{tmp_path / 'd.db'}", dataset(now, [seed.id for seed in SEEDS]))
    with sqlite3.connect(tmp_path / "d.db") as conn:
        stamps = [r[0] for r in conn.execute("SELECT created_at FROM system_events UNION ALL SELECT started_at FROM batch_jobs")]
    assert stamps and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", s) for s in stamps)
    assert max(stamps) == "2026-02-04 17:03:30"  # the live batch job started 3 min before now, in UTC


def test_unknown_seed_and_bad_target_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no seed 999"):
        dataset(datetime.now(timezone.utc), ["999"])
    with pytest.raises(LoadError, match="cannot open|unable to open"):
        load(f"sqlite:///{tmp_path / 'missing' / 'd.db'}", {})

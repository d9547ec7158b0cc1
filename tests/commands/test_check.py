"""`watchdog check`: exit codes, formats, --wait, and failures that never pass as holding."""
from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET

import pytest

from watchdog.cli import main


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT, created_at TEXT)")
    conn.execute("INSERT INTO jobs (status, created_at) VALUES ('pending', '2020-01-01 00:00:00'), ('done', '2020-01-01 00:00:00')")
    conn.commit()
    conn.close()
    return path


def rules(write_rules, db, extra: str = ""):
    return write_rules(f"""
        version: 1
        targets:
          main: {{dsn: "sqlite:///{db}"}}
        rules:
          - {{name: stuck_jobs, check: stuck, table: jobs, where: {{status: pending}}, time_column: created_at, older_than: 5m, tags: [proof]}}
          - {{name: any_done, check: count, table: jobs, where: {{status: done}}, expect: "> 0"}}
        {extra}""")


def test_violation_exits_1_with_samples_in_json(write_rules, db, capsys):
    assert main(["check", "-c", str(rules(write_rules, db)), "--format", "json"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["summary"] == {"ok": 1, "violated": 1, "error": 0}
    stuck = record["results"][0]
    assert (stuck["rule"], stuck["status"], stuck["violations"], stuck["check"]) == ("stuck_jobs", "violated", 1, "stuck")
    assert stuck["samples"][0]["id"] == 1 and stuck["error"] is None
    assert set(stuck) == {"rule", "target", "check", "status", "violations", "value", "severity", "samples",
                          "duration_seconds", "error", "evaluated_at", "summary"}


def test_selection_by_rule_and_tag(write_rules, db, capsys):
    path = str(rules(write_rules, db))
    assert main(["check", "-c", path, "--rule", "any_done"]) == 0
    capsys.readouterr()
    assert main(["check", "-c", path, "--tag", "proof", "--format", "json"]) == 1
    assert [r["rule"] for r in json.loads(capsys.readouterr().out)["results"]] == ["stuck_jobs"]
    assert main(["check", "-c", path, "--rule", "nope"]) == 2
    assert "no rule named 'nope'" in capsys.readouterr().err


def test_probe_error_exits_3_and_other_rules_still_run(write_rules, db, capsys):
    extra = "  - {name: broken, check: count, table: no_such_table}"
    assert main(["check", "-c", str(rules(write_rules, db, extra)), "--format", "json"]) == 3
    record = json.loads(capsys.readouterr().out)
    statuses = {r["rule"]: r["status"] for r in record["results"]}
    assert statuses == {"stuck_jobs": "violated", "any_done": "ok", "broken": "error"}
    assert record["results"][2]["error"] == "SQL error: no such table: no_such_table"


def test_unreachable_database_is_an_error_never_a_pass(write_rules, tmp_path, capsys):
    path = rules(write_rules, tmp_path / "missing" / "x.db")
    assert main(["check", "-c", str(path)]) == 3
    out = capsys.readouterr().out
    assert "ERROR" in out and "unreachable" in out and " ok " not in out


def test_unreachable_postgres_does_not_leak_the_password(write_rules, db, capsys):
    path = rules(write_rules, db)
    assert main(["check", "-c", str(path), "--dsn", "postgresql://app:hunter2secret@127.0.0.1:1/db", "--format", "json"]) == 3
    captured = capsys.readouterr()
    assert "hunter2secret" not in captured.out + captured.err
    assert [(r["rule"], r["status"]) for r in json.loads(captured.out)["results"]] == [("stuck_jobs", "error"), ("any_done", "error")]


def test_malformed_url_dsn_fails_without_showing_the_password(write_rules, db, capsys):
    dsn = "postgresql://app:hunter2secret@[::1/db"  # urllib cannot split it; libpq echoes it
    assert main(["check", "-c", str(rules(write_rules, db)), "--dsn", dsn, "--format", "json"]) == 3
    captured = capsys.readouterr()
    assert "hunter2secret" not in captured.out + captured.err
    assert "postgresql://app:***@[::1/db" in json.loads(captured.out)["results"][0]["error"]


def test_unsupported_dsn_option_is_bad_usage(write_rules, db, capsys):
    assert main(["check", "-c", str(rules(write_rules, db)), "--dsn", "oracle://app:hunter2secret@h:port/db"]) == 2
    assert capsys.readouterr().err == (
        "watchdog: error: --dsn: unsupported DSN scheme 'oracle': use postgresql://..., mysql://..., mariadb://..., sqlite:///path or duckdb://\n"
    )


@pytest.mark.parametrize("args, message", [
    (["--every", "10s"], "--every needs --wait"),
    (["--wait", "1m", "--every", "0s"], "--every must be longer than 0s"),
])
def test_every_goes_with_a_wait_and_a_pause(write_rules, db, capsys, args, message):
    assert main(["check", "-c", str(rules(write_rules, db)), *args]) == 2
    assert capsys.readouterr() == ("", f"watchdog: error: {message}\n")


def test_unwritable_output_stops_before_any_probe(write_rules, db, tmp_path, capsys, monkeypatch):
    from watchdog.commands import check

    monkeypatch.setattr(check, "Evaluator", lambda *a, **k: pytest.fail("a probe ran"))
    report = tmp_path / "missing" / "junit.xml"
    assert main(["check", "-c", str(rules(write_rules, db)), "--output", str(report)]) == 2
    assert capsys.readouterr().err == f"watchdog: error: cannot write {report}: No such file or directory\n"


def test_junit_report_has_one_testcase_per_rule(write_rules, db, tmp_path, capsys):
    report = tmp_path / "out" / "junit.xml"
    report.parent.mkdir()
    assert main(["check", "-c", str(rules(write_rules, db)), "--format", "junit", "--output", str(report)]) == 1
    root = ET.parse(report).getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["stuck_jobs", "any_done"]
    assert cases[0].find("failure") is not None and cases[1].find("failure") is None
    assert "VIOLATED" in capsys.readouterr().out  # the table still goes to stdout


def test_wait_reruns_only_failing_rules_until_they_hold(write_rules, db, capsys):
    from watchdog.commands.check import run_until_held
    from watchdog.plan import build_plan

    plan = build_plan(rules(write_rules, db), env={})
    clock = [0.0]

    def fix_after_first_pause(seconds: float) -> None:
        clock[0] += seconds
        conn = sqlite3.connect(db)
        conn.execute("UPDATE jobs SET status = 'done' WHERE status = 'pending'")
        conn.commit()
        conn.close()

    results = run_until_held(plan, wait=600, every=30, sleep=fix_after_first_pause, monotonic=lambda: clock[0])
    assert [r.status for r in results] == ["ok", "ok"]
    assert clock[0] == 30
    err = capsys.readouterr().err
    assert "1 of 2 rules do not hold yet (stuck_jobs); next try in 30s, 10m left" in err
    assert "all 2 rules hold after 2 tries" in err


def test_wait_gives_up_when_time_runs_out(write_rules, db, capsys):
    from watchdog.commands.check import run_until_held
    from watchdog.plan import build_plan

    plan = build_plan(rules(write_rules, db), env={})
    clock = [0.0]
    results = run_until_held(plan, wait=60, every=25, sleep=lambda s: clock.__setitem__(0, clock[0] + s), monotonic=lambda: clock[0])
    assert results[0].status == "violated" and clock[0] == 60
    assert "gave up after 1m: 1 rule(s) still do not hold" in capsys.readouterr().err


def test_validate_is_silent_on_success(write_rules, db, capsys):
    assert main(["validate", "-c", str(rules(write_rules, db))]) == 0
    assert capsys.readouterr() == ("", "")


def test_compile_prints_sql_and_parameters(write_rules, db, capsys):
    assert main(["compile", "-c", str(rules(write_rules, db)), "--rule", "stuck_jobs", "--dialect", "postgresql"]) == 0
    out = capsys.readouterr().out
    assert '"created_at" < %(p1)s' in out and "p1 = now - 5m (timestamp)" in out and "p2 = 'pending'" in out


def test_schema_is_json_schema_with_every_kind(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    kinds = schema["properties"]["rules"]["items"]["properties"]["check"]["enum"]
    assert {"duplicate", "stuck", "absent", "allowlist", "stale_heartbeat", "orphan", "ratio", "count", "sql"} <= set(kinds)


def test_a_tag_no_rule_has_exits_2_listing_the_known_tags(write_rules, db, capsys):
    path = rules(write_rules, db, "  - {name: more, check: count, table: jobs, tags: [nightly, proof]}")
    assert main(["check", "-c", str(path), "--tag", "proof", "--tag", "prof"]) == 2
    assert capsys.readouterr().err == f"watchdog: error: no rule has tag 'prof' in {path} (tags: nightly, proof)\n"


def test_dsn_stands_in_for_an_unset_variable_of_the_dsn_it_replaces(write_rules, db, capsys):
    path = write_rules("""
        version: 1
        targets:
          main: {dsn: "${WD_UNSET_DSN}"}
        rules:
          - {name: any_done, check: count, table: jobs, where: {status: done}}
        """)
    assert main(["check", "-c", str(path)]) == 2
    assert "environment variable 'WD_UNSET_DSN' is not set" in capsys.readouterr().err
    assert main(["check", "-c", str(path), "--dsn", f"sqlite:///{db}"]) == 0


def test_dsn_does_not_stand_in_for_a_variable_used_elsewhere_too(write_rules, db, capsys):
    path = write_rules("""
        version: 1
        targets:
          main: {dsn: "${WD_UNSET_DSN}"}
        rules:
          - {name: any_done, check: count, table: jobs, where: {status: done}, labels: {db: "${WD_UNSET_DSN}"}}
        """)
    assert main(["check", "-c", str(path), "--dsn", f"sqlite:///{db}"]) == 2
    assert "environment variable 'WD_UNSET_DSN' is not set" in capsys.readouterr().err


SUMMARY = '  - {name: pending, check: stuck, table: jobs, where: {status: pending}, time_column: created_at, older_than: 5m, summary: "{{ violations }} job(s) pending in {{ table }}"}'


def test_the_rendered_summary_is_in_text_json_and_junit(write_rules, db, tmp_path, capsys):
    path = rules(write_rules, db, SUMMARY)
    assert main(["check", "-c", str(path), "--rule", "pending"]) == 1
    assert "pending [main]: 1 job(s) pending in jobs - first 1:" in capsys.readouterr().out
    assert main(["check", "-c", str(path), "--format", "json"]) == 1
    by_rule = {r["rule"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert by_rule["pending"]["summary"] == "1 job(s) pending in jobs"
    assert by_rule["stuck_jobs"]["summary"] is None and by_rule["any_done"]["summary"] is None
    report = tmp_path / "report.xml"
    assert main(["check", "-c", str(path), "--rule", "pending", "--format", "junit", "--output", str(report)]) == 1
    assert ET.parse(report).find(".//failure").get("message") == "1 job(s) pending in jobs [warning]"

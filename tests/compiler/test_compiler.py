"""The compiler never formats a value into SQL and quotes every identifier."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from watchdog.compiler.probe import TimeRef
from watchdog.plan import build_plan

NOW = datetime(2026, 2, 4, 17, 5, tzinfo=timezone.utc)


def plan_for(write_rules, rule: str, dsn: str = "sqlite:///x.db"):
    path = write_rules(f"version: 1\ntargets:\n  main: {{dsn: '{dsn}'}}\nrules:\n{rule}")
    return build_plan(path, env={})


@pytest.mark.parametrize("dsn,marker", [("sqlite:///x.db", ":p"), ("postgresql://h/db", "%(p")])
def test_values_are_bound_never_inlined(write_rules, dsn, marker):
    rule = "  - {name: a, check: allowlist, table: post_attempts, column: pipeline_source, allowed: [\"x' OR '1'='1\"], where: {decision_type: reply}}\n"
    probe = plan_for(write_rules, rule, dsn).probes[0]
    assert "x' OR" not in probe.sql and "reply" not in probe.sql
    assert marker in probe.sql
    assert "x' OR '1'='1" in probe.params.values() and "reply" in probe.params.values()
    quoted = ('"post_attempts"', '"pipeline_source"') if marker == "%(p" else ("[post_attempts]", "[pipeline_source]")
    assert all(q in probe.sql for q in quoted)


def test_time_cutoffs_are_late_bound_and_index_friendly(write_rules):
    rule = "  - {name: a, check: stuck, table: jobs, where: {status: pending}, time_column: created_at, older_than: 5m}\n"
    probe = plan_for(write_rules, rule, "postgresql://h/db").probes[0]
    assert '"created_at" < %(p1)s' in probe.sql  # bare column against a bound cutoff: an index range scan
    assert probe.params["p1"] == TimeRef(300.0, "timestamp")
    bound = probe.bind(NOW)
    assert bound["p1"] == datetime(2026, 2, 4, 17, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("unit,expected", [("ms", 1770224400000), ("s", 1770224400)])
def test_epoch_units_bind_numbers(write_rules, unit, expected):
    rule = f"  - {{name: a, check: count, table: automation_runs, time_column: run_at_ms, time_unit: {unit}, window: 5m}}\n"
    probe = plan_for(write_rules, rule).probes[0]
    assert probe.bind(NOW)["p0"] == expected


def test_sqlite_timestamps_bind_as_sqlite_text(write_rules):
    rule = "  - {name: a, check: count, table: t, time_column: created_at, window: 90s}\n"
    assert plan_for(write_rules, rule).probes[0].bind(NOW)["p0"] == "2026-02-04 17:03:30"


def test_percent_in_raw_sql_is_escaped_for_psycopg_only(write_rules):
    rule = "  - {name: a, check: sql, query: \"select * from t where n like 'a%'\"}\n"
    assert "'a%%'" in plan_for(write_rules, rule, "postgresql://h/db").probes[0].sql
    assert "'a%'" in plan_for(write_rules, rule).probes[0].sql


def test_row_kinds_return_count_and_samples_in_one_statement(write_rules, tmp_path):
    import sqlite3

    db = tmp_path / "runs.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE automation_runs (job_id TEXT, run_at_ms INTEGER)")
        conn.executemany("INSERT INTO automation_runs VALUES (?, ?)", [(f"j{i % 7}", i % 7) for i in range(70)])
    rule = "  - {name: a, check: duplicate, table: automation_runs, key: [job_id, run_at_ms], samples: 3}\n"
    probe = plan_for(write_rules, rule).probes[0]
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute(probe.sql, probe.bind(NOW)).fetchall()]
    assert len(rows) == 3 and {r["wd_count"] for r in rows} == {7}  # three samples, each carrying the total


def test_no_samples_means_count_only(write_rules):
    rule = "  - {name: a, check: duplicate, table: automation_runs, key: [job_id], samples: 0}\n"
    probe = plan_for(write_rules, rule).probes[0]
    assert "LIMIT" not in probe.sql and not probe.sampled


def test_where_operators(write_rules):
    rule = ("  - name: a\n    check: count\n    table: t\n    where:\n      status: [a, b]\n      n: {'>=': 3, '!=': 5}\n"
            "      gone: {is_null: true}\n      kind: {not_in: [x]}\n      note: null\n")
    sql = plan_for(write_rules, rule).probes[0].sql
    for fragment in ("[status] IN (:p0, :p1)", "[n] >= :p2", "[n] <> :p3", "[gone] IS NULL", "[kind] NOT IN (:p4)", "[note] IS NULL"):
        assert fragment in sql


def test_template_refusal_is_a_located_config_error(write_rules):
    from watchdog.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        plan_for(write_rules, "  - {name: a, check: duplicate, table: t, key: [id], tolerance: 1m}\n")
    assert str(caught.value).endswith("rule 'a': 'tolerance' needs 'tolerance_column' or 'time_column'")
    assert ":5:5:" in str(caught.value)

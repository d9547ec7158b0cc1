"""Each of the check kinds on the demo schema, SQLite and PostgreSQL alike: the parameters the
example rules.yaml leaves at their defaults (epoch time units, windows, tolerance, lookback,
allow_null, min_total, child filters, expect), each with the figure it must produce.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from watchdog.catalogue.registry import load_registry

ALL = ("000", "001", "002", "003", "004")
SLOT_17_00, SLOT_17_05 = 1770224400000, 1770224700000

# kind -> (incidents to replay, rules, expected results by rule)
CASES = {
    "duplicate": (("000", "002"), """
      - {name: runs_s_24h, check: duplicate, table: automation_runs_s, key: [job_id, run_at_s], time_column: run_at_s, time_unit: s, window: 24h}
      - {name: runs_s_7m, check: duplicate, table: automation_runs_s, key: [job_id, run_at_s], time_column: run_at_s, time_unit: s, window: 7m}
      - {name: runs_ms_7m, check: duplicate, table: automation_runs, key: [job_id, run_at_ms], time_column: run_at_ms, time_unit: ms, window: 7m}
      - {name: runs_started_1s_apart, check: duplicate, table: automation_runs, key: [job_id, run_at_ms], tolerance: 1s, tolerance_column: started_at}
      - {name: sms_within_2s, check: duplicate, table: notifications, key: [job_id, kind], time_column: sent_at, tolerance: 2s}
      - {name: sms_any_time, check: duplicate, table: notifications, key: [job_id, kind]}
    """, {
        "runs_s_24h": {"violations": 3},
        "runs_s_7m": {"violations": 2, "samples": [{"run_at_s": SLOT_17_00 // 1000, "copies": 2}, {"run_at_s": SLOT_17_05 // 1000, "copies": 2}]},
        "runs_ms_7m": {"violations": 2, "samples": [{"run_at_ms": SLOT_17_00, "copies": 2}, {"run_at_ms": SLOT_17_05, "copies": 2}]},
        "runs_started_1s_apart": {"violations": 3, "samples": [{"copies": 2, "min_gap_seconds": 1}] * 3},
        "sms_within_2s": {"status": "ok", "violations": 0},
        "sms_any_time": {"violations": 2, "samples": [{"job_id": 31, "kind": "send_reminder", "copies": 2},
                                                      {"job_id": 32, "kind": "post_job_followup", "copies": 2}]},
    }),
    "stuck": (("004",), """
      - {name: pending_40d, check: stuck, table: jobs, where: {job_type: sitemap, status: pending}, time_column: created_at, older_than: 40d}
      - {name: pending_any, check: stuck, table: jobs, where: {status: {in: [pending, queued]}}, time_column: created_at, older_than: 30s, samples: 1}
    """, {
        "pending_40d": {"violations": 1, "value": 1, "samples": [{"domain_id": 4, "age_seconds": 69 * 86400}]},
        "pending_any": {"violations": 4, "samples": [{"domain_id": 4}]},
    }),
    "schedule": (("000", "003"), """
      - {name: digest_every_5m_ms, check: schedule, table: automation_runs, where: {env: production}, time_column: run_at_ms, time_unit: ms, cron: "*/5 * * * *", grace: 1m, lookback: 30m}
      - {name: digest_once_per_slot, check: schedule, table: automation_runs, time_column: started_at, cron: "*/5 * * * *", grace: 2m, lookback: 12m, at_most: 1}
      - {name: batch_8am_london, check: schedule, table: scheduler_runs, where: {function_name: daily-batch-trigger}, time_column: started_at, finished_column: completed_at, max_runtime: 10m, cron: "0 8 * * *", timezone: Europe/London, grace: 1h, lookback: 3d}
    """, {
        "digest_every_5m_ms": {"status": "ok"},
        "digest_once_per_slot": {"violations": 3, "samples": [{"problem": "duplicate", "runs": 2}] * 3},
        "batch_8am_london": {"violations": 3, "samples": [{"problem": "overlong", "fire_local": f"2026-02-0{d}T08:00:00+00:00"} for d in (2, 3, 4)]},
    }),
    "absent": (("000", "001"), """
      - {name: digest_ran_ms, check: absent, table: automation_runs, where: {env: production}, time_column: run_at_ms, time_unit: ms, within: 2m}
      - {name: digest_ran_30s, check: absent, table: automation_runs, time_column: run_at_ms, time_unit: ms, within: 30s}
      - {name: started_short_lookback, check: absent, table: system_events, where: {event_type: reply_v2_scheduler_job_started}, time_column: created_at, within: 30m, lookback: 1h}
      - {name: never_logged, check: absent, table: system_events, where: {event_type: permit_rejected_invalid_pipeline_source}, time_column: created_at, within: 1h}
      - {name: each_env_ran, check: absent, table: automation_runs, time_column: run_at_ms, time_unit: ms, within: 2m, group_by: [env], expect_groups: [production, staging, canary]}
    """, {
        "digest_ran_ms": {"status": "ok", "value": 60},
        "digest_ran_30s": {"violations": 1, "value": 60},
        "started_short_lookback": {"violations": 1, "value": None, "samples": []},
        "never_logged": {"violations": 1, "value": None},
        "each_env_ran": {"violations": 1, "samples": [{"env": "canary", "missing": True}]},
    }),
    "allowlist": (ALL, """
      - {name: reason_strict, check: allowlist, table: post_attempts, column: reason_code, allowed: [invalid_pipeline_source]}
      - {name: reason_null_ok, check: allowlist, table: post_attempts, column: reason_code, allowed: [invalid_pipeline_source], allow_null: true}
      - {name: env_last_7m, check: allowlist, table: automation_runs, column: env, allowed: [production], time_column: started_at, window: 7m}
    """, {
        "reason_strict": {"violations": 11},
        "reason_null_ok": {"status": "ok"},
        "env_last_7m": {"violations": 2, "samples": [{"env": "staging", "run_at_ms": SLOT_17_05}, {"env": "staging", "run_at_ms": SLOT_17_00}]},
    }),
    "stale_heartbeat": (("003",), """
      - {name: beat_10m, check: stale_heartbeat, table: batch_jobs, where: {status: running}, heartbeat_column: last_heartbeat, max_age: 10m}
      - {name: finished_too, check: stale_heartbeat, table: batch_jobs, where: {status: {"!=": running}}, heartbeat_column: last_heartbeat, max_age: 1h, samples: 0}
    """, {
        "beat_10m": {"violations": 1, "samples": [{"org_id": "org-acme", "heartbeat_age_seconds": 1500}]},
        "finished_too": {"violations": 36, "samples": []},
    }),
    "orphan": (ALL, """
      - {name: need_main_sitemap, check: orphan, table: domains, where: {sitemap_analysis_status: submitted}, time_column: updated_at, older_than: 5m,
         child: {table: sitemap_files, "on": {id: domain_id}, where: {url: "https://acme-plumbing.com/sitemap.xml"}}}
      - {name: old_grace, check: orphan, table: domains, time_column: updated_at, older_than: 30d, child: {table: sitemap_files, "on": {id: domain_id}}}
    """, {
        "need_main_sitemap": {"violations": 3},
        "old_grace": {"violations": 2, "samples": [{"domain": "delta-roofing.com"}, {"domain": "evergreen-hvac.com"}]},
    }),
    "ratio": (("003",), """
      - {name: too_few_jobs, check: ratio, table: batch_jobs, where: {status: [completed, failed, cancelled]}, failed: {status: [failed, cancelled]}, max: 0.1, min_total: 40}
      - {name: last_6h, check: ratio, table: batch_jobs, failed: {status: {not_in: [completed, running]}}, time_column: started_at, window: 6h, max: 0.1}
      - {name: nothing, check: ratio, table: batch_jobs, failed: {status: failed}, where: {org_id: none}, max: 0}
      - {name: per_org, check: ratio, table: batch_jobs, where: {org_id: [org-0, org-4]}, failed: {status: [failed, cancelled]}, max: 0.1, group_by: [org_id], expect_groups: [org-0, org-4, org-9]}
    """, {
        "too_few_jobs": {"status": "ok", "value": 6 / 37},
        "last_6h": {"violations": 1, "value": 2 / 14, "samples": [{"failed": 2, "total": 14}]},
        "nothing": {"status": "ok", "value": None},
        # org-0 had one of its 6 jobs cancelled; org-4 none failed; org-9 ran nothing at all
        "per_org": {"violations": 2, "value": 2, "samples": [
            {"org_id": "org-0", "value": 1 / 6, "failed": 1, "total": 6}, {"org_id": "org-9", "value": None, "missing": True}]},
    }),
    "count": (ALL, """
      - {name: started_1h, check: count, table: system_events, time_column: created_at, window: 1h, expect: ">= 1"}
      - {name: started_6h, check: count, table: system_events, time_column: created_at, window: 6h, expect: ">= 1"}
      - {name: staging_runs_zero, check: count, table: automation_runs, where: {env: staging}, expect: "== 0"}
      - {name: permits_per_source, check: count, table: post_attempts, where: {decision_type: reply}, time_column: created_at, window: 30m, expect: ">= 1", group_by: [pipeline_source], expect_groups: [reply_v2_scheduler]}
      - {name: runs_per_env, check: count, table: automation_runs, group_by: [env, status], expect: "<= 4", samples: 1}
    """, {
        "started_1h": {"violations": 1, "value": 0},
        "started_6h": {"status": "ok", "value": 8},
        "staging_runs_zero": {"violations": 1, "value": 3},
        # the silent hour: only tiered_scheduler filed a reply permit in the last 30 minutes
        "permits_per_source": {"violations": 1, "samples": [{"pipeline_source": "reply_v2_scheduler", "missing": True}]},
        "runs_per_env": {"violations": 1, "samples": [{"env": "production", "status": "success"}]},
    }),
    "sql": (ALL, """
      - name: cron_entries
        check: sql
        query: SELECT COUNT(*) FROM cron_jobs WHERE active
        expect: "<= 4"
      - name: jobs_of_orphan_domains
        check: sql
        query: >-
          SELECT j.domain_id, d.domain FROM jobs j JOIN domains d ON d.id = j.domain_id
          WHERE j.status = 'pending' AND d.domain LIKE '%-%' ORDER BY j.domain_id
    """, {
        "cron_entries": {"violations": 1, "value": 9},
        "jobs_of_orphan_domains": {"violations": 3, "samples": [{"domain_id": 4, "domain": "delta-roofing.com"},
                                                                {"domain_id": 5, "domain": "evergreen-hvac.com"},
                                                                {"domain_id": 6, "domain": "fixit-garage.com"}]},
    }),
}

# An epoch-seconds column (time_unit: s), over the same rows.
SECONDS_VIEW = "CREATE VIEW automation_runs_s AS SELECT id, job_id, run_at_ms / 1000 AS run_at_s, env FROM automation_runs"


def test_every_kind_in_the_catalogue_has_a_case():
    registry, problems = load_registry()
    assert not problems
    assert sorted(registry.kinds) == sorted(CASES)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_kind(kind, dsn, replay, check, verify, write_rules, files, tables):
    incidents, rules, expected = CASES[kind]
    replay(incidents)
    _seconds_view(dsn, files, tables)
    path = write_rules("version: 1\ntargets: {main: {dsn: 'sqlite:///unused.db'}}\nrules:" + rules)
    code, results = check(path=path)
    assert set(results) == set(expected)
    assert code == (1 if any(w.get("status", "violated") == "violated" for w in expected.values()) else 0)
    verify(results, {rule: {"status": "violated", **want} for rule, want in expected.items()})


def _seconds_view(dsn: str, files, tables) -> None:
    """automation_runs with its runAtMs in seconds: a view in a database, a file of its own for DuckDB."""
    if dsn.startswith("duckdb"):
        import json

        from watchdog.model.values import TableSource

        folder = files / "automation_runs_s"
        folder.mkdir()
        source = Path(tables["automation_runs"].path).parent / "rows.jsonl"
        rows = [json.loads(line) for line in source.read_text().splitlines()]
        (folder / "rows.jsonl").write_text("".join(json.dumps({"id": i, "job_id": r["job_id"], "run_at_s": r["run_at_ms"] // 1000,
                                                                "env": r["env"]}) + "\n" for i, r in enumerate(rows, 1)))
        tables["automation_runs_s"] = TableSource(str(folder / "*.jsonl"), "jsonl")
    elif dsn.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(dsn.removeprefix("sqlite:///")) as conn:
            conn.execute(SECONDS_VIEW)
    elif dsn.startswith("mysql"):
        import pymysql

        from watchdog.probing.dsn import mysql_params

        with pymysql.connect(**mysql_params(dsn), autocommit=True) as conn, conn.cursor() as cursor:
            cursor.execute(SECONDS_VIEW.replace("run_at_ms / 1000", "run_at_ms DIV 1000"))
    else:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SECONDS_VIEW)

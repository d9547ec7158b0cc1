"""The peers, each in its own venv under bench/.venvs with telemetry off, on the same checks.

- Soda Core (`soda-core-postgres`): the fifteen rules of rules.yaml in SodaCL, each as close as
  SodaCL allows (in-check filters for windows, failed-rows queries where it has no such check),
  written to give watchdog's verdicts on the healthy and on the incident data alike: all pass on the
  first, all fail on the second (an absent event is an age of 10^9 seconds, not a missing value, so
  Soda fails that check instead of erroring on it).
- dbt (`dbt-postgres`, `dbt-core<1.12`): only what its built-in generic tests express, the two
  allowlist rules as `accepted_values`; the other kinds need packages from dbt's hub (not
  reachable here) or hand-written SQL, which is the raw-SQL floor again.
A peer that cannot be installed is reported and skipped.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"
WORK = HERE / ".data"
PACKAGES = {"soda": ["soda-core-postgres"], "dbt": ["dbt-postgres", "dbt-core<1.12"]}
QUIET_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", "OTEL_SDK_DISABLED": "true"}


@dataclass(frozen=True)
class Peer:
    name: str
    argv: list[str]
    cwd: Path
    checks: int
    env: dict[str, str]


def install(name: str) -> Path | str:
    """The venv's bin folder, installed once; a one-line reason when it cannot be."""
    venv = VENVS / name
    marker = venv / ".installed"
    if not marker.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PACKAGES[name]], check=True,
                           capture_output=True, text=True, timeout=900)
        except subprocess.CalledProcessError as exc:
            return f"pip install {' '.join(PACKAGES[name])} failed: {(exc.stderr or '').strip().splitlines()[-1:]}"
        except subprocess.TimeoutExpired:
            return f"pip install {' '.join(PACKAGES[name])} took too long"
        marker.write_text("ok\n")
    return venv / "bin"


def _conn(dsn: str) -> dict[str, str]:
    parts = urllib.parse.urlsplit(dsn.split("?")[0])
    return {"host": parts.hostname or "127.0.0.1", "port": str(parts.port or 5432), "user": parts.username or "postgres",
            "password": parts.password or "", "dbname": parts.path.lstrip("/") or "postgres"}


SODA_CHECKS = """
checks for automation_runs:
  - duplicate_count(job_id, run_at_ms) = 0:
      name: duplicate_runs
      filter: run_at_ms > (extract(epoch from now() - interval '24 hours') * 1000)
  - invalid_count(env) = 0:
      name: scheduler_outside_production
      valid values: [production]
      filter: started_at > now() - interval '24 hours'
checks for system_events:
  - reply_scheduler_started_age < 1800:
      reply_scheduler_started_age query: |
        SELECT coalesce(extract(epoch from now() - max(created_at)), 1e9) FROM system_events
        WHERE event_type = 'reply_v2_scheduler_job_started' AND created_at > now() - interval '5 hours'
  - row_count > 0:
      name: proof_scheduler_started
      filter: event_type = 'reply_v2_scheduler_job_started' and created_at > now() - interval '30 minutes'
checks for post_attempts:
  - invalid_count(pipeline_source) = 0:
      name: reply_permit_pipeline_source
      valid values: [reply_v2_scheduler]
      filter: decision_type = 'reply' and created_at > now() - interval '24 hours'
  - row_count > 0:
      name: proof_permits_created
      filter: decision_type = 'reply' and pipeline_source = 'reply_v2_scheduler' and created_at > now() - interval '30 minutes'
  - row_count > 0:
      name: proof_permits_used
      filter: decision_type = 'reply' and pipeline_source = 'reply_v2_scheduler' and status = 'USED' and actual_tweet_id is not null and created_at > now() - interval '30 minutes'
  - row_count = 0:
      name: proof_no_invalid_source_rejections
      filter: decision_type = 'reply' and status = 'REJECTED' and reason_code = 'invalid_pipeline_source' and created_at > now() - interval '30 minutes'
checks for notifications:
  - failed rows:
      name: duplicate_notifications
      fail query: |
        SELECT a.job_id, a.kind FROM notifications a JOIN notifications b
          ON a.job_id = b.job_id AND a.kind = b.kind AND a.id < b.id AND b.sent_at - a.sent_at <= interval '5 minutes'
        WHERE a.sent_at > now() - interval '24 hours' AND b.sent_at > now() - interval '24 hours'
checks for batch_jobs:
  - row_count = 0:
      name: batch_job_heartbeat
      filter: status = 'running' and (last_heartbeat < now() - interval '2 minutes' or (last_heartbeat is null and started_at < now() - interval '2 minutes'))
  - batch_failure_ratio <= 0.1:
      batch_failure_ratio query: |
        SELECT coalesce(count(*) FILTER (WHERE status IN ('failed', 'cancelled'))::float / nullif(count(*), 0), 0) FROM batch_jobs
        WHERE status IN ('completed', 'failed', 'cancelled') AND started_at > now() - interval '24 hours'
checks for cron_jobs:
  - duplicate_count(schedule, command) = 0:
      name: cron_duplicate_entries
      filter: active
  - failed rows:
      name: cron_overlapping_schedules
      fail query: |
        SELECT command, count(*) FROM cron_jobs WHERE active AND schedule LIKE '*/%' GROUP BY command HAVING count(*) > 1
checks for jobs:
  - row_count = 0:
      name: sitemap_jobs_pending
      filter: job_type = 'sitemap' and status = 'pending' and created_at < now() - interval '5 minutes'
checks for domains:
  - failed rows:
      name: submitted_domains_without_sitemaps
      fail query: |
        SELECT d.id FROM domains d WHERE d.sitemap_analysis_status = 'submitted' AND d.updated_at < now() - interval '5 minutes'
          AND NOT EXISTS (SELECT 1 FROM sitemap_files f WHERE f.domain_id = d.id)
"""


def soda(bin_dir: Path, dsn: str, schema: str) -> Peer:
    work = WORK / f"soda-{schema}"
    work.mkdir(parents=True, exist_ok=True)
    c = _conn(dsn)
    (work / "configuration.yml").write_text(textwrap.dedent(f"""\
        data_source bench:
          type: postgres
          host: {c['host']}
          port: {c['port']}
          username: {c['user']}
          password: "{c['password']}"
          database: {c['dbname']}
          schema: {schema}
        """))
    (work / ".soda").mkdir(exist_ok=True)
    (work / ".soda" / "config.yml").write_text("send_anonymous_usage_stats: false\n")
    (work / "checks.yml").write_text(SODA_CHECKS)
    # Soda reads ~/.soda/config.yml: HOME is the work folder, so its opt-out applies and no span
    # export to collect.soda.io (unreachable here) is retried for seconds on its clock.
    return Peer("soda scan", [str(bin_dir / "soda"), "scan", "-d", "bench", "-c", "configuration.yml", "checks.yml"],
                work, 15, {**QUIET_ENV, "HOME": str(work)})


def dbt(bin_dir: Path, dsn: str, schema: str) -> Peer:
    work = WORK / f"dbt-{schema}"
    (work / "models").mkdir(parents=True, exist_ok=True)
    c = _conn(dsn)
    (work / "dbt_project.yml").write_text("name: watchdog_bench\nversion: '1.0'\nprofile: bench\nconfig-version: 2\n")
    (work / "profiles.yml").write_text(textwrap.dedent(f"""\
        bench:
          target: main
          outputs:
            main: {{type: postgres, host: {c['host']}, port: {c['port']}, user: {c['user']}, password: "{c['password']}",
                   dbname: {c['dbname']}, schema: {schema}, threads: 2}}
        flags: {{send_anonymous_usage_stats: false}}
        """))
    (work / "models" / "sources.yml").write_text(textwrap.dedent(f"""\
        version: 2
        sources:
          - name: scheduler
            schema: {schema}
            tables:
              - name: automation_runs
                columns:
                  - name: env
                    data_tests:
                      - accepted_values:
                          arguments: {{values: [production]}}
                          config: {{where: "started_at > now() - interval '24 hours'"}}
              - name: post_attempts
                columns:
                  - name: pipeline_source
                    data_tests:
                      - accepted_values:
                          arguments: {{values: [reply_v2_scheduler]}}
                          config: {{where: "decision_type = 'reply' and created_at > now() - interval '24 hours'"}}
        """))
    env = {**QUIET_ENV, "DBT_PROFILES_DIR": str(work)}
    return Peer("dbt test", [str(bin_dir / "dbt"), "test", "--project-dir", str(work)], work, 2, env)


def environment(peer: Peer) -> dict[str, str]:
    return {**os.environ, **peer.env}

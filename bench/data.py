"""Realistic scheduler data in PostgreSQL for the benchmarks: the demo schema, filled in bulk,
healthy and with an incident in progress.

Two schemas per scale (`wd_bench_1m` and `wd_bench_1m_incident`, likewise for 10m), each built once
and reused while its row count matches; before each use its last day is moved forward to now
(refresh()). Most rows are old and finished; the last day holds a small share of them, and a few rows
are in flight (jobs pending for seconds, running batches with fresh heartbeats), so every rule of
rules.yaml holds: the figures are those of a healthy scheduler, the common case. Every table carries the
indexes of the demo schema (a real deployment's: the time columns and the lookup keys).
Rows per table at scale N: runs and events N each, permits, notifications, batch jobs and jobs N/10
each, domains and sitemap files N/100 each.

The incident variant is the same data plus every seed's incident at once, at the size a watchdog
meets when the database is in trouble (INCIDENT): tens of thousands of offending rows for each
row-level rule at 1M, and the aggregate rules violated too. A watchdog must cost least then.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg

import adapter

SPAN = "365 days"  # how far back the data goes; rows are spread evenly over it
# table -> (its indexed time column, every time column): what refresh() moves forward.
MOVING = {
    "automation_runs": ("run_at_ms", ("run_at_ms", "started_at", "finished_at")),
    "system_events": ("created_at", ("created_at",)),
    "post_attempts": ("created_at", ("created_at",)),
    "notifications": ("sent_at", ("sent_at",)),
    "batch_jobs": ("started_at", ("started_at", "last_heartbeat", "completed_at")),
    "jobs": ("created_at", ("created_at", "updated_at")),
    "domains": ("updated_at", ("updated_at",)),
    "sitemap_files": ("created_at", ("created_at",)),
}

# table -> (N / divisor rows, the INSERT that makes them from generate_series(1, rows), `i` the
# row number, newest last); the divisor None marks a table of a few fixed rows.
SCHEDULER_RUNS = """
    INSERT INTO scheduler_runs (function_name, status, started_at, completed_at)
    SELECT 'daily-batch-trigger', 'completed', t, t + interval '20 minutes'
    FROM (SELECT (d::date + time '03:00:20') AT TIME ZONE 'America/New_York' AS t
          FROM generate_series(now() - interval '{span}', now() - interval '1 day', interval '1 day') AS d) AS days
    WHERE t < now() - interval '20 minutes'
    UNION ALL
    SELECT 'batch-reconciler', 'completed', t, t + interval '1 minute'
    FROM generate_series(date_trunc('hour', now() - interval '{span}'), now() - interval '5 minutes', interval '30 minutes') AS t"""
# seed 003's incident on the daily batch: no run four New York dates ago, and the EDT entry (07:00 UTC)
# running it as well two dates ago.
SCHEDULER_INCIDENT = (
    """DELETE FROM scheduler_runs WHERE function_name = 'daily-batch-trigger'
       AND (started_at AT TIME ZONE 'America/New_York')::date = (now() AT TIME ZONE 'America/New_York')::date - 4""",
    """INSERT INTO scheduler_runs (function_name, status, started_at, completed_at)
       SELECT 'daily-batch-trigger', 'completed', t, t + interval '20 minutes'
       FROM (SELECT (((now() AT TIME ZONE 'America/New_York')::date - 2) + time '07:00:20') AT TIME ZONE 'UTC' AS t) AS x""",
)


FILL = {
    "automation_runs": (1, """
        INSERT INTO automation_runs (job_id, run_at_ms, env, status, started_at, finished_at, error)
        SELECT 'job-' || (i % 500), ms, 'production', CASE WHEN i % 50 = 0 THEN 'error' ELSE 'success' END,
               to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0) + interval '40 seconds', NULL
        FROM (SELECT i, (extract(epoch FROM now() - interval '{span}') * 1000)::bigint
                        + (i * (extract(epoch FROM interval '{span}') * 1000 / {rows}))::bigint AS ms
              FROM generate_series(1, {rows}) AS i) AS s"""),
    "system_events": (1, """
        INSERT INTO system_events (event_type, severity, message, created_at)
        SELECT CASE WHEN i % 20 = 0 THEN 'reply_v2_scheduler_job_started' ELSE 'event_' || (i % 19) END,
               'info', 'event ' || i, now() - interval '{span}' + (interval '{span}' * (i::float8 / {rows}))
        FROM generate_series(1, {rows}) AS i"""),
    "post_attempts": (10, """
        INSERT INTO post_attempts (permit_id, decision_id, decision_type, pipeline_source, status, reason_code,
                                   actual_tweet_id, created_at)
        SELECT 'permit-' || i, 'decision-' || i, CASE WHEN i % 3 = 0 THEN 'post' ELSE 'reply' END,
               'reply_v2_scheduler', 'USED', NULL, 'tweet-' || i,
               now() - interval '{span}' + (interval '{span}' * (i::float8 / {rows}))
        FROM generate_series(1, {rows}) AS i"""),
    "notifications": (10, """
        INSERT INTO notifications (job_id, kind, recipient, sent_at)
        SELECT i, 'followup', '+3160000' || (i % 10000), now() - interval '{span}' + (interval '{span}' * (i::float8 / {rows}))
        FROM generate_series(1, {rows}) AS i"""),
    "batch_jobs": (10, """
        INSERT INTO batch_jobs (org_id, status, started_at, last_heartbeat, completed_at, tasks_total, tasks_done)
        SELECT 'org-' || (i % 300), CASE WHEN i > {rows} - 20 THEN 'running' WHEN i % 40 = 0 THEN 'failed' ELSE 'completed' END,
               t, CASE WHEN i > {rows} - 20 THEN now() - interval '30 seconds' ELSE t + interval '5 minutes' END,
               CASE WHEN i > {rows} - 20 THEN NULL ELSE t + interval '5 minutes' END, 100, 100
        FROM (SELECT i, now() - interval '{span}' + (interval '{span}' * (i::float8 / {rows})) AS t
              FROM generate_series(1, {rows}) AS i) AS s"""),
    "jobs": (10, """
        INSERT INTO jobs (job_type, status, domain_id, created_at, updated_at)
        SELECT CASE WHEN i % 4 = 0 THEN 'sitemap' ELSE 'crawl' END, CASE WHEN i > {rows} - 5 THEN 'pending' ELSE 'done' END,
               i % ({rows} / 10 + 1), t, t + interval '2 minutes'
        FROM (SELECT i, CASE WHEN i > {rows} - 5 THEN now() - ({rows} - i) * interval '10 seconds'
                             ELSE now() - interval '{span}' + (interval '{span}' * (i::float8 / ({rows} - 5))) - interval '1 hour' END AS t
              FROM generate_series(1, {rows}) AS i) AS s"""),
    "domains": (100, """
        INSERT INTO domains (domain, sitemap_analysis_status, updated_at)
        SELECT 'site-' || i || '.example', 'completed', now() - interval '{span}' + (interval '{span}' * (i::float8 / {rows}))
        FROM generate_series(1, {rows}) AS i"""),
    "sitemap_files": (100, """
        INSERT INTO sitemap_files (domain_id, url, created_at)
        SELECT i, 'https://site-' || i || '.example/sitemap.xml', now() - interval '{span}' + (interval '{span}' * (i::float8 / {rows}))
        FROM generate_series(1, {rows}) AS i"""),
    # seed 003's daily batch: once per New York date at 03:00 local, and the reconciler every 30 minutes.
    # Rebuilt (not moved) before each use: moving it would put a day's run at another local hour.
    "scheduler_runs": (None, SCHEDULER_RUNS),
    "cron_jobs": (None, """
        INSERT INTO cron_jobs (jobname, schedule, command, active) VALUES
        ('daily-batch-trigger', '*/15 * * * *', 'SELECT daily_batch_trigger()', true),
        ('batch-reconciler', '*/10 * * * *', 'SELECT batch_reconciler()', true),
        ('daily-scheduler', '0 7 * * *', 'SELECT daily_scheduler()', true)"""),
}


# The incident in progress, added after FILL at scale N (`{k}` = N / 1M; counts are those of 1M):
# every rule of rules.yaml is violated. The offending rows lie within the last 23 hours where a rule
# has a 24-hour window, so none slides out of it between refresh() and the probes.
INCIDENT = (
    # seed 004: 76k sitemap jobs left pending, from 69 days to 10 minutes old
    """INSERT INTO jobs (job_type, status, domain_id, created_at, updated_at)
       SELECT 'sitemap', 'pending', i, t, t FROM (
         SELECT i, now() - interval '10 minutes' - (interval '69 days' * (i::float8 / ({k} * 76000))) AS t
         FROM generate_series(1, ({k} * 76000)::int) AS i) AS s""",
    # seed 003: 83k running batch jobs whose heartbeats went stale (one in ten never beat), started
    # from 3 days to 10 minutes ago; and 1k failed batch jobs in the last day (failure ratio ~0.8)
    """INSERT INTO batch_jobs (org_id, status, started_at, last_heartbeat, completed_at, tasks_total, tasks_done)
       SELECT 'org-' || (i % 300), 'running', t, CASE WHEN i % 10 = 0 THEN NULL ELSE t + interval '1 minute' END, NULL, 100, 10
       FROM (SELECT i, now() - interval '10 minutes' - (interval '3 days' * (i::float8 / ({k} * 83000))) AS t
             FROM generate_series(1, ({k} * 83000)::int) AS i) AS s""",
    """INSERT INTO batch_jobs (org_id, status, started_at, last_heartbeat, completed_at, tasks_total, tasks_done)
       SELECT 'org-' || (i % 300), 'failed', t, t + interval '1 minute', t + interval '1 minute', 100, 0
       FROM (SELECT i, now() - interval '23 hours' * (i::float8 / ({k} * 1000)) AS t
             FROM generate_series(1, ({k} * 1000)::int) AS i) AS s""",
    # seed 000: the scheduler ran in production and staging for the last 23 hours: 30k runs, each twice
    """INSERT INTO automation_runs (job_id, run_at_ms, env, status, started_at, finished_at, error)
       SELECT 'job-burst-' || (i % 500), ms, env, 'success', to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0) + interval '40 seconds', NULL
       FROM (SELECT i, (extract(epoch FROM now() - interval '1 minute') * 1000)::bigint
                       - (i * (extract(epoch FROM interval '23 hours') * 1000 / ({k} * 30000)))::bigint AS ms
             FROM generate_series(1, ({k} * 30000)::int) AS i) AS s, (VALUES ('production'), ('staging')) AS e (env)""",
    # seed 001: the reply scheduler is silent for 6 hours (no started events, no permits of its own)
    # and 20k reply permits came from the wrong pipeline in the last 23 hours, half rejected for it
    """DELETE FROM system_events WHERE event_type = 'reply_v2_scheduler_job_started' AND created_at > now() - interval '6 hours'""",
    """DELETE FROM post_attempts WHERE pipeline_source = 'reply_v2_scheduler' AND created_at > now() - interval '6 hours'""",
    """INSERT INTO post_attempts (permit_id, decision_id, decision_type, pipeline_source, status, reason_code,
                                  actual_tweet_id, created_at)
       SELECT 'incident-permit-' || i, 'incident-decision-' || i, 'reply', 'reply_v1_cron',
              CASE WHEN i % 2 = 0 THEN 'REJECTED' ELSE 'USED' END,
              CASE WHEN i % 2 = 0 THEN 'invalid_pipeline_source' END, CASE WHEN i % 2 = 1 THEN 'tweet-x' || i END,
              now() - interval '1 minute' - interval '23 hours' * (i::float8 / ({k} * 20000))
       FROM generate_series(1, ({k} * 20000)::int) AS i""",
    # seed 002: 20k follow-up SMS sent twice, 30 seconds apart, in the last 23 hours
    """INSERT INTO notifications (job_id, kind, recipient, sent_at)
       SELECT 10000000 + i, 'followup', '+3170000' || (i % 10000), t + copy * interval '30 seconds'
       FROM (SELECT i, now() - interval '2 minutes' - interval '23 hours' * (i::float8 / ({k} * 20000)) AS t
             FROM generate_series(1, ({k} * 20000)::int) AS i) AS s, generate_series(0, 1) AS copy""",
    # seed 004: 20k domains submitted for sitemap analysis that never got a sitemap file
    """INSERT INTO domains (domain, sitemap_analysis_status, updated_at)
       SELECT 'stuck-' || i || '.example', 'submitted', now() - interval '10 minutes' - interval '69 days' * (i::float8 / ({k} * 20000))
       FROM generate_series(1, ({k} * 20000)::int) AS i""",
    # seed 003: redundant pg_cron entries
    """INSERT INTO cron_jobs (jobname, schedule, command, active) VALUES
       ('daily-batch-trigger-copy', '*/15 * * * *', 'SELECT daily_batch_trigger()', true),
       ('batch-reconciler-fast', '*/5 * * * *', 'SELECT batch_reconciler()', true)""",
)


@dataclass(frozen=True)
class Dataset:
    dsn: str
    schema: str
    rows: int
    built_seconds: float | None
    incident: bool = False

    @property
    def label(self) -> str:
        return f"{self.rows // 1_000_000}M {'incident' if self.incident else 'healthy'}"


def schema_dsn(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def ensure(base_dsn: str, rows: int, rebuild: bool = False, incident: bool = False) -> Dataset:
    """The schema for `rows` (with the incident in progress if `incident`): built unless it already
    holds that data, else brought up to now."""
    schema = (f"wd_bench_{rows // 1_000_000}m" if rows >= 1_000_000 else f"wd_bench_{rows // 1000}k") + ("_incident" if incident else "")
    kind = "incident, " if incident else ""
    with psycopg.connect(base_dsn, autocommit=True) as conn:
        marker = conn.execute("SELECT obj_description(to_regnamespace(%s), 'pg_namespace')", (schema,)).fetchone()
        label, _, as_of = (marker[0] if marker and marker[0] else "").partition(", as of ")
        if label == f"watchdog bench, {kind}{rows} rows" and as_of.isdigit() and not rebuild:
            conn.execute(f'SET search_path = "{schema}"')
            refresh(conn, int(as_of), incident)
            _mark(conn, schema, rows, kind)
            return Dataset(schema_dsn(base_dsn, schema), schema, rows, None, incident)
        began = time.perf_counter()
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path = "{schema}"')
        statements = adapter.demo_ddl()
        conn.execute("\n;".join(s for s in statements if s.startswith("CREATE TABLE")))
        for table in adapter.demo_tables():
            divisor, sql = FILL[table]
            conn.execute(sql.format(rows=rows // divisor if divisor else 0, span=SPAN))
        for sql in INCIDENT + SCHEDULER_INCIDENT if incident else ():
            conn.execute(sql.format(k=rows / 1_000_000))
        for statement in statements:
            if statement.startswith("CREATE INDEX"):
                conn.execute(statement)
        conn.execute("ANALYZE")
        _mark(conn, schema, rows, kind)
        return Dataset(schema_dsn(base_dsn, schema), schema, rows, time.perf_counter() - began, incident)


def refresh(conn: psycopg.Connection[Any], as_of: int, incident: bool = False) -> None:
    """Move the last day of every table forward by the time since `as_of`: the data is relative to
    when it was made, and without this its in-flight jobs would look stuck and its events late
    minutes later (and an incident's would drift out of its windows). The last day is a small share
    of each table, found through its time index."""
    for table, (key, columns) in MOVING.items():
        sets = ", ".join(f"{c} = {c} + {_shift(c)}" for c in columns)
        conn.execute(f"UPDATE {table} SET {sets} WHERE {key} > {_since(key)}", {"as_of": as_of})
        # the moved rows left dead copies and pages no longer all-visible (index-only scans visit the
        # heap again): vacuumed, the table is as built on every run, not bloating from run to run
        conn.execute(f"VACUUM (ANALYZE) {table}")
    conn.execute("TRUNCATE scheduler_runs")  # small: made again, at its local hours, as of now
    conn.execute(SCHEDULER_RUNS.format(span=SPAN))
    for sql in SCHEDULER_INCIDENT if incident else ():
        conn.execute(sql)
    conn.execute("VACUUM (ANALYZE) scheduler_runs")


def _shift(column: str) -> str:
    seconds = "(extract(epoch FROM now()) - %(as_of)s::bigint)"
    return f"({seconds} * 1000)::bigint" if column == "run_at_ms" else f"{seconds} * interval '1 second'"


def _since(column: str) -> str:
    day = "(%(as_of)s::bigint - 86400)"
    return f"{day} * 1000" if column == "run_at_ms" else f"to_timestamp({day})"


def _mark(conn: psycopg.Connection[Any], schema: str, rows: int, kind: str) -> None:
    conn.execute(f"COMMENT ON SCHEMA \"{schema}\" IS 'watchdog bench, {kind}{rows} rows, as of {int(time.time())}'")

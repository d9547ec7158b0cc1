"""The `schedule` kind's cost on a pg_cron-shaped data set, against the SQL a DBA would write.

    python bench/schedules.py            # builds wd_bench_cron once (about a minute), then measures
    python bench/schedules.py --rebuild

1,000 jobs with 30 days of runs (about 1M rows) in the schema `wd_bench_cron`, shaped like pg_cron's
`cron.job` and `cron.job_run_details` (with pg_cron's indexes only: the run table's primary key),
plus a `timezone` column per job. The data ends at a fixed instant, AS_OF, and every measure is
taken with the clock at AS_OF (the evaluator's injected clock; a bound parameter in the hand-written
SQL), so the schema is built once and reused as it is.

Measured, in turn, for a lookback of 30 days (every row) and of 1 day:
- **hand-written SQL**: every job joined to its runs within the lookback, ordered by job and start,
  fetched with psycopg on an open connection;
- **judging**: watchdog's judging in Python alone (`judge_schedule`) on the rows its probe fetches;
- **watchdog evaluation**: one `Evaluator.evaluate` of the rule (query, rows, judging, result).
Goal (issue 11): the evaluation within 2x the hand-written SQL.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

HERE = Path(__file__).resolve().parent
WORK = HERE / ".data"
LOCAL = "postgresql://postgres@127.0.0.1:5432/test"
WARM_RUNS = 6  # psycopg prepares a statement on its 5th execution: measure after that, on both sides

from watchdog.evaluation.evaluator import Evaluator  # noqa: E402
from watchdog.plan import build_plan  # noqa: E402
from watchdog.results.fires import judge_schedule  # noqa: E402

SCHEMA = "wd_bench_cron"
MARK = "watchdog schedule bench v1"
AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)  # the data's last instant; New York left EDT on Nov 1, inside the 30 days
SPAN_DAYS = 30
ZONES = ["America/New_York", "Europe/London", "Asia/Tokyo", "UTC", "America/Los_Angeles"]

# jobid ranges and their schedules: 80 every 5 minutes, 80 every 15, 140 hourly, 700 daily at a
# local hour (03:00-23:00, clear of the repeated and skipped hours) in one of ZONES.
CREATE = f"""
CREATE TABLE job (
    jobid bigserial PRIMARY KEY, schedule text NOT NULL, command text NOT NULL,
    nodename text NOT NULL DEFAULT 'localhost', nodeport integer NOT NULL DEFAULT 5432,
    database text NOT NULL DEFAULT 'postgres', username text NOT NULL DEFAULT 'postgres',
    active boolean NOT NULL DEFAULT true, jobname name, timezone text NOT NULL DEFAULT 'UTC');
CREATE TABLE job_run_details (
    jobid bigint, runid bigserial PRIMARY KEY, job_pid integer, database text, username text, command text,
    status text, return_message text, start_time timestamptz, end_time timestamptz);
INSERT INTO job (schedule, command, jobname, timezone)
SELECT CASE WHEN i <= 80 THEN '*/5 * * * *' WHEN i <= 160 THEN '*/15 * * * *' WHEN i <= 300 THEN '0 * * * *'
            ELSE '0 ' || (3 + i % 21) || ' * * *' END,
       'SELECT job_' || i || '()', 'job-' || i,
       CASE WHEN i <= 300 THEN 'UTC' ELSE (ARRAY[{', '.join(repr(z) for z in ZONES)}])[1 + i % {len(ZONES)}] END
FROM generate_series(1, 1000) AS i;
"""
# A job's fire times in the 30 days, numbered n (fires since the epoch for interval jobs, days for
# daily ones); its faults by jobid and n: every 211th fire of one job in 20 missed, every 97th of
# another run twice, every 89th of a third running 40 minutes.
FIRES = """
WITH fires AS (
    SELECT j.jobid, j.command, f AS fire, (extract(epoch FROM f)::bigint / step) AS n
    FROM job j, LATERAL (SELECT CASE j.schedule WHEN '*/5 * * * *' THEN 300 WHEN '*/15 * * * *' THEN 900 ELSE 3600 END AS step) s,
         LATERAL generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '1 second', make_interval(secs => step)) AS f
    WHERE j.jobid <= 300
    UNION ALL
    SELECT j.jobid, j.command, (d::date + make_time(split_part(j.schedule, ' ', 2)::int, 0, 0)) AT TIME ZONE j.timezone,
           extract(epoch FROM d)::bigint / 86400
    FROM job j, generate_series(%(start)s::timestamptz - interval '1 day', %(end)s::timestamptz, interval '1 day') AS d
    WHERE j.jobid > 300
), runs AS (
    SELECT jobid, command, fire + ((jobid * 7 + n) %% 40) * interval '1 second' AS start_time,
           CASE WHEN jobid %% 20 = 11 AND n %% 89 = 0 THEN interval '40 minutes' ELSE (2 + jobid %% 50) * interval '1 second' END AS took
    FROM fires
    WHERE fire >= %(start)s AND fire < %(end)s AND NOT (jobid %% 20 = 3 AND n %% 211 = 0)
    UNION ALL
    SELECT jobid, command, fire + interval '30 seconds', interval '3 seconds'
    FROM fires WHERE fire >= %(start)s AND fire < %(end)s AND jobid %% 20 = 7 AND n %% 97 = 0
)
INSERT INTO job_run_details (jobid, job_pid, database, username, command, status, return_message, start_time, end_time)
SELECT jobid, 10000 + jobid, 'postgres', 'postgres', command, 'succeeded', '1 row', start_time, start_time + took
FROM runs WHERE start_time < %(end)s ORDER BY start_time
"""

RULE = """
version: 1
targets: {{bench: {{dsn: '{dsn}', statement_timeout: 120s}}}}
rules:
  - name: cron_jobs_{days}d
    check: schedule
    table: {schema}.job_run_details
    time_column: start_time
    finished_column: end_time
    jobs: {{table: {schema}.job, "on": {{jobid: jobid}}, schedule_column: schedule, timezone_column: timezone,
            name_column: jobname, where: {{active: true}}}}
    grace: 2m
    max_runtime: 10m
    at_most: 1
    lookback: {days}d
    max_runs: 2000000
"""
# What a DBA would write to fetch the same rows: the jobs, each with its runs in the lookback, in order.
HAND_WRITTEN = f"""
SELECT j.jobid, j.schedule, j.timezone, j.jobname, r.start_time, r.end_time
FROM {SCHEMA}.job j
LEFT JOIN {SCHEMA}.job_run_details r ON r.jobid = j.jobid AND r.start_time >= %(since)s
WHERE j.active
ORDER BY j.jobid, r.start_time
"""


def in_turn(fns: Sequence[Callable[[], Any]], repeat: int) -> list[tuple[float, float]]:
    """(median, best) seconds of each of `fns`, called one after the other `repeat` times, so that
    the load of a shared machine weighs on all of them alike."""
    spent: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, times in zip(fns, spent):
            began = time.perf_counter()
            fn()
            times.append(time.perf_counter() - began)
    return [(statistics.median(times), min(times)) for times in spent]


def ensure(dsn: str, rebuild: bool) -> float | None:
    """Build the schema unless it is there already; the seconds the build took, None if reused."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        [marker] = conn.execute("SELECT obj_description(to_regnamespace(%s), 'pg_namespace')", (SCHEMA,)).fetchone() or [None]
        if marker == MARK and not rebuild:
            return None
        began = time.perf_counter()
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(f"SET search_path = {SCHEMA}")
        conn.execute(CREATE)
        start = AS_OF.timestamp() - SPAN_DAYS * 86400
        conn.execute(FIRES, {"start": datetime.fromtimestamp(start, timezone.utc), "end": AS_OF})
        conn.execute("ANALYZE job; ANALYZE job_run_details")
        conn.execute(f"COMMENT ON SCHEMA {SCHEMA} IS '{MARK}'")
        return time.perf_counter() - began


def hand_written(dsn: str, days: int) -> Callable[[], list[tuple[Any, ...]]]:
    """The DBA's query on an open connection whose session is in UTC, as watchdog's are (psycopg
    then returns instants without converting each to the server's zone)."""
    conn = psycopg.connect(dsn, autocommit=True, options="-c TimeZone=UTC")
    since = datetime.fromtimestamp(AS_OF.timestamp() - days * 86400, timezone.utc)
    return lambda: conn.execute(HAND_WRITTEN, {"since": since}).fetchall()


def evaluation(dsn: str, days: int) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(one evaluation through the Evaluator, its judging alone on the rows its probe fetched)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"schedules-{days}d.yaml"
    path.write_text(RULE.format(dsn=dsn, days=days, schema=SCHEMA))
    plan = build_plan(path, env={})
    [probe] = plan.probes
    evaluator = Evaluator(plan.targets, clock=lambda: AS_OF)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        rows = conn.execute(probe.sql, probe.bind(AS_OF)).fetchall()
    rule = probe.rule
    return (lambda: evaluator.evaluate(plan.probes)), (lambda: judge_schedule(rule.params, rule.time_unit, rule.timezone, rows, AS_OF, rule.samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=os.environ.get("WATCHDOG_BENCH_DSN", LOCAL))
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data set even if it exists")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    built = ensure(args.dsn, args.rebuild)
    with psycopg.connect(args.dsn) as conn:
        [(jobs, runs)] = conn.execute(f"SELECT (SELECT count(*) FROM {SCHEMA}.job), (SELECT count(*) FROM {SCHEMA}.job_run_details)").fetchall()
    print(f"{SCHEMA}: {jobs:,} jobs, {runs:,} runs ({f'built in {built:.0f} s' if built else 'reused'})", flush=True)
    goals = []
    for days in (SPAN_DAYS, 1):
        evaluate, judge = evaluation(args.dsn, days)
        result = evaluate()[0]
        print(f"\n== lookback {days}d: {result.status}, {result.violations:,} fires in breach, error {result.error}", flush=True)
        for fn in (evaluate, judge):
            for _ in range(WARM_RUNS if days == 1 else 1):
                fn()
        (sql_median, sql_best), (judge_median, judge_best), (eval_median, eval_best) = in_turn(
            [hand_written(args.dsn, days), judge, evaluate], args.repeat if days == SPAN_DAYS else args.repeat * 5)
        for what, median, best in (("hand-written SQL", sql_median, sql_best), ("judging in Python alone", judge_median, judge_best),
                                   ("watchdog evaluation", eval_median, eval_best)):
            print(f"  {what:<26} median {median * 1000:9.1f} ms   best {best * 1000:9.1f} ms", flush=True)
        ratio = eval_median / sql_median
        print(f"  evaluation / hand-written SQL: {ratio:.2f} (medians); / (SQL + judging): {eval_median / (sql_median + judge_median):.2f}")
        goals.append((days, ratio))
    print("\ngoals:")
    for days, ratio in goals:
        print(f"  [{'met' if ratio <= 2 else 'MISSED'}] {days}d: evaluation within 2x the hand-written SQL: {ratio:.2f}x")


if __name__ == "__main__":
    main()

"""Faults produced through the real Celery, seen in django-celery-results' and django-celery-beat's
tables with plain SQL: failing tasks, a worker killed mid-task, a beat that stopped."""
from __future__ import annotations

import json
import os
import signal
from datetime import timedelta

import psycopg
import pytest

from sched_harness import (CELERY_TABLES, Proc, Processes, SchedulerDb, celery_worker_args, grant_select, query,
                           wait_until)

pytestmark = [
    pytest.mark.schedulers, pytest.mark.postgres,
    # kombu 5.7's SQLAlchemy transport uses the `noload` strategy, deprecated in SQLAlchemy 2.1 (works still).
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]

FAILING_ORDERS = {1, 5, 6}
EXPORT_SECONDS = 3
BEAT_EVERY_SECONDS = 2
# A healthy beat sends a task at most max_loop_interval (1 s) after it is due: 3 s is room enough.
BEAT_GRACE_SECONDS = 3

FINISHED = """
SELECT count(*) AS n FROM django_celery_results_taskresult
WHERE task_id = ANY(%s) AND status IN ('SUCCESS', 'FAILURE')"""
STARTED_TOO_LONG = """
SELECT task_id, task_name, status, worker, date_started, date_done, result
FROM django_celery_results_taskresult
WHERE status = 'STARTED' AND date_started < now() - make_interval(secs => %s)"""
# A periodic task on an interval schedule whose last run is older than the interval plus a grace.
BEAT_LATE = """
SELECT pt.name, pt.task, pt.last_run_at, pt.total_run_count, i.every, i.period
FROM django_celery_beat_periodictask pt
JOIN django_celery_beat_intervalschedule i ON i.id = pt.interval_id
WHERE pt.enabled AND pt.last_run_at < now() - (i.every || ' ' || i.period)::interval - make_interval(secs => %s)"""
BEAT_TASK = "SELECT last_run_at, total_run_count FROM django_celery_beat_periodictask WHERE name = %s"
RATIOS = """
SELECT task_name, count(*) FILTER (WHERE status = 'FAILURE') AS failed, count(*) AS total
FROM django_celery_results_taskresult WHERE task_id = ANY(%s)
GROUP BY task_name ORDER BY task_name"""


def test_failing_tasks_leave_failure_rows_and_a_failure_ratio_per_task(scheduler_db: SchedulerDb, celery_worker: Proc,
                                                                       readonly_role: str) -> None:
    from wdcelery.tasks import charge, heartbeat

    sent = [charge.delay(order, order in FAILING_ORDERS).id for order in range(8)]
    sent += [heartbeat.delay().id for _ in range(3)]
    wait_until(lambda: query(scheduler_db.dsn, FINISHED, [sent])[0]["n"] == len(sent), 60,
               f"{len(sent)} finished results", [celery_worker])

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        query(scheduler_db.dsn, RATIOS, [sent], role=readonly_role)
    grant_select(scheduler_db.dsn, readonly_role, CELERY_TABLES)
    assert query(scheduler_db.dsn, RATIOS, [sent], role=readonly_role) == [
        {"task_name": "wd.charge", "failed": 3, "total": 8}, {"task_name": "wd.heartbeat", "failed": 0, "total": 3}]
    failures = query(scheduler_db.dsn, """
        SELECT task_args, worker, result::jsonb ->> 'exc_type' AS exc_type, traceback,
               date_created <= date_started AND date_started <= date_done AS ordered
        FROM django_celery_results_taskresult WHERE task_id = ANY(%s) AND status = 'FAILURE'
        ORDER BY task_args""", [sent])
    # task_args is the JSON encoding of the arguments' repr, a string, not a JSON array.
    assert [json.loads(row["task_args"]) for row in failures] == ["(1, True)", "(5, True)", "(6, True)"]
    assert all(row["exc_type"] == "RuntimeError" and "card declined" in row["traceback"] for row in failures)
    assert all(row["worker"].startswith("main@") and row["ordered"] for row in failures)


def test_with_celerys_defaults_rows_name_no_task_and_no_start(scheduler_db: SchedulerDb, celery_env: dict[str, str],
                                                              processes: Processes) -> None:
    """Without result_extended and task_track_started, a result row is written once, at the end,
    with no task name, worker or start: a per-task ratio sees one NULL group, and nothing is STARTED."""
    from wdcelery.tasks import charge

    worker = processes.start("worker defaults", celery_worker_args("defaults", "defaults"),
                             {**celery_env, "DJANGO_SETTINGS_MODULE": "wdcelery.settings_defaults"})
    sent = [charge.apply_async((order, order == 1), queue="defaults").id for order in range(2)]
    wait_until(lambda: query(scheduler_db.dsn, FINISHED, [sent])[0]["n"] == len(sent), 60,
               "the results", [worker])
    rows = query(scheduler_db.dsn, """
        SELECT status, task_name, worker, task_args, periodic_task_name, date_started
        FROM django_celery_results_taskresult WHERE task_id = ANY(%s) ORDER BY status""", [sent])
    assert rows == [{"status": status, "task_name": None, "worker": None, "task_args": None,
                     "periodic_task_name": None, "date_started": None}
                    for status in ("FAILURE", "SUCCESS")]
    assert query(scheduler_db.dsn, RATIOS, [sent]) == [{"task_name": None, "failed": 1, "total": 2}]


def test_worker_killed_mid_task_leaves_its_row_started(scheduler_db: SchedulerDb, celery_env: dict[str, str],
                                                       processes: Processes, readonly_role: str) -> None:
    from wdcelery.tasks import export

    worker = processes.start("worker doomed", celery_worker_args("doomed", "exports"), celery_env)
    task_id = export.apply_async((EXPORT_SECONDS,), queue="exports").id
    started = wait_until(lambda: query(scheduler_db.dsn, "SELECT result FROM django_celery_results_taskresult "
                                       "WHERE task_id = %s AND status = 'STARTED'", [task_id]),
                         60, "the export to start", [worker])
    # While STARTED, `result` names the process running the task: here the solo worker itself.
    assert json.loads(started[0]["result"])["pid"] == worker.pid
    worker.kill()
    # Past the moment the export would have finished, on the database's clock.
    wait_until(lambda: query(scheduler_db.dsn, STARTED_TOO_LONG, [EXPORT_SECONDS + 1]), EXPORT_SECONDS + 15,
               "the export's run to outlast its duration")

    grant_select(scheduler_db.dsn, readonly_role, CELERY_TABLES)
    stuck = query(scheduler_db.dsn, STARTED_TOO_LONG, [EXPORT_SECONDS + 1], role=readonly_role)
    assert [(row["task_id"], row["task_name"], row["status"]) for row in stuck] == [(task_id, "wd.export", "STARTED")]
    assert stuck[0]["worker"].startswith("doomed@")
    # date_done is not NULL while STARTED: it is the time the STARTED row was written.
    assert abs(stuck[0]["date_done"] - stuck[0]["date_started"]) < timedelta(seconds=1)


def test_pool_child_killed_mid_task_leaves_a_worker_lost_failure(scheduler_db: SchedulerDb,
                                                                 celery_env: dict[str, str],
                                                                 processes: Processes) -> None:
    """What the OOM killer does to a prefork worker: the child running the task dies, the worker
    lives on and records the task as failed, so it counts in the failure ratio, not as STARTED."""
    from wdcelery.tasks import export

    worker = processes.start("worker prefork", celery_worker_args("prefork", "exports", pool="prefork"), celery_env)
    task_id = export.apply_async((EXPORT_SECONDS * 10,), queue="exports").id
    started = wait_until(lambda: query(scheduler_db.dsn, "SELECT result FROM django_celery_results_taskresult "
                                       "WHERE task_id = %s AND status = 'STARTED'", [task_id]),
                         60, "the export to start", [worker])
    child = json.loads(started[0]["result"])["pid"]
    assert child != worker.pid
    os.kill(child, signal.SIGKILL)

    failed = wait_until(lambda: query(scheduler_db.dsn, """
        SELECT task_name, worker LIKE 'prefork@%%' AS by_prefork, result::jsonb ->> 'exc_type' AS exc_type,
               result::jsonb -> 'exc_message' ->> 0 LIKE 'Worker exited prematurely: signal 9 (SIGKILL)%%' AS killed,
               date_done > date_started AS ended
        FROM django_celery_results_taskresult WHERE task_id = %s AND status = 'FAILURE'""", [task_id]),
                        30, "the export to be marked failed", [worker])
    assert failed == [{"task_name": "wd.export", "by_prefork": True, "exc_type": "WorkerLostError", "killed": True,
                       "ended": True}]
    assert worker.popen.poll() is None


def test_stopped_beat_lets_last_run_at_age_past_the_interval(scheduler_db: SchedulerDb, celery_env: dict[str, str],
                                                             celery_worker: Proc, processes: Processes,
                                                             readonly_role: str) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(every=BEAT_EVERY_SECONDS, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="wd-heartbeat", task="wd.heartbeat", interval=every)
    beat = processes.start("beat", ["-m", "celery", "-A", "wdcelery", "beat", "-l", "info",
                                    "-S", "django_celery_beat.schedulers:DatabaseScheduler"], celery_env)
    wait_until(lambda: query(scheduler_db.dsn, BEAT_TASK, ["wd-heartbeat"])[0]["total_run_count"] >= 2, 30,
               "beat to send wd-heartbeat twice", [beat, celery_worker])
    assert query(scheduler_db.dsn, BEAT_LATE, [BEAT_GRACE_SECONDS]) == []
    # The worker ran what beat sent, and its result rows name the periodic task.
    wait_until(lambda: query(scheduler_db.dsn, "SELECT 1 FROM django_celery_results_taskresult "
                             "WHERE periodic_task_name = 'wd-heartbeat' AND status = 'SUCCESS'"),
               30, "a result of wd-heartbeat", [celery_worker])

    beat.kill()
    last = query(scheduler_db.dsn, BEAT_TASK, ["wd-heartbeat"])[0]
    grant_select(scheduler_db.dsn, readonly_role, CELERY_TABLES)
    late = wait_until(lambda: query(scheduler_db.dsn, BEAT_LATE, [BEAT_GRACE_SECONDS], role=readonly_role),
                      BEAT_EVERY_SECONDS + BEAT_GRACE_SECONDS + 15, "wd-heartbeat to be late")
    assert [(row["name"], row["every"], row["period"]) for row in late] == [
        ("wd-heartbeat", BEAT_EVERY_SECONDS, "seconds")]
    assert (late[0]["last_run_at"], late[0]["total_run_count"]) == (last["last_run_at"], last["total_run_count"])
    # Beat adds its own result cleanup on a crontab schedule; never run yet, its last_run_at is NULL.
    cleanup = query(scheduler_db.dsn, """
        SELECT pt.last_run_at, pt.total_run_count, c.minute, c.hour, c.day_of_month, c.month_of_year,
               c.day_of_week, c.timezone
        FROM django_celery_beat_periodictask pt JOIN django_celery_beat_crontabschedule c ON c.id = pt.crontab_id
        WHERE pt.name = 'celery.backend_cleanup'""", role=readonly_role)
    assert cleanup == [{"last_run_at": None, "total_run_count": 0, "minute": "0", "hour": "4", "day_of_month": "*",
                        "month_of_year": "*", "day_of_week": "*", "timezone": "UTC"}]


def test_beat_with_naive_local_time_writes_last_run_at_hours_ahead(scheduler_db: SchedulerDb,
                                                                   celery_env: dict[str, str],
                                                                   processes: Processes) -> None:
    """USE_TZ=False in New York with DJANGO_CELERY_BEAT_TZ_AWARE=False: beat stores UTC wall time
    as local time, so last_run_at lands 4-5 hours ahead and no "last run too old" rule can fire."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(every=BEAT_EVERY_SECONDS, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="wd-naive", task="wd.heartbeat", interval=every)
    beat = processes.start("beat naive", ["-m", "celery", "-A", "wdcelery", "beat", "-l", "info",
                                          "-S", "django_celery_beat.schedulers:DatabaseScheduler"],
                           {**celery_env, "DJANGO_SETTINGS_MODULE": "wdcelery.settings_naive"})
    wait_until(lambda: query(scheduler_db.dsn, BEAT_TASK, ["wd-naive"])[0]["total_run_count"] >= 1, 30,
               "beat to send wd-naive", [beat])
    beat.kill()

    ahead = query(scheduler_db.dsn, "SELECT extract(epoch FROM last_run_at - now()) / 3600 AS hours "
                                    "FROM django_celery_beat_periodictask WHERE name = 'wd-naive'")[0]["hours"]
    assert 3.9 < ahead < 5.1  # New York is UTC-4 or UTC-5

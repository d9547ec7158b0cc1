"""The real APScheduler 3, its jobs in PostgreSQL: next_run_time moves on while it runs, and falls
into the past once the scheduler process is killed."""
from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from sched_harness import Processes, SchedulerDb, grant_select, query, wait_until

pytestmark = [pytest.mark.schedulers, pytest.mark.postgres]

SCRIPT = Path(__file__).resolve().parent / "aps_scheduler.py"
INTERVAL_SECONDS = 1
GRACE_SECONDS = 2
NEXT_RUN = "SELECT next_run_time FROM apscheduler_jobs WHERE id = %s"
# next_run_time is epoch seconds (double precision), judged against the database's clock.
LATE = """
SELECT id, next_run_time, extract(epoch FROM now()) - next_run_time AS late_seconds
FROM apscheduler_jobs WHERE next_run_time < extract(epoch FROM now()) - %s"""


def _next_run(dsn: str, job: str) -> float | None:
    """The job's next_run_time, or None while the scheduler has not yet created its table or row."""
    if not query(dsn, "SELECT 1 FROM pg_tables WHERE tablename = 'apscheduler_jobs'"):
        return None
    rows = query(dsn, NEXT_RUN, [job])
    return rows[0]["next_run_time"] if rows else None


def _moved_past(dsn: str, job: str, previous: float) -> float | None:
    """The job's next_run_time once it is later than `previous` (the scheduler ran it), else None."""
    current = _next_run(dsn, job)
    return current if current is not None and current > previous else None


def test_killed_scheduler_leaves_next_run_time_in_the_past(scheduler_db: SchedulerDb, processes: Processes,
                                                           readonly_role: str) -> None:
    scheduler = processes.start("apscheduler", [str(SCRIPT), str(INTERVAL_SECONDS)],
                                {**os.environ, "WD_APS_DATABASE_URL": scheduler_db.sqlalchemy_url})
    first = wait_until(lambda: _next_run(scheduler_db.dsn, "wd_tick"), 30, "wd_tick to be stored", [scheduler])
    second = wait_until(lambda: _moved_past(scheduler_db.dsn, "wd_tick", first), 10, "wd_tick to run", [scheduler])
    wait_until(lambda: _moved_past(scheduler_db.dsn, "wd_tick", second), 10, "wd_tick to run again", [scheduler])
    assert query(scheduler_db.dsn, LATE, [GRACE_SECONDS]) == []
    # A paused job has no next run: NULL, so it never counts as late.
    assert _next_run(scheduler_db.dsn, "wd_paused") is None
    assert query(scheduler_db.dsn, "SELECT count(*) AS n FROM apscheduler_jobs WHERE id = 'wd_paused'") == [{"n": 1}]

    scheduler.kill()
    frozen = _next_run(scheduler_db.dsn, "wd_tick")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        query(scheduler_db.dsn, LATE, [GRACE_SECONDS], role=readonly_role)
    grant_select(scheduler_db.dsn, readonly_role, ["apscheduler_jobs"])
    late = wait_until(lambda: query(scheduler_db.dsn, LATE, [GRACE_SECONDS], role=readonly_role),
                      INTERVAL_SECONDS + GRACE_SECONDS + 10, "wd_tick to be late")
    assert [(row["id"], row["next_run_time"]) for row in late] == [("wd_tick", frozen)]
    assert late[0]["late_seconds"] > GRACE_SECONDS

"""The APScheduler pack on a real scheduler (SQLAlchemy job store in PostgreSQL), read as a role
holding only SELECT on the job store's table: it holds while the scheduler runs, and names the
job once the scheduler process is killed."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from sched_harness import Processes, SchedulerDb, grant_select, query, wait_until
from tests.pack_rules import as_role, evaluate_pack, sample_values

pytestmark = [pytest.mark.schedulers, pytest.mark.postgres]

SCRIPT = Path(__file__).resolve().parent / "aps_scheduler.py"


def test_job_overdue_holds_while_the_scheduler_runs_and_names_the_job_once_it_is_killed(
        scheduler_db: SchedulerDb, processes: Processes, readonly_role: str, tmp_path: Path) -> None:
    scheduler = processes.start("apscheduler", [str(SCRIPT), "1"], {**os.environ, "WD_APS_DATABASE_URL": scheduler_db.sqlalchemy_url})
    stored = "SELECT next_run_time FROM apscheduler_jobs WHERE id = 'wd_tick'"
    wait_until(lambda: query(scheduler_db.dsn, "SELECT 1 FROM pg_tables WHERE tablename = 'apscheduler_jobs'")
               and query(scheduler_db.dsn, stored), 30, "wd_tick to be stored", [scheduler])
    first = query(scheduler_db.dsn, stored)[0]["next_run_time"]
    wait_until(lambda: query(scheduler_db.dsn, stored)[0]["next_run_time"] > first, 10, "wd_tick to run", [scheduler])
    grant_select(scheduler_db.dsn, readonly_role, ["apscheduler_jobs"])
    as_reader = as_role(scheduler_db.dsn, readonly_role)
    assert evaluate_pack(tmp_path, as_reader, "apscheduler", {"grace": "2s"})["apscheduler_job_overdue"].status == "ok"

    scheduler.kill()
    frozen = query(scheduler_db.dsn, stored)[0]["next_run_time"]
    overdue = wait_until(lambda: (r := evaluate_pack(tmp_path, as_reader, "apscheduler", {"grace": "2s"})["apscheduler_job_overdue"])
                         .status == "violated" and r, 15, "wd_tick to be overdue")
    # The paused job (next_run_time NULL) is not due, so not overdue.
    assert sample_values(overdue, "id") == ["wd_tick"] and sample_values(overdue, "next_run_time") == [frozen]
    assert sample_values(overdue, "age_seconds")[0] > 2

"""A real APScheduler 3.x scheduler with its jobs in PostgreSQL, run as a process by the tests.

Usage: WD_APS_DATABASE_URL=postgresql+psycopg://... python aps_scheduler.py INTERVAL_SECONDS
(the URL comes from the environment, so no password shows in the process list).

It keeps two jobs in the SQLAlchemy job store (table apscheduler_jobs): `wd_tick`, an interval job,
and `wd_paused`, a paused one, whose next_run_time is NULL. Killed, it leaves wd_tick's
next_run_time where it was, so it falls into the past: the fault the tests show.
"""
from __future__ import annotations

import os
import sys

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler


def tick() -> None:
    """The job: its runs are seen as next_run_time moving on."""
    print("tick", flush=True)


def main(url: str, interval: float) -> None:
    """Run the scheduler until the process is killed."""
    scheduler = BlockingScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)}, timezone="UTC")
    scheduler.add_job(tick, "interval", seconds=interval, id="wd_tick", replace_existing=True)
    scheduler.add_job(tick, "interval", hours=1, id="wd_paused", replace_existing=True, next_run_time=None)
    scheduler.start()


if __name__ == "__main__":
    main(os.environ["WD_APS_DATABASE_URL"], float(sys.argv[1]))

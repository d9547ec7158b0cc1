"""procrastinate's faults, produced by real `procrastinate worker` processes and shown in its
tables with plain SQL: what a watchdog rule over procrastinate has to read (docs/schedulers.md)."""
from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from schedulers.polling import wait_until

if TYPE_CHECKING:
    from schedulers.procrastinate_workers import Procrastinate

pytestmark = [pytest.mark.schedulers, pytest.mark.postgres]

# procrastinate_app.WORKER_DEFAULTS: a worker beats every 0.5 s and prunes, when it starts, the
# workers whose heartbeat is older than 3 s.
STALLED_AFTER = 3.0


def test_a_job_whose_worker_was_killed_stays_doing_and_loses_its_worker_row(procrastinate_db: Procrastinate, tmp_path: Path) -> None:
    db = procrastinate_db
    first = db.start_worker("first", queues=["work"])
    [dead] = db.workers()
    job_id = db.defer("block", gate=str(tmp_path / "never"))
    job = db.wait_for_status(job_id, "doing")
    assert job["worker_id"] == dead["id"]
    wait_until(lambda: db.workers()[0]["last_heartbeat"] > dead["last_heartbeat"], 10, "the worker's heartbeat to advance")

    db.stop_worker(first, signal.SIGKILL)
    # Nothing updates the dead worker's row: its heartbeat ages by the database's clock, the job stays doing.
    [stale] = wait_until(lambda: [w for w in db.workers() if w["age"] > STALLED_AFTER], 20, "the heartbeat to go stale")
    assert stale["id"] == dead["id"]
    assert db.job(job_id)["status"] == "doing"
    assert db.job(job_id)["worker_id"] == dead["id"]

    # A new worker prunes the stale row on start: the FK (ON DELETE SET NULL) clears the job's worker_id,
    # and the job is still doing, now with no worker and no heartbeat to judge.
    db.start_worker("second", queues=["work"])
    [alive] = db.workers()
    assert alive["id"] != dead["id"] and alive["age"] < STALLED_AFTER
    orphan = db.job(job_id)
    assert (orphan["status"], orphan["worker_id"]) == ("doing", None)
    assert db.events(job_id) == ["deferred", "started"]
    # What still shows it: the started event's age, and no worker row to go with it.
    [row] = db.query(
        "SELECT j.id, e.at AS started_at FROM procrastinate_jobs j"
        " JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'started'"
        " LEFT JOIN procrastinate_workers w ON w.id = j.worker_id"
        " WHERE j.status = 'doing' AND w.id IS NULL")
    assert row["id"] == job_id


def test_a_queue_no_worker_listens_on_keeps_its_jobs_todo(procrastinate_db: Procrastinate) -> None:
    db = procrastinate_db
    db.start_worker("work-only", queues=["work"])
    taken = db.defer("noop", item=1)
    left = db.defer("noop", queue="orphans", item=2)
    db.wait_for_status(taken, "succeeded")

    assert db.job(left)["status"] == "todo"
    assert db.events(left) == ["deferred"]
    assert db.query("SELECT queue_name, count(*) AS todo FROM procrastinate_jobs WHERE status = 'todo' GROUP BY queue_name") \
        == [{"queue_name": "orphans", "todo": 1}]
    # procrastinate_workers has no queue column: which queues are served is not in the database.
    assert [c["column_name"] for c in db.query("SELECT column_name FROM information_schema.columns"
                                               " WHERE table_schema = current_schema() AND table_name = 'procrastinate_workers'"
                                               " ORDER BY ordinal_position")] == ["id", "last_heartbeat"]


def test_a_periodic_task_stops_being_deferred_when_its_worker_stops(procrastinate_db: Procrastinate) -> None:
    db = procrastinate_db
    latest = "SELECT task_name, periodic_id, defer_timestamp, job_id FROM procrastinate_periodic_defers"
    worker = db.start_worker("clock", queues=["clock"], app="clock_app")
    [first] = wait_until(lambda: db.query(latest), 20, "a tick deferred")
    wait_until(lambda: db.query(latest)[0]["defer_timestamp"] > first["defer_timestamp"], 20, "a second tick deferred")

    db.stop_worker(worker, signal.SIGTERM)
    assert db.workers() == []  # a graceful stop unregisters the worker
    # procrastinate keeps one row per periodic task: the latest tick (epoch seconds) and its job.
    [last] = db.query(latest)
    assert (last["task_name"], last["periodic_id"]) == ("tick", "")
    wait_until(lambda: db.query("SELECT EXTRACT(EPOCH FROM now()) > %s + 2.5 AS passed", (last["defer_timestamp"],))[0]["passed"],
               10, "two periods to pass by the database's clock")
    assert db.query(latest) == [last]
    # The ticks' jobs stay: one per second, the tick's epoch second in their args, the last one's id in the row.
    ticks = db.query("SELECT id, args FROM procrastinate_jobs WHERE task_name = 'tick' ORDER BY id")
    assert len(ticks) >= 2
    assert ticks[-1] == {"id": last["job_id"], "args": {"timestamp": last["defer_timestamp"]}}


def test_a_failing_task_ends_failed_with_a_failed_event(procrastinate_db: Procrastinate) -> None:
    db = procrastinate_db
    db.start_worker("work", queues=["work"])
    failed = db.wait_for_status(db.defer("explode", item=3), "failed")

    assert failed["attempts"] == 1
    assert db.events(failed["id"]) == ["deferred", "started", "failed"]
    assert db.query("SELECT task_name, count(*) FILTER (WHERE status = 'failed') AS failed, count(*) AS total"
                    " FROM procrastinate_jobs GROUP BY task_name") == [{"task_name": "explode", "failed": 1, "total": 1}]


def test_the_same_task_and_args_deferred_twice_run_twice(procrastinate_db: Procrastinate) -> None:
    db = procrastinate_db
    db.start_worker("work", queues=["work"])
    first, second = db.defer("noop", item=7), db.defer("noop", item=7)
    db.defer("noop", item=8)
    for job_id in (first, second):
        db.wait_for_status(job_id, "succeeded")

    assert db.query("SELECT task_name, args, array_agg(id ORDER BY id) AS ids FROM procrastinate_jobs"
                    " WHERE status = 'succeeded' GROUP BY task_name, args HAVING count(*) > 1") \
        == [{"task_name": "noop", "args": {"item": 7}, "ids": [first, second]}]

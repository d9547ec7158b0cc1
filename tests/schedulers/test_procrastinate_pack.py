"""The procrastinate pack on real `procrastinate worker` processes: each rule holds while the tool is
healthy and is violated, naming the job, queue or task, after the fault is produced through it."""
from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from schedulers.polling import wait_until
from tests.pack_rules import evaluate_pack, sample_values
from watchdog.results.model import Result

if TYPE_CHECKING:
    from schedulers.procrastinate_workers import Procrastinate

pytestmark = [pytest.mark.schedulers, pytest.mark.postgres]


def rule(db: Procrastinate, folder: Path, name: str, **params: Any) -> Result:
    """One rule of the pack, on the test's schema, with `params`."""
    [schema] = db.query("SELECT current_schema() AS name")
    return evaluate_pack(folder, db.dsn, "procrastinate", {"schema": schema["name"], **params})[f"procrastinate_{name}"]


def violated(db: Procrastinate, folder: Path, name: str, **params: Any) -> Result:
    return wait_until(lambda: (r := rule(db, folder, name, **params)).status == "violated" and r, 30, f"{name} to be violated")


def test_job_worker_dead_sees_a_killed_workers_job_before_and_after_its_row_is_pruned(procrastinate_db: Procrastinate, tmp_path: Path) -> None:
    db = procrastinate_db
    first = db.start_worker("first", queues=["work"])
    job_id = db.defer("block", gate=str(tmp_path / "never"))
    db.wait_for_status(job_id, "doing")
    # Running, with a live worker beating every half second, well past the bound: it holds.
    wait_until(lambda: db.query("SELECT now() - at > interval '2 seconds' AS old FROM procrastinate_events"
                                " WHERE job_id = %s AND type = 'started'", (job_id,))[0]["old"], 10, "the job to run 2 s")
    assert rule(db, tmp_path, "job_worker_dead", heartbeat_timeout="2s").status == "ok"

    db.stop_worker(first, signal.SIGKILL)
    stale = violated(db, tmp_path, "job_worker_dead", heartbeat_timeout="2s")
    assert sample_values(stale, "job_id") == [job_id] and sample_values(stale, "task_name") == ["block"]

    # A new worker prunes the dead one's row (stale past its 3 s stalled_worker_timeout); the job
    # keeps no worker, and the rule still sees it.
    wait_until(lambda: all(w["age"] > 3.5 for w in db.workers()), 20, "the dead worker to stall")
    db.start_worker("second", queues=["other"])
    assert db.job(job_id)["worker_id"] is None
    pruned = rule(db, tmp_path, "job_worker_dead", heartbeat_timeout="2s")
    assert pruned.status == "violated" and sample_values(pruned, "job_id") == [job_id]
    assert sample_values(pruned, "last_heartbeat") == [None]


def test_queue_unserved_names_the_queue_no_worker_takes(procrastinate_db: Procrastinate, tmp_path: Path) -> None:
    db = procrastinate_db
    db.start_worker("work-only", queues=["work"])
    db.wait_for_status(db.defer("noop", item=1), "succeeded")
    assert rule(db, tmp_path, "queue_unserved", queue_wait="1s").status == "ok"

    left = db.defer("noop", queue="orphans", item=2)
    result = violated(db, tmp_path, "queue_unserved", queue_wait="1s")
    assert sample_values(result, "queue_name") == ["orphans"] and sample_values(result, "waiting") == [1]
    assert db.job(left)["status"] == "todo"


def test_periodic_stopped_names_the_task_once_its_worker_stopped(procrastinate_db: Procrastinate, tmp_path: Path) -> None:
    db = procrastinate_db
    worker = db.start_worker("clock", queues=["clock"], app="clock_app")
    wait_until(lambda: db.query("SELECT 1 FROM procrastinate_periodic_defers"), 20, "a tick deferred")
    assert rule(db, tmp_path, "periodic_stopped", periodic_delay="3s").status == "ok"

    db.stop_worker(worker, signal.SIGTERM)
    result = violated(db, tmp_path, "periodic_stopped", periodic_delay="3s")
    assert sample_values(result, "task_name") == ["tick"]


def test_task_failing_names_the_task_that_raises_and_not_the_one_that_succeeds(procrastinate_db: Procrastinate, tmp_path: Path) -> None:
    db = procrastinate_db
    db.start_worker("work", queues=["work"])
    db.wait_for_status(db.defer("noop", item=1), "succeeded")
    assert rule(db, tmp_path, "task_failing").status == "ok"

    db.wait_for_status(db.defer("explode", item=3), "failed")
    result = rule(db, tmp_path, "task_failing")
    assert result.status == "violated" and result.violations == 1
    assert sample_values(result, "task_name") == ["explode"] and sample_values(result, "failed") == [1]


def test_job_run_twice_names_the_task_and_arguments_run_twice(procrastinate_db: Procrastinate, tmp_path: Path) -> None:
    db = procrastinate_db
    db.start_worker("work", queues=["work"])
    for item in (1, 2):
        db.wait_for_status(db.defer("noop", item=item), "succeeded")
    assert rule(db, tmp_path, "job_run_twice").status == "ok"

    for job_id in (db.defer("noop", item=7), db.defer("noop", item=7)):
        db.wait_for_status(job_id, "succeeded")
    result = rule(db, tmp_path, "job_run_twice")
    assert result.status == "violated"
    assert result.samples == ({"task_name": "noop", "args": {"item": 7}, "copies": 2},)

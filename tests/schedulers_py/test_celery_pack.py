"""The Celery pack on a real worker and beat (results and schedule in PostgreSQL), read as a role
holding only SELECT on the tables the pack documents. The session's database is shared with the
harness's own tests, so each rule is narrowed (an override of its `where`) to this test's tasks, or
judged by whether it names them."""
from __future__ import annotations

from pathlib import Path

import pytest

from sched_harness import CELERY_TABLES, Proc, Processes, SchedulerDb, celery_worker_args, grant_select, query, wait_until
from tests.pack_rules import as_role, evaluate_pack, sample_values
from watchdog.results.model import Result

pytestmark = [
    pytest.mark.schedulers, pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]

FINISHED = "SELECT count(*) AS n FROM django_celery_results_taskresult WHERE task_id = ANY(%s) AND status IN ('SUCCESS', 'FAILURE')"


def pack_rule(dsn: str, folder: Path, name: str, params: dict[str, str] | None = None, where: dict | None = None) -> Result:
    rules = {f"celery_{name}": {"where": where}} if where else None
    return evaluate_pack(folder, dsn, "celery", params, rules)[f"celery_{name}"]


def test_task_failing_names_the_task_whose_runs_fail(scheduler_db: SchedulerDb, celery_worker: Proc, readonly_role: str,
                                                     tmp_path: Path) -> None:
    from wdcelery.tasks import charge, heartbeat

    healthy = [heartbeat.delay().id for _ in range(2)]
    failing = [charge.delay(order, order != 0).id for order in range(4)]
    sent = healthy + failing
    wait_until(lambda: query(scheduler_db.dsn, FINISHED, [sent])[0]["n"] == len(sent), 60, "the results", [celery_worker])
    grant_select(scheduler_db.dsn, readonly_role, CELERY_TABLES)
    reader = as_role(scheduler_db.dsn, readonly_role)
    assert pack_rule(reader, tmp_path, "task_failing", where={"status": ["SUCCESS", "FAILURE"], "task_id": healthy}).status == "ok"
    result = pack_rule(reader, tmp_path, "task_failing", where={"status": ["SUCCESS", "FAILURE"], "task_id": sent})
    assert result.status == "violated" and sample_values(result, "task_name") == ["wd.charge"]


def test_task_started_too_long_names_the_task_whose_worker_was_killed(scheduler_db: SchedulerDb, celery_env: dict[str, str],
                                                                      processes: Processes, readonly_role: str, tmp_path: Path) -> None:
    from wdcelery.tasks import export

    worker = processes.start("worker doomed", celery_worker_args("doomed", "exports"), celery_env)
    task_id = export.apply_async((3,), queue="exports").id
    wait_until(lambda: query(scheduler_db.dsn, "SELECT 1 FROM django_celery_results_taskresult WHERE task_id = %s AND status = 'STARTED'",
                             [task_id]), 60, "the export to start", [worker])
    grant_select(scheduler_db.dsn, readonly_role, CELERY_TABLES)
    reader = as_role(scheduler_db.dsn, readonly_role)
    mine = {"status": "STARTED", "task_id": task_id}
    assert pack_rule(reader, tmp_path, "task_started_too_long", {"max_runtime": "5s"}, mine).status == "ok"

    worker.kill()
    result = wait_until(lambda: (r := pack_rule(reader, tmp_path, "task_started_too_long", {"max_runtime": "5s"}, mine))
                        .status == "violated" and r, 20, "the export to be STARTED too long")
    assert sample_values(result, "task_id") == [task_id] and sample_values(result, "task_name") == ["wd.export"]


def test_beat_late_names_the_periodic_task_once_beat_is_killed(scheduler_db: SchedulerDb, celery_env: dict[str, str],
                                                               celery_worker: Proc, processes: Processes, readonly_role: str,
                                                               tmp_path: Path) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="wd-pack-heartbeat", task="wd.heartbeat", interval=every)
    try:
        beat = processes.start("beat", ["-m", "celery", "-A", "wdcelery", "beat", "-l", "info",
                                        "-S", "django_celery_beat.schedulers:DatabaseScheduler"], celery_env)
        sent = "SELECT total_run_count AS n FROM django_celery_beat_periodictask WHERE name = 'wd-pack-heartbeat'"
        wait_until(lambda: query(scheduler_db.dsn, sent)[0]["n"] >= 2, 30, "beat to send twice", [beat])
        grant_select(scheduler_db.dsn, readonly_role, CELERY_TABLES)
        reader = as_role(scheduler_db.dsn, readonly_role)
        running = pack_rule(reader, tmp_path, "beat_late", {"beat_grace": "3s"})
        assert running.status != "error" and "wd-pack-heartbeat" not in sample_values(running, "name")

        beat.kill()
        late = wait_until(lambda: "wd-pack-heartbeat" in sample_values(r := pack_rule(reader, tmp_path, "beat_late", {"beat_grace": "3s"}), "name")
                          and r, 20, "wd-pack-heartbeat to be late")
        assert late.status == "violated"
        [row] = [row for row in late.samples if row["name"] == "wd-pack-heartbeat"]
        assert (row["task"], row["every"], row["period"]) == ("wd.heartbeat", 2, "seconds")
    finally:
        PeriodicTask.objects.filter(name="wd-pack-heartbeat").delete()

"""The pg_cron pack on the real pg_cron 1.4 (the session's cluster and its jobs, one per fault,
tests/schedulers/pg_cron.py): each rule holds for the healthy job, and names the job after the
fault pg_cron itself produced. Tests that need runs wait for the minute (`pg_cron_runs`, last)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schedulers import pg_cron
from schedulers.pg_cron import PgCron
from schedulers.polling import wait_until
from tests.conftest import _throwaway_cluster
from tests.pack_rules import as_role, evaluate_pack, sample_values
from watchdog.cli import main
from watchdog.results.model import Result

pytestmark = [pytest.mark.schedulers, pytest.mark.postgres]
waits_for_runs = pytest.mark.pg_cron_runs


def pack(server: PgCron, folder: Path, params: dict[str, Any] | None = None, rules: dict[str, Any] | None = None,
         user: str | None = None) -> dict[str, Result]:
    return evaluate_pack(folder, as_role(server.dsn, user=user), "pg_cron", params, rules)


def test_job_duplicated_finds_one_command_scheduled_as_star_and_as_step(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int],
                                                                        tmp_path: Path) -> None:
    only_healthy = {"pg_cron_job_duplicated": {"where": {"jobname": ["healthy", "failing"]}}}
    assert pack(pg_cron_server, tmp_path, rules=only_healthy)["pg_cron_job_duplicated"].status == "ok"
    result = pack(pg_cron_server, tmp_path)["pg_cron_job_duplicated"]
    assert result.status == "violated"
    # The two entries' schedules differ as text; in canonical form they are one.
    assert result.samples == ({"schedule": "* * * * *", "command": "SELECT 2", "database": pg_cron.CRON_DATABASE,
                               "username": "postgres", "copies": 2, "schedule_as_written": ["* * * * *", "*/1 * * * *"]},)


def test_a_reader_hidden_by_row_level_security_gets_errors_not_passes(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int],
                                                                      tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pg_cron_server.create_reader("wd_pack_reader")
    results = pack(pg_cron_server, tmp_path, {"required_jobs": ["healthy"]}, user="wd_pack_reader")
    for name in ("pg_cron_job_duplicated", "pg_cron_job_absent"):
        assert results[name].status == "error", name
        assert "population" in (results[name].error or ""), results[name].error
    # `watchdog doctor` says why, before anything is trusted.
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"version: 1\ntargets:\n  main: {{dsn: '{as_role(pg_cron_server.dsn, user='wd_pack_reader')}'}}\n"
                     "include:\n  - pack: pg_cron\nrules: []\n")
    assert main(["doctor", "-c", str(rules)]) == 2
    out = capsys.readouterr().out
    assert ("rule 'pg_cron_job_duplicated': problem: row-level security on cron.job hides every row from role 'wd_pack_reader'"
            in out)


def test_job_absent_names_the_required_jobs_missing_or_inactive(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int], tmp_path: Path) -> None:
    assert pack(pg_cron_server, tmp_path, {"required_jobs": ["healthy", "failing"]})["pg_cron_job_absent"].status == "ok"
    result = pack(pg_cron_server, tmp_path, {"required_jobs": ["healthy", "never_active", "nightly_vacuum"]})["pg_cron_job_absent"]
    assert result.status == "violated" and result.violations == 2
    assert sorted(sample_values(result, "jobname")) == ["never_active", "nightly_vacuum"]


def test_launcher_detached_once_the_launcher_is_terminated(tmp_path: Path) -> None:
    started = pg_cron.start(_throwaway_cluster)
    assert started is not None
    server, stop = started
    try:
        server.schedule([("healthy", pg_cron.EVERY_MINUTE, "SELECT 1")])
        assert pack(server, tmp_path)["pg_cron_launcher_detached"].status == "ok"
        server.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                     (pg_cron.LAUNCHER_APPLICATION_NAME,))
        wait_until(lambda: not server.launcher(), 10, "the launcher to go")
        result = pack(server, tmp_path)["pg_cron_launcher_detached"]
        assert (result.status, result.value) == ("violated", 0.0)
    finally:
        stop()


@waits_for_runs
def test_job_failing_names_the_job_whose_runs_fail(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int], tmp_path: Path) -> None:
    pg_cron_server.wait_for_runs(pg_cron_jobs["failing"], 1, ["failed"])
    pg_cron_server.wait_for_runs(pg_cron_jobs["healthy"], 1, ["succeeded"])
    result = pack(pg_cron_server, tmp_path, {"failure_window": "10m"})["pg_cron_job_failing"]
    assert result.status == "violated"
    assert sample_values(result, "jobid") == [pg_cron_jobs["failing"]] and sample_values(result, "command") == ["SELECT 1/0"]


@waits_for_runs
def test_run_overlong_names_the_run_still_going(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int], tmp_path: Path) -> None:
    pg_cron_server.wait_for_runs(pg_cron_jobs["long"], 1, ["running"])
    healthy = {"pg_cron_run_overlong": {"where": {"status": "running", "jobid": pg_cron_jobs["healthy"]}}}
    assert pack(pg_cron_server, tmp_path, {"max_runtime": "1s"}, healthy)["pg_cron_run_overlong"].status == "ok"
    result = wait_until(lambda: (r := pack(pg_cron_server, tmp_path, {"max_runtime": "1s"})["pg_cron_run_overlong"])
                        .status == "violated" and r, 10, "the long run to outlast 1s")
    assert sample_values(result, "jobid") == [pg_cron_jobs["long"]] and sample_values(result, "command") == ["SELECT pg_sleep(600)"]


@waits_for_runs
def test_job_missed_reports_jobs_that_did_not_run_active_or_not(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int], tmp_path: Path) -> None:
    [first] = pg_cron_server.wait_for_runs(pg_cron_jobs["healthy"], 1, ["succeeded"])[:1]
    # Judge the fires since the first one (the jobs did not exist before it), once its grace is over.
    grace = 10
    wait_until(lambda: pg_cron_server.query("SELECT now() > %s + make_interval(secs => %s) AS over", (first["start_time"], grace + 1))[0]["over"],
               30, "the first fire's grace to pass")
    [since] = pg_cron_server.query("SELECT ceil(extract(epoch FROM now() - date_trunc('minute', %s::timestamptz))) + 1 AS s",
                                   (first["start_time"],))
    params = {"grace": f"{grace}s", "lookback": f"{int(since['s'])}s"}
    jobs = {"table": "cron.job", "on": {"jobid": "jobid"}, "schedule_column": "schedule", "name_column": "jobname",
            "where": {"jobname": "healthy"}}
    assert pack(pg_cron_server, tmp_path, params, {"pg_cron_job_missed": {"jobs": jobs}})["pg_cron_job_missed"].status == "ok"
    result = pack(pg_cron_server, tmp_path, params, {"pg_cron_job_missed": {"samples": 100}})["pg_cron_job_missed"]
    assert result.status == "violated"
    missed = {row["name"] for row in result.samples if row["problem"] == "missed"}
    # never_active was deactivated before it ever ran: a rule on active jobs would have dropped it.
    assert "never_active" in missed and "healthy" not in missed


def test_init_with_both_packs_then_check_runs_every_rule_on_a_database_with_both(
        pg_cron_server: PgCron, pg_cron_jobs: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The README's first steps: `watchdog init --pack pg_cron --pack procrastinate > rules.yaml &&
    watchdog check`, on pg_cron's database with procrastinate's schema applied in it."""
    from schedulers.procrastinate_workers import Procrastinate

    Procrastinate(pg_cron_server.dsn, tmp_path).apply_schema()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", as_role(pg_cron_server.dsn))
    assert main(["init", "--pack", "pg_cron", "--pack", "procrastinate", "-o", "rules.yaml"]) == 0
    capsys.readouterr()
    assert main(["check", "--format", "json"]) == 1  # the session's jobs hold faults; no rule fails to run
    results = json.loads(capsys.readouterr().out)["results"]
    assert {r["rule"] for r in results if r["status"] == "error"} == set()
    assert {r["rule"] for r in results if r["status"] == "violated"} >= {"pg_cron_job_duplicated", "pg_cron_job_missed"}
    assert {r["rule"] for r in results if r["rule"].startswith("procrastinate_")} == {
        "procrastinate_job_worker_dead", "procrastinate_queue_unserved", "procrastinate_periodic_stopped",
        "procrastinate_task_failing", "procrastinate_job_run_twice"}

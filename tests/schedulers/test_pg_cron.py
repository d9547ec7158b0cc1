"""pg_cron's faults, produced through pg_cron itself in a cluster that preloads it, and shown in
cron.job and cron.job_run_details with plain SQL: what a watchdog rule over pg_cron has to read
(docs/schedulers.md).

pg_cron 1.4 (Debian 12) fires at minute boundaries only, so every job is scheduled once, together
(the session fixture `pg_cron_jobs`), and the tests that need runs are marked `pg_cron_runs`: they
run last (tests/schedulers/conftest.py), so everything else runs while the minute passes. By then a
job may have run more than once.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest

from schedulers import pg_cron
from schedulers.pg_cron import JOBS, PgCron
from schedulers.polling import wait_until
from tests.conftest import _throwaway_cluster

pytestmark = [pytest.mark.schedulers, pytest.mark.postgres]

EVERY_MINUTE = pg_cron.EVERY_MINUTE
waits_for_runs = pytest.mark.pg_cron_runs


@pytest.fixture
def fresh_pg_cron() -> Iterator[PgCron]:
    """A pg_cron cluster of the test's own, for faults that would spoil the shared one."""
    started = pg_cron.start(_throwaway_cluster)
    assert started is not None, "the session's pg_cron cluster started, but a second one did not"
    server, stop = started
    yield server
    stop()


def test_the_launcher_shows_in_pg_stat_activity_by_application_name(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int]) -> None:
    """First, and with `pg_cron_jobs`, so the jobs are scheduled before anything else runs."""
    assert [(row["backend_type"], row["datname"]) for row in pg_cron_server.launcher()] == [
        (pg_cron.LAUNCHER_BACKEND_TYPE, pg_cron.CRON_DATABASE)]
    # A role without pg_read_all_stats sees the launcher's application_name and database, not its backend_type.
    pg_cron_server.execute("CREATE ROLE wd_watcher LOGIN")
    assert [(row["backend_type"], row["datname"]) for row in pg_cron_server.launcher(user="wd_watcher")] == [(None, pg_cron.CRON_DATABASE)]


def test_pg_cron_1_4_has_no_seconds_or_last_day_schedules_and_no_timezone_setting(pg_cron_server: PgCron) -> None:
    """What the harness and the schedule rules must do without on Debian 12's pg_cron: the tests
    wait for minute boundaries, and schedules are read in GMT."""
    [version] = pg_cron_server.query("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'")
    if not version["extversion"].startswith("1.4"):
        pytest.skip(f"pg_cron {version['extversion']}, not 1.4")
    for schedule in ("5 seconds", "0 0 $ * *"):
        with pytest.raises(psycopg.errors.InvalidParameterValue, match=re.escape(f"invalid schedule: {schedule}")):
            pg_cron_server.query("SELECT cron.schedule('refused', %s, 'SELECT 1')", (schedule,))
    assert pg_cron_server.query("SELECT name FROM pg_settings WHERE name = 'cron.timezone'") == []


def test_a_terminated_launcher_stays_gone_while_jobs_still_look_scheduled(fresh_pg_cron: PgCron) -> None:
    [launcher] = fresh_pg_cron.launcher()
    fresh_pg_cron.query("SELECT pg_terminate_backend(%s)", (launcher["pid"],))
    wait_until(lambda: not fresh_pg_cron.launcher(), 10, "the launcher to exit")
    # It exits cleanly on SIGTERM, so the postmaster does not restart it as it would restart a crashed
    # background worker (within seconds): still gone after 6 s here, and after 75 s when first tried.
    with pytest.raises(AssertionError, match="timed out"):
        wait_until(fresh_pg_cron.launcher, 6, "the launcher to come back")
    # Nothing in pg_cron's tables says so: scheduling still works and the job is active.
    fresh_pg_cron.schedule([("orphaned", EVERY_MINUTE, "SELECT 1")])
    assert fresh_pg_cron.query("SELECT jobname, active FROM cron.job") == [{"jobname": "orphaned", "active": True}]


@waits_for_runs
def test_one_command_scheduled_twice_differs_in_schedule_text_and_runs_twice(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int]) -> None:
    twins = [pg_cron_jobs["twice_star"], pg_cron_jobs["twice_step"]]
    # A duplicate key of (schedule, command) misses them; the command alone finds them.
    assert pg_cron_server.query("SELECT schedule, command FROM cron.job GROUP BY schedule, command HAVING count(*) > 1") == []
    assert pg_cron_server.query("SELECT command, array_agg(jobid ORDER BY jobid) AS jobids FROM cron.job"
                                " GROUP BY command, database, username HAVING count(*) > 1") == [{"command": "SELECT 2", "jobids": twins}]
    for jobid in twins:
        pg_cron_server.wait_for_runs(jobid, 1, ["succeeded"])
    [minute] = pg_cron_server.query(
        "SELECT date_trunc('minute', min(start_time)) AS at, count(DISTINCT jobid) AS jobs FROM cron.job_run_details"
        " WHERE jobid = ANY(%s) GROUP BY date_trunc('minute', start_time) ORDER BY 1 LIMIT 1", (twins,))
    assert minute["jobs"] == 2  # both ran in the same minute


@waits_for_runs
def test_a_healthy_job_leaves_a_succeeded_run_with_both_times(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int]) -> None:
    run = pg_cron_server.wait_for_runs(pg_cron_jobs["healthy"], 1, ["succeeded"])[0]
    assert (run["command"], run["database"], run["username"], run["return_message"]) == ("SELECT 1", "postgres", "postgres", "1 row")
    assert run["job_pid"] is not None
    assert run["start_time"] <= run["end_time"]
    [offset] = pg_cron_server.query("SELECT EXTRACT(EPOCH FROM start_time - date_trunc('minute', start_time)) AS seconds"
                                    " FROM cron.job_run_details WHERE runid = %s", (run["runid"],))
    assert offset["seconds"] < 10  # started at the minute's boundary (within a loaded machine's delay)


@waits_for_runs
def test_a_failing_job_leaves_failed_runs_with_the_error(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int]) -> None:
    run = pg_cron_server.wait_for_runs(pg_cron_jobs["failing"], 1, ["failed"])[0]
    assert run["return_message"] == "ERROR:  division by zero\n"
    assert run["end_time"] is not None
    [ratio] = pg_cron_server.query("SELECT count(*) FILTER (WHERE status = 'failed') AS failed, count(*) AS total"
                                   " FROM cron.job_run_details WHERE jobid = %s AND end_time IS NOT NULL", (pg_cron_jobs["failing"],))
    assert ratio["failed"] == ratio["total"] >= 1


@waits_for_runs
def test_a_long_job_is_running_with_no_end_time_and_a_live_backend(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int]) -> None:
    [run] = pg_cron_server.wait_for_runs(pg_cron_jobs["long"], 1, ["running"])  # one at a time: later fires wait for it
    assert run["end_time"] is None
    # The run's job_pid is a live backend running the command, named 'pg_cron'.
    [backend] = pg_cron_server.query(
        "SELECT a.application_name, a.backend_type, a.query, now() - d.start_time > interval '0' AS started"
        " FROM cron.job_run_details d JOIN pg_stat_activity a ON a.pid = d.job_pid WHERE d.runid = %s", (run["runid"],))
    assert backend == {"application_name": "pg_cron", "backend_type": "client backend",
                       "query": "SELECT pg_sleep(600)", "started": True}


@waits_for_runs
def test_a_deactivated_job_keeps_its_row_and_leaves_no_runs(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int]) -> None:
    # Deactivated before it could run: the others ran at the boundary, it did not.
    pg_cron_server.wait_for_runs(pg_cron_jobs["healthy"], 1, ["succeeded"])
    assert pg_cron_server.runs(pg_cron_jobs["never_active"]) == []
    # Deactivated after a run: the row stays, with active = false, and its runs stay.
    ran = pg_cron_server.wait_for_runs(pg_cron_jobs["stopped"], 1, ["succeeded"])[0]
    pg_cron_server.deactivate(pg_cron_jobs["stopped"])
    assert pg_cron_server.query("SELECT jobname, active FROM cron.job WHERE jobid = ANY(%s) ORDER BY jobid",
                                ([pg_cron_jobs["never_active"], pg_cron_jobs["stopped"]],)) == [
        {"jobname": "never_active", "active": False}, {"jobname": "stopped", "active": False}]
    assert pg_cron_server.runs(pg_cron_jobs["stopped"])[0] == ran


@waits_for_runs
def test_a_reader_without_bypassrls_sees_no_jobs_and_no_error(pg_cron_server: PgCron, pg_cron_jobs: dict[str, int]) -> None:
    pg_cron_server.create_reader("wd_reader")
    counts = "SELECT (SELECT count(*) FROM cron.job) AS jobs, (SELECT count(*) FROM cron.job_run_details) AS runs"
    pg_cron_server.wait_for_runs(pg_cron_jobs["healthy"], 1, ["succeeded"])
    [superuser] = pg_cron_server.query(counts)
    assert superuser["jobs"] == len(JOBS) and superuser["runs"] > 0
    # The policies (username = current_user) filter every row out; the query itself succeeds.
    assert pg_cron_server.query(counts, user="wd_reader") == [{"jobs": 0, "runs": 0}]
    assert pg_cron_server.query("SELECT relname, relrowsecurity FROM pg_class WHERE relnamespace = 'cron'::regnamespace"
                                " AND relkind = 'r' ORDER BY relname", user="wd_reader") == [
        {"relname": "job", "relrowsecurity": True}, {"relname": "job_run_details", "relrowsecurity": True}]
    # With row_security = off, the same query fails instead of filtering: the way to make RLS loud.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match='query would be affected by row-level security policy for table "job"'):
        pg_cron_server.query(counts, user="wd_reader", options="-crow_security=off")
    # pg_read_all_data does not bypass RLS; BYPASSRLS (set by a superuser) lets a reader see every user's jobs.
    pg_cron_server.execute("GRANT pg_read_all_data TO wd_reader")
    assert pg_cron_server.query(counts, user="wd_reader") == [{"jobs": 0, "runs": 0}]
    pg_cron_server.execute("ALTER ROLE wd_reader BYPASSRLS")
    [bypassing] = pg_cron_server.query(counts, user="wd_reader")
    assert bypassing["jobs"] == len(JOBS) and bypassing["runs"] >= superuser["runs"]  # a minute may have passed

"""pg_cron's faults, produced through pg_cron itself in a cluster that preloads it, and shown in
cron.job and cron.job_run_details with plain SQL: what a watchdog rule over pg_cron has to read
(docs/schedulers.md).

pg_cron 1.4 (Debian 12) fires at minute boundaries only, so every job is scheduled once, together,
and the tests that need runs share the wait for the next minute: they come last, so the tests
that need none run meanwhile.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from schedulers import pg_cron
from schedulers.pg_cron import PgCron
from schedulers.polling import wait_until
from tests.conftest import _throwaway_cluster

pytestmark = [pytest.mark.schedulers, pytest.mark.postgres]

EVERY_MINUTE = "* * * * *"
JOBS = [
    ("healthy", EVERY_MINUTE, "SELECT 1"),
    ("failing", EVERY_MINUTE, "SELECT 1/0"),
    ("long", EVERY_MINUTE, "SELECT pg_sleep(600)"),
    # One command scheduled twice, spelt two ways: the duplicate entries of seed 003.
    ("twice_star", EVERY_MINUTE, "SELECT 2"),
    ("twice_step", "*/1 * * * *", "SELECT 2"),
    ("never_active", EVERY_MINUTE, "SELECT 3"),
    ("stopped", EVERY_MINUTE, "SELECT 4"),
]


@pytest.fixture(scope="module")
def jobs(pg_cron_server: PgCron) -> dict[str, int]:
    """Every job of the module, scheduled in one transaction (so all fire from the same minute on),
    `never_active` deactivated in it too; job ids by name."""
    return pg_cron_server.schedule(JOBS, inactive=["never_active"])


@pytest.fixture
def fresh_pg_cron() -> Iterator[PgCron]:
    """A pg_cron cluster of the test's own, for faults that would spoil the shared one."""
    started = pg_cron.start(_throwaway_cluster)
    assert started is not None, "the session's pg_cron cluster started, but a second one did not"
    server, stop = started
    yield server
    stop()


def test_the_launcher_shows_in_pg_stat_activity_by_application_name(pg_cron_server: PgCron, jobs: dict[str, int]) -> None:
    """First, and with `jobs`, so the jobs are scheduled and the minute starts running while the
    tests that need no run go on."""
    assert [(row["backend_type"], row["datname"]) for row in pg_cron_server.launcher()] == [
        (pg_cron.LAUNCHER_BACKEND_TYPE, pg_cron.CRON_DATABASE)]
    # A role without pg_read_all_stats sees the launcher's application_name and database, not its backend_type.
    pg_cron_server.execute("CREATE ROLE wd_watcher LOGIN")
    assert [(row["backend_type"], row["datname"]) for row in pg_cron_server.launcher("wd_watcher")] == [(None, pg_cron.CRON_DATABASE)]


def test_pg_cron_1_4_has_no_seconds_schedules_and_no_timezone_setting(pg_cron_server: PgCron) -> None:
    """What the harness and the schedule rules must do without on Debian 12's pg_cron: the tests
    wait for minute boundaries, and schedules are read in GMT."""
    [version] = pg_cron_server.query("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'")
    if not version["extversion"].startswith("1.4"):
        pytest.skip(f"pg_cron {version['extversion']}, not 1.4")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="invalid schedule: 5 seconds"):
        pg_cron_server.query("SELECT cron.schedule('seconds', '5 seconds', 'SELECT 1')")
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


def test_one_command_scheduled_twice_differs_in_schedule_text_and_runs_twice(pg_cron_server: PgCron, jobs: dict[str, int]) -> None:
    twins = [jobs["twice_star"], jobs["twice_step"]]
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


def test_a_healthy_job_leaves_a_succeeded_run_with_both_times(pg_cron_server: PgCron, jobs: dict[str, int]) -> None:
    [run] = pg_cron_server.wait_for_runs(jobs["healthy"], 1, ["succeeded"])
    assert (run["command"], run["database"], run["username"], run["return_message"]) == ("SELECT 1", "postgres", "postgres", "1 row")
    assert run["job_pid"] is not None
    assert run["start_time"] <= run["end_time"]
    [offset] = pg_cron_server.query("SELECT EXTRACT(EPOCH FROM start_time - date_trunc('minute', start_time)) AS seconds"
                                    " FROM cron.job_run_details WHERE runid = %s", (run["runid"],))
    assert offset["seconds"] < 10  # started at the minute's boundary (within a loaded machine's delay)


def test_a_failing_job_leaves_failed_runs_with_the_error(pg_cron_server: PgCron, jobs: dict[str, int]) -> None:
    [run] = pg_cron_server.wait_for_runs(jobs["failing"], 1, ["failed"])
    assert run["return_message"] == "ERROR:  division by zero\n"
    assert run["end_time"] is not None
    assert pg_cron_server.query("SELECT count(*) FILTER (WHERE status = 'failed') AS failed, count(*) AS total"
                                " FROM cron.job_run_details WHERE jobid = %s", (jobs["failing"],)) == [{"failed": 1, "total": 1}]


def test_a_long_job_is_running_with_no_end_time_and_a_live_backend(pg_cron_server: PgCron, jobs: dict[str, int]) -> None:
    [run] = pg_cron_server.wait_for_runs(jobs["long"], 1, ["running"])
    assert run["end_time"] is None
    # The run's job_pid is a live backend running the command, named 'pg_cron'.
    [backend] = pg_cron_server.query(
        "SELECT a.application_name, a.backend_type, a.query, now() - d.start_time > interval '0' AS started"
        " FROM cron.job_run_details d JOIN pg_stat_activity a ON a.pid = d.job_pid WHERE d.runid = %s", (run["runid"],))
    assert backend == {"application_name": "pg_cron", "backend_type": "client backend",
                       "query": "SELECT pg_sleep(600)", "started": True}


def test_a_deactivated_job_keeps_its_row_and_leaves_no_runs(pg_cron_server: PgCron, jobs: dict[str, int]) -> None:
    # Deactivated before it could run: the others ran at the boundary, it did not.
    pg_cron_server.wait_for_runs(jobs["healthy"], 1, ["succeeded"])
    assert pg_cron_server.runs(jobs["never_active"]) == []
    # Deactivated after a run: the row stays, with active = false, and its runs stay.
    [ran] = pg_cron_server.wait_for_runs(jobs["stopped"], 1, ["succeeded"])
    pg_cron_server.deactivate(jobs["stopped"])
    assert pg_cron_server.query("SELECT jobname, active FROM cron.job WHERE jobid = ANY(%s) ORDER BY jobid",
                                ([jobs["never_active"], jobs["stopped"]],)) == [
        {"jobname": "never_active", "active": False}, {"jobname": "stopped", "active": False}]
    assert pg_cron_server.runs(jobs["stopped"])[0] == ran


def test_a_reader_without_bypassrls_sees_no_jobs_and_no_error(pg_cron_server: PgCron, jobs: dict[str, int]) -> None:
    pg_cron_server.create_reader("wd_reader")
    counts = "SELECT (SELECT count(*) FROM cron.job) AS jobs, (SELECT count(*) FROM cron.job_run_details) AS runs"
    pg_cron_server.wait_for_runs(jobs["healthy"], 1, ["succeeded"])
    [superuser] = pg_cron_server.query(counts)
    assert superuser["jobs"] == len(JOBS) and superuser["runs"] > 0
    # The policies (username = current_user) filter every row out; the query itself succeeds.
    assert pg_cron_server.query(counts, user="wd_reader") == [{"jobs": 0, "runs": 0}]
    assert pg_cron_server.query("SELECT relname, relrowsecurity FROM pg_class WHERE relnamespace = 'cron'::regnamespace"
                                " AND relkind = 'r' ORDER BY relname", user="wd_reader") == [
        {"relname": "job", "relrowsecurity": True}, {"relname": "job_run_details", "relrowsecurity": True}]
    # BYPASSRLS (set by a superuser) is what lets a reader see every user's jobs.
    pg_cron_server.execute("ALTER ROLE wd_reader BYPASSRLS")
    assert pg_cron_server.query(counts, user="wd_reader") == [superuser]

"""The `schedule` kind against a real pg_cron: schedules read from cron.job, runs from
cron.job_run_details, a job stopped through cron.alter_job(active := false).

Runs are real (pg_cron 1.4 fires at minute boundaries); the verdict is taken at an instant computed
from those runs and given to the evaluator as its clock, so it does not depend on when the test
happens to look. The rule has no `active` filter: a deactivated job stays in the population, which is
how a job that silently stopped is caught.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from schedulers.conftest import pg_cron_cluster
from schedulers.pg_cron import NEXT_MINUTE, PgCron
from schedulers.polling import wait_until
from watchdog.evaluation.evaluator import Evaluator
from watchdog.plan import build_plan
from watchdog.results.model import Result

pytestmark = [pytest.mark.schedulers, pytest.mark.postgres]

# Jobs of this module only (the rule selects them by name, whatever else the session scheduled).
JOBS = [
    ("sk_every_minute", "* * * * *", "SELECT 11"),
    ("sk_every_minute_listed", "0-59 * * * *", "SELECT 12"),
    ("sk_daily", "0 3 * * 1-5", "SELECT 13"),   # not due in the judged minutes: holds without a run
    ("sk_stopped", "* * * * *", "SELECT 14"),   # runs, then is deactivated
]
HEALTHY_EVERY_MINUTE = ["sk_every_minute", "sk_every_minute_listed"]
READER = "wd_schedule_reader"
GRACE = timedelta(seconds=45)   # pg_cron starts a run within a second or so of its minute (10 s allowed on a loaded machine)
LOOKBACK = timedelta(minutes=2)

RULE = """
version: 1
targets: {{cron: {{dsn: '{dsn}'}}}}
rules:
  - name: pg_cron_job_missed
    check: schedule
    table: cron.job_run_details
    time_column: start_time
    finished_column: end_time
    jobs: {{table: cron.job, "on": {{jobid: jobid}}, schedule_column: schedule, name_column: jobname,
            timezone_setting: cron.timezone, where: {{jobname: [{names}]}}}}
    grace: {grace}s
    lookback: {lookback}s
    samples: 10
    {extra}
"""


@pytest.fixture(scope="module")
def cron_server() -> Iterator[PgCron]:
    """A pg_cron cluster of this module's own: its jobs and roles would change what the harness's
    tests count in the session's cluster. Its minute boundaries pass while the other tests run."""
    yield from pg_cron_cluster()


@pytest.fixture(scope="module")
def schedule_jobs(cron_server: PgCron) -> dict[str, int]:
    """This module's jobs, scheduled together as soon as its first test asks; ids by name."""
    return cron_server.schedule(JOBS)


@pytest.fixture(scope="module")
def reader(cron_server: PgCron) -> str:
    """A read-only login role with the usual grants on pg_cron's schema (USAGE, SELECT), no BYPASSRLS."""
    cron_server.create_reader(READER)
    return READER


def url(server: PgCron, user: str = "postgres", options: str | None = None) -> str:
    """The server as a postgresql:// URL for a rule file's target, as `user`."""
    parts = conninfo_to_dict(server.dsn)
    query = f"?options={options}" if options else ""
    return f"postgresql://{user}@{parts['host']}:{parts['port']}/{parts['dbname']}{query}"


def evaluate(rules: Path, now: datetime) -> Result:
    """The one rule of `rules`, evaluated once through the API with its clock at `now`."""
    plan = build_plan(rules, env={})
    evaluator = Evaluator(plan.targets, clock=lambda: now)
    try:
        [result] = evaluator.evaluate(plan.probes)
    finally:
        evaluator.close()
    return result


RuleFor = Callable[..., Path]


@pytest.fixture
def rule_for(write_rules: Callable[[str], Path]) -> RuleFor:
    """The module's rule file for a target DSN, with `extra` keys added to the rule."""
    def write(dsn: str, extra: str = "") -> Path:
        names = ", ".join(name for name, _, _ in JOBS)
        return write_rules(RULE.format(dsn=dsn, names=names, grace=int(GRACE.total_seconds()),
                                       lookback=int(LOOKBACK.total_seconds()), extra=extra))
    return write


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def test_a_reader_held_back_by_row_level_security_sees_no_jobs_and_the_rule_holds_unless_guarded(
        cron_server: PgCron, schedule_jobs: dict[str, int], reader: str, rule_for: RuleFor) -> None:
    """Runs first (it waits for no run), so the jobs are scheduled while the other tests run.

    Judged an hour before the jobs were scheduled, every every-minute job has two fires and no run:
    the superuser sees them missed. The read-only role reads 0 rows from cron.job through pg_cron's
    policies (username = current_user), so the same rule holds: 0 jobs, 0 violations, no error.
    """
    [now] = cron_server.query("SELECT date_trunc('minute', now()) - interval '1 hour' + interval '50 seconds' AS at")
    superuser = evaluate(rule_for(url(cron_server)), now["at"])
    every_minute = sorted([*HEALTHY_EVERY_MINUTE, "sk_stopped"])
    assert (superuser.status, superuser.violations) == ("violated", 2 * len(every_minute)), superuser  # two fires each
    assert sorted({s["name"] for s in superuser.samples}) == every_minute

    held_back = evaluate(rule_for(url(cron_server, reader)), now["at"])
    assert (held_back.status, held_back.violations, held_back.error) == ("ok", 0, None), held_back

    # Two ways to make it loud: row_security=off on the connection, or the rule's min_population
    # (the rows of the runs table it must see: the reader sees none of those either).
    loud = evaluate(rule_for(url(cron_server, reader, options="-crow_security%3Doff")), now["at"])
    assert loud.status == "error", loud
    assert 'query would be affected by row-level security policy for table "job"' in (loud.error or ""), loud
    guarded = evaluate(rule_for(url(cron_server, reader), extra="min_population: 1"), now["at"])
    assert guarded.status == "error", guarded
    assert "the rule sees 0 matching rows, fewer than its min_population 1" in (guarded.error or ""), guarded


@pytest.mark.pg_cron_runs
def test_the_deactivated_job_alone_is_missed_and_the_healthy_jobs_hold(
        cron_server: PgCron, schedule_jobs: dict[str, int], reader: str, rule_for: RuleFor) -> None:
    stopped = schedule_jobs["sk_stopped"]
    cron_server.wait_for_runs(stopped, 1, ["succeeded"])
    cron_server.deactivate(stopped)
    [after] = cron_server.query("SELECT clock_timestamp() AS at")
    # The first minute boundary after the deactivation: the healthy jobs run at it, the stopped one does not.
    boundary = minute_of(wait_until(lambda: _first_start_after(cron_server, schedule_jobs["sk_every_minute"], after["at"]),
                                    NEXT_MINUTE, "a run of sk_every_minute after the deactivation"))
    for name in HEALTHY_EVERY_MINUTE:
        starts = {minute_of(run["start_time"]) for run in cron_server.runs(schedule_jobs[name]) if run["start_time"]}
        assert {boundary - timedelta(minutes=1), boundary} <= starts, (name, starts)
    stopped_runs = cron_server.runs(stopped)
    assert max(minute_of(run["start_time"]) for run in stopped_runs) == boundary - timedelta(minutes=1)
    assert all(run["status"] == "succeeded" for run in stopped_runs)
    assert cron_server.query("SELECT active FROM cron.job WHERE jobid = %s", (stopped,)) == [{"active": False}]

    # Judged after the boundary's grace: the fires at boundary - 1m and boundary are in the lookback.
    now = boundary + GRACE + timedelta(seconds=5)
    result = evaluate(rule_for(url(cron_server)), now)
    assert (result.status, result.violations, result.error) == ("violated", 1, None), result
    [sample] = result.samples
    assert (sample["name"], sample["job"], sample["problem"], sample["fire_utc"], sample["schedule"]) == (
        "sk_stopped", stopped, "missed", boundary.isoformat(), "* * * * *")
    assert sample["fire_local"] == sample["fire_utc"]  # pg_cron 1.4 has no cron.timezone: UTC

    # The read-only role given BYPASSRLS (by a superuser) reaches the same verdict.
    cron_server.execute(f"ALTER ROLE {reader} BYPASSRLS")
    as_reader = evaluate(rule_for(url(cron_server, reader)), now)
    assert (as_reader.status, as_reader.violations, as_reader.samples) == (result.status, 1, result.samples), as_reader


def _first_start_after(server: PgCron, jobid: int, moment: datetime) -> datetime | None:
    [row] = server.query("SELECT min(start_time) AS at FROM cron.job_run_details WHERE jobid = %s AND start_time > %s",
                         (jobid, moment))
    return row["at"]

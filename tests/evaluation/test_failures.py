"""What an SRE tries first, on a PostgreSQL of the test's own: a restart is a reconnect, not an error
for every rule (issue 13, defect 10); a frozen server is given up on and counts as down (defect 3)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from tests.conftest import _throwaway_cluster
from watchdog.config.model import Target
from watchdog.evaluation.evaluator import Evaluator
from watchdog.evaluation.units import Unit
from watchdog.plan import build_plan

pytestmark = pytest.mark.postgres

RULES = """
version: 1
targets: {{main: {{dsn: "{dsn}", statement_timeout: 1s, pool_size: 1}}}}
rules:
  - {{name: stuck, check: stuck, table: jobs, where: {{status: pending}}, time_column: created_at, older_than: 5m,
     error_threshold: 1}}
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    started = _throwaway_cluster()
    if started is None:
        if os.environ.get("WATCHDOG_REQUIRE_POSTGRES") == "1":
            pytest.fail("these tests restart and freeze a PostgreSQL of their own: initdb/pg_ctl are needed")
        pytest.skip("no initdb/pg_ctl to start a PostgreSQL of the test's own")
    dsn, stop = started
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE jobs (id int, status text, created_at timestamptz)")
        conn.execute("INSERT INTO jobs VALUES (1, 'done', now())")
    yield dsn
    stop()


def _data_directory(dsn: str) -> Path:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return Path(conn.execute("SHOW data_directory").fetchone()[0])


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 and shutil.which("runuser") else []


def _server_pids(data: Path) -> list[int]:
    postmaster = int((data / "postmaster.pid").read_text().splitlines()[0])
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
    return [postmaster, *map(int, children)]


def _evaluator(path: Path) -> tuple[Evaluator, Unit]:
    plan = build_plan(path, env={})
    return Evaluator(plan.targets, hung_grace=1.0), Unit(plan.probes[0])


def test_a_restart_is_a_reconnect_not_an_error_for_every_rule(cluster, write_rules):
    evaluator, unit = _evaluator(write_rules(RULES.format(dsn=cluster)))
    try:
        assert evaluator.run_many([unit])[0].results[0].status == "ok"  # its connection is now pooled
        data = _data_directory(cluster)
        subprocess.run([*_as_postgres(), shutil.which("pg_ctl") or "pg_ctl", "-D", str(data), "-l", str(data.parent / "server.log"),
                        "-m", "fast", "-w", "restart"],  # -l: the server must not hold our pipes open
                       check=True, capture_output=True)
        outcome = evaluator.run_many([unit])[0]  # the pooled session died with the server: replaced, tried once more
        assert [r.status for r in outcome.results] == ["ok"] and outcome.connected is True
    finally:
        evaluator.close()


def test_a_frozen_database_is_given_up_on_and_counts_as_down(cluster, write_rules):
    evaluator, unit = _evaluator(write_rules(RULES.format(dsn=cluster)))
    data = _data_directory(cluster)
    try:
        assert evaluator.run_many([unit])[0].results[0].status == "ok"
        pids = _server_pids(data)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            outcome = evaluator.run_many([unit])[0]  # statement_timeout 1s is never enforced by a stopped server
            waited = time.monotonic() - began
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        [result] = outcome.results
        assert result.status == "error" and "no answer from the database within 2s" in (result.error or "")
        assert outcome.connected is False  # a target that does not answer is down, not a probe bug
        assert waited < 10  # given up on at the statement_timeout of what it was sent + grace, not left hanging
        assert evaluator.run_many([unit])[0].results[0].status == "ok"  # answering again: a new session, a verdict
    finally:
        evaluator.close()


def test_statements_sent_together_to_a_frozen_database_are_given_up_on_after_their_own_time(cluster, write_rules):
    """Units evaluated together share round trips: a frozen server is given up on after the
    statement_timeouts of one round trip plus the grace (here 3 x 1s + 1s), and every rule says so."""
    extra = "".join(f"  - {{name: stuck{i}, check: stuck, table: jobs, where: {{status: s{i}}}, "  # other intervals:
                    f"time_column: created_at, older_than: 5m, interval: {i + 2}m}}\n" for i in range(2))  # not one batch
    plan = build_plan(write_rules(RULES.format(dsn=cluster) + extra), env={})
    evaluator = Evaluator(plan.targets, hung_grace=1.0)
    data = _data_directory(cluster)
    try:
        assert [r.status for r in evaluator.evaluate(plan.probes)] == ["ok"] * 3
        pids = _server_pids(data)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            results = evaluator.evaluate(plan.probes)
            waited = time.monotonic() - began
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        assert {r.status for r in results} == {"error"}
        assert all("no answer from the database within 4s" in (r.error or "") for r in results)
        assert waited < 12
        assert [r.status for r in evaluator.evaluate(plan.probes)] == ["ok"] * 3
    finally:
        evaluator.close()

"""`watchdog run` as a process against real PostgreSQL, with a real HTTP receiver for its webhook:
metrics over HTTP, one page per incident and one resolve per fix, restarts, a receiver outage,
SIGTERM, --once, bad input, and no secret in any log line."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from artifacts.conftest import receiver  # noqa: F401 (the HTTP receiver fixture)
from artifacts.servers import Daemon, Receiver, eventually, free_port
from jobs_rule import JOBS_STUCK
from watchdog import __version__

pytestmark = pytest.mark.postgres

SECRET = "s3cret-signing-key"
RULES = """
version: 1
targets:
  main: {{dsn: "{dsn}"}}
{extra_targets}
defaults: {{interval: 1s}}
notify:
  webhook: {{url: "{hook}", secret: "{secret}"}}
rules:
""" + JOBS_STUCK + """    severity: critical
{extra_rules}
"""
INCIDENT = "INSERT INTO jobs (status, created_at) VALUES ('pending', now() - interval '1 hour')"
FIX = "UPDATE jobs SET status = 'done'"


def sql(dsn: str, statement: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture
def jobs(postgres_dsn: str) -> str:
    sql(postgres_dsn, "CREATE TABLE jobs (id serial PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL)")
    return postgres_dsn


class Runner:
    """Writes the rule file and starts `watchdog run` processes on it, all stopped after the test."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.rules = workdir / "rules.yaml"
        self.state = workdir / "state.db"
        self.daemons: list[Daemon] = []

    def write(self, dsn: str, hook: str, extra_targets: str = "", extra_rules: str = "") -> Path:
        self.rules.write_text(RULES.format(dsn=dsn, hook=hook, secret=SECRET, extra_targets=extra_targets, extra_rules=extra_rules))
        return self.rules

    def argv(self, *extra: str) -> list[str]:
        return [sys.executable, "-m", "watchdog", "run", "-c", str(self.rules), "--state", str(self.state), *extra]

    def start(self, *extra: str) -> Daemon:
        port = free_port()
        log = self.workdir / f"watchdog-{len(self.daemons)}.log"
        daemon = Daemon(self.argv("--listen", f"127.0.0.1:{port}", "--shutdown-timeout", "5s", *extra), port, log, ready="/-/ready")
        self.daemons.append(daemon)
        return daemon

    def once(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv("--once", "--shutdown-timeout", "5s"), capture_output=True, text=True, timeout=60)


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    made = Runner(tmp_path)
    yield made
    for daemon in made.daemons:
        daemon.stop()


def documents(receiver: Receiver, status: str | None = None) -> list[dict[str, Any]]:
    return [d for d in receiver.at("/hook") if status is None or d["status"] == status]


def terminate(daemon: Daemon) -> int:
    """SIGTERM, and the exit code, which must come within the shutdown timeout."""
    daemon.process.terminate()
    return daemon.process.wait(timeout=10)


def scrape(daemon: Daemon) -> dict[str, tuple[str, set[str]]]:
    with urllib.request.urlopen(f"{daemon.url}/metrics", timeout=5) as response:
        families = text_string_to_metric_families(response.read().decode())
        return {f.name: (f.type, {k for s in f.samples for k in s.labels} - {"le"}) for f in families}


def test_an_incident_pages_once_its_fix_resolves_once_and_sigterm_exits_zero(jobs: str, receiver: Receiver, runner: Runner) -> None:
    runner.write(jobs, f"{receiver.url}/hook")
    daemon = runner.start()
    metrics = eventually(lambda: (m := scrape(daemon)) and "watchdog_target_up" in m and m, "the first evaluation's metrics")
    assert metrics == {
        "watchdog_rule_violations": ("gauge", {"rule", "target", "check", "severity"}),
        "watchdog_rule_up": ("gauge", {"rule", "target"}),
        "watchdog_rule_value": ("gauge", {"rule", "target"}),
        "watchdog_rule_last_evaluation_timestamp_seconds": ("gauge", {"rule", "target"}),
        "watchdog_probe_duration_seconds": ("histogram", {"rule", "target"}),
        "watchdog_probe_errors": ("counter", {"rule", "target"}),
        "watchdog_evaluations_skipped": ("counter", {"rule", "target"}),
        "watchdog_target_up": ("gauge", {"target"}),
        "watchdog_notifications": ("counter", {"notifier", "result"}),
        "watchdog_build_info": ("gauge", {"version"}),
    }
    with urllib.request.urlopen(f"{daemon.url}/metrics", timeout=5) as response:
        assert f'watchdog_build_info{{version="{__version__}"}} 1.0' in response.read().decode()

    sql(jobs, INCIDENT)
    [firing] = eventually(lambda: documents(receiver, "firing"), "the firing notification", timeout=5)
    assert {k: firing[k] for k in ("rule", "target", "check", "severity", "violations", "summary")} == {
        "rule": "jobs_stuck", "target": "main", "check": "stuck", "severity": "critical", "violations": 1,
        "summary": "1 jobs pending for more than 5 minutes"}
    assert firing["samples"][0]["status"] == "pending" and firing["ends_at"] is None
    [delivery] = [d for d in receiver.deliveries if d.body == firing]
    assert delivery.headers["X-Watchdog-Signature"] == "sha256=" + hmac.new(SECRET.encode(), delivery.raw, hashlib.sha256).hexdigest()
    time.sleep(3)  # three more evaluations, still violated
    assert len(documents(receiver, "firing")) == 1

    sql(jobs, FIX)
    [resolved] = eventually(lambda: documents(receiver, "resolved"), "the resolved notification", timeout=5)
    assert (resolved["fingerprint"], resolved["starts_at"]) == (firing["fingerprint"], firing["starts_at"])
    time.sleep(2)
    assert len(documents(receiver)) == 2
    assert terminate(daemon) == 0
    assert "Traceback" not in daemon.log.read_text()


def test_a_restart_while_firing_pages_nothing_new_and_a_fix_while_down_resolves_after_the_restart(
        jobs: str, receiver: Receiver, runner: Runner) -> None:
    runner.write(jobs, f"{receiver.url}/hook")
    sql(jobs, INCIDENT)
    first = runner.start()
    eventually(lambda: documents(receiver, "firing"), "the firing notification")
    assert terminate(first) == 0

    second = runner.start()
    time.sleep(3)
    assert [d["status"] for d in documents(receiver)] == ["firing"]
    assert terminate(second) == 0

    sql(jobs, FIX)
    runner.start()
    eventually(lambda: documents(receiver, "resolved"), "the resolve after the restart")
    assert [d["status"] for d in documents(receiver)] == ["firing", "resolved"]


def test_a_receiver_that_was_down_gets_every_notification_once_it_is_back(jobs: str, runner: Runner) -> None:
    port = free_port()
    runner.write(jobs, f"http://127.0.0.1:{port}/hook")
    daemon = runner.start()
    sql(jobs, INCIDENT)
    eventually(lambda: "not delivered" in daemon.log.read_text(), "a failed delivery attempt")
    sql(jobs, FIX)
    eventually(lambda: daemon.log.read_text().count("alert jobs_stuck resolved"), "the resolve to be queued")
    time.sleep(3)
    receiver = Receiver(port)
    try:
        eventually(lambda: len(documents(receiver)) == 2, "both notifications after the outage", timeout=40)
        time.sleep(2)
        assert [d["status"] for d in documents(receiver)] == ["firing", "resolved"]
    finally:
        receiver.close()


def test_once_exits_with_the_verdict_after_delivering_and_a_second_run_sends_nothing_new(jobs: str, receiver: Receiver,
                                                                                        runner: Runner) -> None:
    runner.write(jobs, f"{receiver.url}/hook")
    assert runner.once().returncode == 0
    sql(jobs, INCIDENT)
    done = runner.once()
    assert done.returncode == 1, done.stderr
    assert "jobs_stuck" in done.stdout and "VIOLATED" in done.stdout
    assert [d["status"] for d in documents(receiver)] == ["firing"]
    assert runner.once().returncode == 1
    assert len(documents(receiver)) == 1


def test_bad_input_exits_2_with_one_clear_line_and_no_traceback(jobs: str, receiver: Receiver, runner: Runner, tmp_path: Path) -> None:
    runner.write(jobs, f"{receiver.url}/hook")
    runner.rules.write_text(runner.rules.read_text().replace("older_than: 5m", "older_then: 5m"))
    bad = subprocess.run(runner.argv("--once"), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown key 'older_then' (did you mean 'older_than'?)" in bad.stderr
    assert "Traceback" not in bad.stderr

    runner.write(jobs, f"{receiver.url}/hook")
    nowhere = tmp_path / "missing" / "state.db"
    no_state = subprocess.run([*runner.argv("--once"), "--state", str(nowhere)], capture_output=True, text=True, timeout=60)
    assert no_state.returncode == 2 and f"cannot use state file {nowhere}" in no_state.stderr
    assert "Traceback" not in no_state.stderr

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run(runner.argv("--listen", f"127.0.0.1:{port}"), capture_output=True, text=True, timeout=60)
    assert busy.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in busy.stderr
    assert "Traceback" not in busy.stderr


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_reaches_the_log(jobs: str, runner: Runner, log_format: str) -> None:
    password, token = "Pw-do-not-print-42", "T0KEN0123456789abcdef"
    runner.write(jobs, f"http://127.0.0.1:{free_port()}/services/{token}",
                 extra_targets=f'  legacy: {{dsn: "postgresql://watchdog:{password}@127.0.0.1:{free_port()}/x", connect_timeout: 1s}}',
                 extra_rules="  - {name: legacy_probe, check: sql, target: legacy, query: SELECT 1}")
    sql(jobs, INCIDENT)
    daemon = runner.start("--log-format", log_format)
    eventually(lambda: "not delivered" in daemon.log.read_text() and "legacy is down" in daemon.log.read_text(),
               "a failed delivery and a down target in the log")
    assert terminate(daemon) == 0
    log = daemon.log.read_text()
    assert password not in log and token not in log and SECRET not in log
    if log_format == "json":
        lines = [json.loads(line) for line in log.splitlines()]
        assert {"time", "level", "logger", "message"} <= set(lines[0])
        assert any(line["level"] == "error" and "legacy" in line["message"] for line in lines)


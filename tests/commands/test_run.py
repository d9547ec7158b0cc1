"""`watchdog run` as a process against real PostgreSQL, with a real HTTP receiver for its webhook:
metrics over HTTP, one page per incident and one resolve per fix, restarts, a receiver outage,
SIGTERM, --once, bad input, and no secret in any log line (issue 3's "Done when")."""
from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from run_helpers import (DOCUMENT_FIELDS, FIX, HOOK, INCIDENT, JOBS_TABLE, SECRET, Runner, after_evaluations, documents,
                         labels, scrape, series, signature_ok, sql, terminate)

from artifacts.conftest import receiver  # noqa: F401 (the HTTP receiver fixture)
from artifacts.servers import Daemon, Receiver, eventually, free_port
from watchdog import Watchdog, __version__
from watchdog.commands.run import _serve
from watchdog.errors import ExitCode
from watchdog.notify import Notification, Notifier

RULE = {"rule": "jobs_stuck", "target": "main"}
UNUSED_DSN = "postgresql://postgres@127.0.0.1:1/never_connected"


@pytest.fixture
def jobs(postgres_dsn: str) -> str:
    """A scheduler's `jobs` table in a fresh schema; the DSN to reach it."""
    sql(postgres_dsn, JOBS_TABLE)
    return postgres_dsn


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    made = Runner(tmp_path)
    yield made
    made.close()


@pytest.mark.postgres
def test_metrics_over_http_carry_every_metric_of_the_contract_with_its_labels(jobs: str, receiver: Receiver,
                                                                            runner: Runner) -> None:
    runner.write(jobs, receiver.url + HOOK)
    daemon = runner.start()
    families = eventually(lambda: (m := scrape(daemon)) and series(m["watchdog_rule_up"]) and m, "the first evaluation's metrics")
    # The parser names counter families without `_total`; their samples keep it.
    assert {name: family.type for name, family in families.items()} == {
        "watchdog_rule_violations": "gauge", "watchdog_rule_up": "gauge", "watchdog_rule_value": "gauge",
        "watchdog_rule_last_evaluation_timestamp_seconds": "gauge", "watchdog_probe_duration_seconds": "histogram",
        "watchdog_probe_errors": "counter", "watchdog_evaluations_skipped": "counter", "watchdog_rule_silenced": "gauge",
        "watchdog_target_up": "gauge",
        "watchdog_notifications": "counter", "watchdog_batch_splits": "counter", "watchdog_state_errors": "counter",
        "watchdog_build_info": "gauge", "watchdog_config_last_reload_successful": "gauge",
        "watchdog_config_last_reload_success_timestamp_seconds": "gauge",
    }
    rule = labels(**RULE)
    assert series(families["watchdog_rule_violations"]) == {labels(**RULE, check="stuck", severity="critical"): 0.0}
    assert series(families["watchdog_rule_up"]) == {rule: 1.0}
    assert series(families["watchdog_rule_silenced"]) == {rule: 0.0}
    assert series(families["watchdog_rule_value"]) == {rule: 0.0}
    [evaluated] = series(families["watchdog_rule_last_evaluation_timestamp_seconds"]).items()
    assert evaluated[0] == rule and abs(evaluated[1] - time.time()) < 60
    histogram = families["watchdog_probe_duration_seconds"]
    assert series(histogram, "_count")[rule] >= 1 and rule in series(histogram, "_sum")
    assert {frozenset((k, v) for k, v in s.labels.items() if k != "le") for s in histogram.samples} == {rule}
    assert series(families["watchdog_probe_errors"], "_total") == {rule: 0.0}
    assert series(families["watchdog_target_up"]) == {labels(target="main"): 1.0}
    assert series(families["watchdog_notifications"], "_total") == {
        labels(notifier="webhook", result=result): 0.0 for result in ("sent", "retry", "failed")}
    assert series(families["watchdog_build_info"]) == {labels(version=__version__): 1.0}
    assert series(families["watchdog_config_last_reload_successful"]) == {frozenset(): 1.0}
    assert abs(series(families["watchdog_config_last_reload_success_timestamp_seconds"])[frozenset()] - time.time()) < 60

    sql(jobs, INCIDENT)
    eventually(lambda: documents(receiver, "firing"), "the firing notification")
    after = eventually(lambda: (m := scrape(daemon)) and series(m["watchdog_notifications"], "_total")[
        labels(notifier="webhook", result="sent")] == 1 and m, "the delivery to show in the metrics")
    assert series(after["watchdog_rule_violations"]) == {labels(**RULE, check="stuck", severity="critical"): 1.0}
    assert series(after["watchdog_rule_value"]) == {rule: 1.0}


@pytest.mark.postgres
def test_an_incident_pages_once_signed_its_fix_resolves_once_and_sigterm_exits_zero(jobs: str, receiver: Receiver,
                                                                                   runner: Runner) -> None:
    runner.write(jobs, receiver.url + HOOK)
    daemon = runner.start()
    sql(jobs, INCIDENT)
    # Interval 1s: the next evaluation comes within a second, the page within two intervals of it.
    [firing] = eventually(lambda: documents(receiver, "firing"), "the firing notification", timeout=5)
    assert DOCUMENT_FIELDS <= set(firing)
    assert {k: firing[k] for k in ("rule", "target", "check", "severity", "violations", "value", "summary",
                                   "description", "runbook_url", "labels")} == {
        "rule": "jobs_stuck", "target": "main", "check": "stuck", "severity": "critical", "violations": 1, "value": 1,
        "summary": "1 jobs pending for more than 5 minutes", "description": "Jobs nobody picked up; is the worker running?",
        "runbook_url": "https://example.org/runbooks/jobs-stuck", "labels": {"team": "scheduling"}}
    assert firing["samples"][0]["status"] == "pending" and firing["samples"][0]["age_seconds"] > 3000
    assert datetime.fromisoformat(firing["starts_at"]) and firing["ends_at"] is None
    assert signature_ok(receiver, firing)
    after_evaluations(daemon, 3)  # three more evaluations, still violated: no second page
    assert len(documents(receiver)) == 1

    sql(jobs, FIX)
    [resolved] = eventually(lambda: documents(receiver, "resolved"), "the resolved notification", timeout=5)
    assert DOCUMENT_FIELDS <= set(resolved) and signature_ok(receiver, resolved)
    assert (resolved["fingerprint"], resolved["starts_at"]) == (firing["fingerprint"], firing["starts_at"])
    assert datetime.fromisoformat(resolved["ends_at"]) >= datetime.fromisoformat(resolved["starts_at"])
    after_evaluations(daemon, 2)  # holding again: no second resolve
    assert [d["status"] for d in documents(receiver)] == ["firing", "resolved"]

    assert terminate(daemon) == 0
    assert "Traceback" not in daemon.log.read_text()


@pytest.mark.postgres
def test_a_restart_while_firing_pages_nothing_new_and_a_fix_while_down_resolves_after_the_restart(
        jobs: str, receiver: Receiver, runner: Runner) -> None:
    runner.write(jobs, receiver.url + HOOK)
    sql(jobs, INCIDENT)
    first = runner.start()
    [firing] = eventually(lambda: documents(receiver, "firing"), "the firing notification")
    assert terminate(first) == 0

    second = runner.start()
    after_evaluations(second, 3)  # several evaluations of the same incident after the restart
    assert documents(receiver) == [firing]
    assert terminate(second) == 0

    sql(jobs, FIX)
    third = runner.start()
    [resolved] = eventually(lambda: documents(receiver, "resolved"), "the resolve after the restart")
    assert resolved["fingerprint"] == firing["fingerprint"]
    after_evaluations(third, 2)
    assert [d["status"] for d in documents(receiver)] == ["firing", "resolved"]


@pytest.mark.postgres
def test_sigterm_exits_within_the_shutdown_timeout_while_a_receiver_hangs_and_the_page_goes_out_after_restart(
        jobs: str, runner: Runner) -> None:
    with socket.socket() as hanging:  # the kernel accepts connections, nobody ever answers
        hanging.bind(("127.0.0.1", 0))
        hanging.listen()
        port = hanging.getsockname()[1]
        runner.write(jobs, f"http://127.0.0.1:{port}{HOOK}")
        sql(jobs, INCIDENT)
        daemon = runner.start()
        eventually(lambda: "alert jobs_stuck firing" in daemon.log.read_text(), "the page to be under way")
        assert terminate(daemon) == 0  # within --shutdown-timeout, not after the request's own 10s
    receiver = Receiver(port)
    try:
        runner.start()
        [firing] = eventually(lambda: documents(receiver), "the page not delivered before SIGTERM, after the restart")
        assert firing["status"] == "firing"
    finally:
        receiver.close()


@pytest.mark.postgres
def test_a_receiver_that_was_down_gets_every_notification_once_in_order_when_it_is_back(jobs: str, runner: Runner) -> None:
    port = free_port()  # nothing listens there until the receiver comes up
    runner.write(jobs, f"http://127.0.0.1:{port}{HOOK}")
    daemon = runner.start()
    sql(jobs, INCIDENT)
    eventually(lambda: "not delivered" in daemon.log.read_text(), "a failed delivery attempt")
    sql(jobs, FIX)
    eventually(lambda: "alert jobs_stuck resolved" in daemon.log.read_text(), "the resolve to be queued")
    # A few more failed attempts (backoff from 1s): an outage of some seconds in all.
    eventually(lambda: daemon.log.read_text().count("not delivered") >= 3, "three failed delivery attempts")
    receiver = Receiver(port)
    try:
        # Backoff with full jitter from 1s: after a few seconds down the next try may be ~16s away.
        eventually(lambda: len(documents(receiver)) == 2, "both notifications after the outage", timeout=40)
        after_evaluations(daemon, 2)  # neither is sent again
        assert [d["status"] for d in documents(receiver)] == ["firing", "resolved"]
    finally:
        receiver.close()


@pytest.mark.postgres
def test_once_exits_with_checks_codes_after_delivering_and_a_second_once_sends_nothing_new(
        jobs: str, receiver: Receiver, runner: Runner) -> None:
    runner.write(jobs, receiver.url + HOOK)
    holds = runner.run("--once")
    assert holds.returncode == 0, holds.stderr
    assert documents(receiver) == []

    sql(jobs, INCIDENT)
    violated = runner.run("--once")
    assert violated.returncode == 1, violated.stderr
    assert "jobs_stuck" in violated.stdout and "VIOLATED" in violated.stdout
    assert [d["status"] for d in documents(receiver)] == ["firing"]  # delivered before it exited

    again = runner.run("--once")
    assert again.returncode == 1, again.stderr
    assert len(documents(receiver)) == 1


def test_once_exits_3_when_a_probe_cannot_run(runner: Runner) -> None:
    runner.write(UNUSED_DSN, "http://127.0.0.1:1/hook")
    unreachable = runner.run("--once")
    assert unreachable.returncode == 3, unreachable.stderr
    assert "Traceback" not in unreachable.stderr


def test_a_bad_rule_file_exits_2_naming_the_place_without_a_traceback(runner: Runner) -> None:
    runner.write(UNUSED_DSN, "http://127.0.0.1:1/hook")
    runner.rules.write_text(runner.rules.read_text().replace("older_than: 5m", "older_then: 5m"))
    bad = runner.run("--once")
    assert bad.returncode == 2
    assert f"{runner.rules}:" in bad.stderr and "unknown key 'older_then' (did you mean 'older_than'?)" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_an_unusable_state_path_exits_2_with_one_line_naming_the_file(runner: Runner, tmp_path: Path) -> None:
    runner.write(UNUSED_DSN, "http://127.0.0.1:1/hook")
    nowhere = tmp_path / "missing" / "state.db"
    for mode in (["--once"], ["--listen", f"127.0.0.1:{free_port()}"]):
        done = runner.run(*mode, "--state", str(nowhere))
        assert done.returncode == 2
        [line] = done.stderr.splitlines()
        assert str(nowhere) in line


def test_a_listen_port_already_bound_exits_2_without_a_traceback(runner: Runner) -> None:
    runner.write(UNUSED_DSN, "http://127.0.0.1:1/hook")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = runner.run("--listen", f"127.0.0.1:{port}")
    assert busy.returncode == 2
    [line] = busy.stderr.splitlines()
    assert f"cannot listen on 127.0.0.1:{port}" in line


@pytest.mark.postgres
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_dsn_password_or_webhook_url_reaches_the_log(jobs: str, runner: Runner, log_format: str) -> None:
    password, token = "S3cretPw-do-not-print", "T0KEN0123456789abcdef"
    hook = f"http://127.0.0.1:{free_port()}/services/{token}"
    runner.write(jobs, hook,
                 extra_targets=f'  legacy: {{dsn: "postgresql://postgres:{password}@127.0.0.1:{free_port()}/x", connect_timeout: 1s}}',
                 extra_rules="  - {name: legacy_probe, check: sql, target: legacy, query: SELECT 1}")
    sql(jobs, INCIDENT)  # a page to a webhook that is down: its URL is in every failed attempt
    daemon = runner.start("--log-format", log_format)
    eventually(lambda: "not delivered" in (log := daemon.log.read_text()) and "legacy is down" in log,
               "a failed delivery and a down target in the log")
    assert terminate(daemon) == 0
    log = daemon.log.read_text()
    for secret in (password, token, hook, SECRET):
        assert secret not in log
    if log_format == "json":
        lines = [json.loads(line) for line in log.splitlines()]  # every line is one JSON object
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
        assert any(line["level"] == "error" and "legacy" in line["message"] for line in lines)


def test_a_state_file_that_cannot_be_written_at_start_exits_2_naming_it(runner: Runner) -> None:
    # The disk-full case (exit 2 before too: SQLite's shared-memory file could not grow either).
    runner.write(UNUSED_DSN, "http://127.0.0.1:1/hook")
    assert runner.run("--once").returncode == 3  # the file exists now, with its tables
    done = runner.run("--once", max_file_size=0)  # a full disk: the file cannot grow by a byte
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"watchdog: error: cannot use state file {runner.state}: disk I/O error\n"


@pytest.mark.parametrize("damage", ["not a database", "a row that is not an alert"])
def test_a_corrupt_state_file_exits_2_naming_it(runner: Runner, damage: str) -> None:
    # Fails before (the second case): a row it could not parse was an internal error, exit 3.
    runner.write(UNUSED_DSN, "http://127.0.0.1:1/hook")
    if damage == "not a database":
        runner.state.write_bytes(b"this is not an SQLite file\n" * 200)
    else:
        runner.run("--once")
        with closing(sqlite3.connect(runner.state)) as conn, conn:
            conn.execute("INSERT INTO alert_state (fingerprint, alertname, rule, target, state, since, evidence, error, sent) "
                         "VALUES ('f', 'jobs_stuck', 'jobs_stuck', 'main', 'firing', 'yesterday', NULL, NULL, '{}')")
    done = runner.run("--once")
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert str(runner.state) in line and "Traceback" not in done.stderr


def test_a_read_only_state_file_exits_2_naming_it(runner: Runner) -> None:
    # Fails before: SQLite opened it read-only without a word, and the daemon ran and paged nobody.
    runner.write(UNUSED_DSN, "http://127.0.0.1:1/hook")
    assert runner.run("--once").returncode == 3  # the state file exists, with its tables
    if os.geteuid() == 0:  # root ignores file modes: mount the directory read-only for this process alone
        workdir = shlex.quote(str(runner.workdir))
        argv = ["unshare", "--mount", "sh", "-c", f"mount --bind {workdir} {workdir} && "
                f"mount -o remount,bind,ro {workdir} && exec {shlex.join(runner.argv('--once'))}"]
        done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60)
    else:
        runner.state.chmod(0o444)
        runner.workdir.chmod(0o555)
        try:
            done = runner.run("--once")
        finally:
            runner.workdir.chmod(0o755)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"watchdog: error: cannot use state file {runner.state}: ")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_thread_ends_watchdog_run_with_exit_4(runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fails before: the process ran on idle, and SIGTERM was the only way out (exit 0).
    class Crash(BaseException):
        pass

    class Crashing(Notifier):
        name = "crashing"

        def send(self, notification: Notification) -> None:
            raise Crash()

    monkeypatch.setattr(threading, "excepthook", threading.excepthook)  # _serve replaces these; put them back after
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    db = tmp_path / "jobs.db"
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT, created_at TEXT)")
        conn.execute("INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")
    runner.write(f"sqlite:///{db}", "http://127.0.0.1:1/hook")
    watchdog = Watchdog.from_file(runner.rules, state=runner.state, listen="127.0.0.1:0", notifiers={"crashing": Crashing()})
    try:
        assert _serve(watchdog, 1.0) == ExitCode.INTERNAL == 4
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    # The overdue exit (os._exit after --shutdown-timeout) is called off: it would end a process that lives on.
    eventually(lambda: not any(isinstance(t, threading.Timer) for t in threading.enumerate()), "no overdue timer", timeout=1)


def test_a_second_watchdog_on_the_same_state_file_refuses_to_start(runner: Runner) -> None:
    # Fails before: both ran, and both paged every alert.
    runner.write(UNUSED_DSN, "http://127.0.0.1:1/hook")
    first = runner.start()
    second = runner.run("--listen", f"127.0.0.1:{free_port()}")
    assert second.returncode == 2, second.stderr
    assert second.stderr == (f"watchdog: error: state file {runner.state} is in use by another watchdog "
                             f"(pid {first.process.pid} on {socket.gethostname()}); each process needs a state file of its own\n")
    assert terminate(first) == 0
    assert runner.run("--once").returncode == 3  # free again once the first has stopped


@pytest.mark.postgres
def test_two_replicas_on_one_postgresql_state_page_once_and_the_standby_resolves_after_a_kill_9(
        jobs: str, receiver: Receiver, runner: Runner) -> None:
    # Fails before: --state took a PostgreSQL URL for a file name; two replicas paged twice.
    state = f"{jobs}&schema=wd_state"  # a schema of watchdog's own, inside the test's (dropped with it)
    runner.write(jobs, receiver.url + HOOK)
    leader = runner.start("--state", state)
    port = free_port()
    standby = Daemon(runner.argv("--listen", f"127.0.0.1:{port}", "--state", state), port,
                     runner.workdir / "standby.log", ready="/-/healthy")  # a standby evaluates nothing: never "ready"
    runner.daemons.append(standby)
    eventually(lambda: "standing by" in standby.log.read_text(), "the second replica to stand by")
    sql(jobs, INCIDENT)
    eventually(lambda: documents(receiver, "firing"), "the page, from the leader")
    leader.process.kill()  # kill -9: no shutdown, the session's advisory lock ends with the process
    leader.process.wait()
    sql(jobs, FIX)
    eventually(lambda: documents(receiver, "resolved"), "the resolve, from the replica that took over", timeout=5)
    assert "taking over" in standby.log.read_text()
    evaluated = eventually(lambda: (m := scrape(standby)) and series(m["watchdog_probe_duration_seconds"], "_count")
                           .get(labels(**RULE), 0) >= 3 and m, "three evaluations by the new leader")
    assert evaluated and [d["status"] for d in documents(receiver)] == ["firing", "resolved"]
    once = runner.run("--once", "--state", state)  # beside a replica that leads, it would page twice
    assert once.returncode == 2 and "in use by another watchdog that evaluates and sends" in once.stderr, once.stderr

"""The embedding API on real SQLite and a real HTTP receiver: check(), deliver(), start()/stop()."""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from runtime_helpers import HOURLY, HOURLY_RULES, JOBS_RULES, Monotonic, full_disk, sql
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from artifacts.servers import Receiver, eventually
from jobs_rule import JOBS_STUCK
from watchdog import Watchdog
from watchdog.notify import Notification, Notifier
from watchdog.probing.connection import Connection, connect
from watchdog.evaluation.execute import utc_now

SLOW = """
version: 1
targets:
  main: {{dsn: "sqlite:///{db}", pool_size: 2}}
rules:
  - name: slow
    check: sql
    interval: 1s
    query: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) SELECT x FROM c WHERE x < 0"
"""
# Endless, cut by its 2s statement_timeout: always slower than its 1s interval, on any machine.
SLOWER = SLOW.replace(" WHERE x < 1000000", "").replace("interval: 1s", "interval: 1s\n    statement_timeout: 2s")


def test_check_evaluates_every_rule_once_and_deliver_sends_each_change_once(make_watchdog: Callable[..., Watchdog],
                                                                           jobs_db: Path, receiver: Receiver) -> None:
    watchdog = make_watchdog(JOBS_RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"))
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")
    results = watchdog.check()
    assert [(r.rule, r.status) for r in results] == [("jobs_stuck", "violated"), ("never_runs", "error")]
    watchdog.deliver(5)
    [firing] = receiver.at("/hook")
    assert (firing["status"], firing["rule"], firing["summary"], firing["violations"]) == ("firing", "jobs_stuck", "1 jobs pending for more than 5 minutes", 1)
    assert firing["samples"][0]["status"] == "pending"

    watchdog.check()
    watchdog.deliver(5)
    assert len(receiver.at("/hook")) == 1

    sql(jobs_db, "UPDATE jobs SET status = 'done'")
    watchdog.check()
    watchdog.deliver(5)
    resolved = receiver.at("/hook")[-1]
    assert (resolved["status"], resolved["fingerprint"], resolved["starts_at"]) == ("resolved", firing["fingerprint"], firing["starts_at"])
    assert resolved["ends_at"] is not None


REPEATING = """
version: 1
targets:
  main: {{dsn: "sqlite:///{db}"}}
notify:
  webhook: {{url: "{hook}"}}
rules:
""" + JOBS_STUCK + """    repeat_interval: 1h
"""


def test_a_firing_alert_sends_nothing_more_until_its_repeat_interval(make_watchdog: Callable[..., Watchdog],
                                                                    jobs_db: Path, receiver: Receiver) -> None:
    now, mono = [datetime.now(timezone.utc)], Monotonic()  # repeats are timed on the monotonic clock
    watchdog = make_watchdog(REPEATING.format(db=jobs_db, hook=f"{receiver.url}/hook"), clock=lambda: now[0], monotonic=mono)
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")

    def evaluate_after(minutes: int) -> list[str]:
        now[0] += timedelta(minutes=minutes)
        mono.now += minutes * 60
        watchdog.check()
        watchdog.deliver(5)
        return [document["status"] for document in receiver.at("/hook")]

    assert evaluate_after(0) == ["firing"]
    for _ in range(5):  # 50 minutes of evaluations, still violated
        assert evaluate_after(10) == ["firing"]
    assert evaluate_after(10) == ["firing", "firing"]  # the hour is up: one repeat


class Tracking:
    """The real connector, whose connections record how many probes run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.runs = 0

    def __call__(self, dsn: str, connect_timeout: float, statement_timeout: float) -> Connection:
        conn = connect(dsn, connect_timeout, statement_timeout)
        tracker = self
        real_query = conn.query

        def query(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
            with tracker.lock:
                tracker.running += 1
                tracker.runs += 1
                tracker.most = max(tracker.most, tracker.running)
            try:
                return real_query(*args, **kwargs)
            finally:
                with tracker.lock:
                    tracker.running -= 1

        conn.query = query  # type: ignore[method-assign]
        return conn


def test_a_rule_slower_than_its_interval_never_runs_twice_at_once_and_its_skips_are_counted(
        make_watchdog: Callable[..., Watchdog], jobs_db: Path) -> None:
    tracking = Tracking()
    watchdog = make_watchdog(SLOWER.format(db=jobs_db), connector=tracking, notifiers={})
    watchdog.start()
    eventually(lambda: tracking.runs >= 3, "three evaluations of the slow rule", timeout=20)
    watchdog.stop(timeout=5)
    snapshot = watchdog.ledger.snapshot()
    assert tracking.most == 1
    assert snapshot.rules[0].skipped > 0


def test_stop_waits_for_the_probe_under_way_and_the_state_file_opens_again(make_watchdog: Callable[..., Watchdog],
                                                                          jobs_db: Path, tmp_path: Path) -> None:
    watchdog = make_watchdog(SLOW.format(db=jobs_db), notifiers={})
    watchdog.start()
    eventually(lambda: watchdog.results(), "a first result")
    began = time.monotonic()
    watchdog.stop(timeout=5)
    assert time.monotonic() - began < 5
    assert not watchdog.running
    again = Watchdog.from_file(tmp_path / "rules.yaml", state=tmp_path / "state.db", notifiers={})
    assert [r.status for r in again.check()] == ["ok"]
    again.close()


def test_a_watchdog_starts_once_and_refuses_work_once_closed(make_watchdog: Callable[..., Watchdog], jobs_db: Path,
                                                            receiver: Receiver) -> None:
    watchdog = make_watchdog(JOBS_RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"))
    with watchdog:
        with pytest.raises(RuntimeError, match="already running"):
            watchdog.start()
    for call in (watchdog.start, watchdog.check):
        with pytest.raises(RuntimeError, match="closed"):
            call()


def rows(state: Path, alertname: str) -> tuple[int, int]:
    """(alert rows, outbox rows) of one alert in the state file."""
    with closing(sqlite3.connect(state)) as conn:
        alerts = conn.execute("SELECT COUNT(*) FROM alert_state WHERE alertname = ?", (alertname,)).fetchone()[0]
        queued = conn.execute("SELECT COUNT(*) FROM notify_outbox WHERE notification ->> '$.alertname' = ?", (alertname,)).fetchone()[0]
    return int(alerts), int(queued)


def test_an_alert_and_its_notification_are_written_in_one_transaction(make_watchdog: Callable[..., Watchdog],
                                                                      jobs_db: Path, receiver: Receiver, tmp_path: Path) -> None:
    # Fails before: the notification was committed on the outbox's own connection, then the alert
    # row failed on the store's, so the file held a page for an alert it did not know.
    state = tmp_path / "state.db"
    watchdog = make_watchdog(JOBS_RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"), state=state)
    with closing(sqlite3.connect(state)) as conn:  # the alert row cannot be written; SQLite aborts that statement
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON alert_state BEGIN SELECT RAISE(ABORT, 'refused'); END")
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")
    watchdog.check()
    assert rows(state, "jobs_stuck") == (0, 0)
    with closing(sqlite3.connect(state)) as conn:
        conn.execute("DROP TRIGGER refuse")
    watchdog.check()
    assert rows(state, "jobs_stuck") == (1, 1)


def pages(receiver: Receiver, alertname: str, status: str = "firing") -> list[dict[str, Any]]:
    return [d for d in receiver.at("/hook") if d["alertname"] == alertname and d["status"] == status]


def _held_then_stuck(make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver, state: Path) -> Watchdog:
    """A watchdog whose rule held once (the state file is written) and whose table now has a stuck job."""
    watchdog = make_watchdog(HOURLY_RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"), state=state)
    watchdog.check()
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")
    return watchdog


def test_a_full_disk_is_loud_and_loses_no_page(make_watchdog: Callable[..., Watchdog], jobs_db: Path,
                                               receiver: Receiver, tmp_path: Path) -> None:
    # Fails before: the page was taken as queued (and lost); the state file's failure was one log line.
    state = tmp_path / "state.db"
    watchdog = _held_then_stuck(make_watchdog, jobs_db, receiver, state)
    with full_disk(state):
        watchdog.check()
        watchdog.deliver(5)
        assert len(pages(receiver, "jobs_stuck")) == 1  # delivered from memory
        [unwritable] = pages(receiver, "state_unwritable")
        assert unwritable["target"] == str(state) and "disk I/O error" in unwritable["summary"]
        assert errors(watchdog) >= 1
        watchdog.check()
        watchdog.deliver(1)
    assert len(pages(receiver, "jobs_stuck")) == 1
    assert rows(state, "jobs_stuck") == (0, 0)
    watchdog.check()  # the disk has room again: what was kept in memory is written
    watchdog.deliver(5)
    assert rows(state, "jobs_stuck") == (1, 0)
    assert len(pages(receiver, "state_unwritable", "resolved")) == 1
    assert len(pages(receiver, "jobs_stuck")) == 1


def test_a_page_queued_before_the_disk_filled_is_sent_once(make_watchdog: Callable[..., Watchdog], jobs_db: Path,
                                                           receiver: Receiver, tmp_path: Path) -> None:
    # Fails before: its delivery could not be recorded, so it was sent again every 5 s.
    state = tmp_path / "state.db"
    watchdog = make_watchdog(HOURLY_RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"), state=state)
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")
    watchdog.check()
    assert rows(state, "jobs_stuck") == (1, 1)
    with full_disk(state):
        for _ in range(3):
            watchdog.deliver(1)
        assert len(pages(receiver, "jobs_stuck")) == 1
    watchdog.check()
    assert rows(state, "jobs_stuck") == (1, 0)
    watchdog.deliver(1)
    assert len(pages(receiver, "jobs_stuck")) == 1


def errors(watchdog: Watchdog) -> float:
    [value] = [s.value for family in text_string_to_metric_families(generate_latest(watchdog.registry).decode())
               for s in family.samples if s.name == "watchdog_state_errors_total"]
    return value


def health(watchdog: Watchdog) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{watchdog.address}/-/healthy", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_healthy_fails_while_the_state_file_cannot_be_written(make_watchdog: Callable[..., Watchdog], jobs_db: Path,
                                                              receiver: Receiver, tmp_path: Path) -> None:
    # Fails before: /-/healthy answered 200 while every page was being lost.
    state = tmp_path / "state.db"
    watchdog = make_watchdog(HOURLY_RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"), state=state,
                             listen="127.0.0.1:0", tick_every=0.1)
    watchdog.start()
    eventually(lambda: watchdog.results(), "the first evaluation")
    assert health(watchdog) == (200, "healthy\n")
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")
    with full_disk(state):
        watchdog.check()
        status, body = health(watchdog)
        assert status == 503 and f"state {state}: writing alert state and notifications failed: disk I/O error" in body
        eventually(lambda: pages(receiver, "jobs_stuck"), "the page, from memory")
    eventually(lambda: health(watchdog)[0] == 200, "healthy again once the file is written (next tick)")
    assert rows(state, "jobs_stuck") == (1, 0)


def test_a_rule_left_unevaluated_pages_rule_stale_and_turns_healthy_red(make_watchdog: Callable[..., Watchdog], jobs_db: Path,
                                                                        receiver: Receiver) -> None:
    # Fails before: a rule whose probe hung was skipped at every turn, healthy 200, nobody paged.
    mono = Monotonic()
    watchdog = make_watchdog(HOURLY_RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"), listen="127.0.0.1:0",
                             tick_every=0.1, monotonic=mono)
    watchdog.start()
    eventually(lambda: watchdog.results(), "the first evaluation")
    mono.now += 2 * 3600  # two hourly intervals without an evaluation
    [stale] = eventually(lambda: pages(receiver, "rule_stale"), "the rule_stale page")
    assert (stale["rule"], stale["target"]) == ("jobs_stuck", "main")
    status, body = health(watchdog)
    assert status == 503 and "not evaluated for 2 intervals: jobs_stuck on main" in body
    watchdog.check()
    eventually(lambda: pages(receiver, "rule_stale", "resolved"), "its resolve after an evaluation")
    assert health(watchdog)[0] == 200


class Crash(BaseException):
    """What no `except Exception` catches: a thread that meets it dies."""


class Crashing(Notifier):
    name = "crashing"

    def send(self, notification: Notification) -> None:
        raise Crash()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_notifier_thread_ends_the_watchdog_loudly(make_watchdog: Callable[..., Watchdog], jobs_db: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    # Fails before: the thread died, the daemon ran on and nothing was ever delivered again.
    watchdog = make_watchdog(HOURLY_RULES.format(db=jobs_db, hook="http://127.0.0.1:1/hook"), listen="127.0.0.1:0",
                             notifiers={"crashing": Crashing()})
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")
    watchdog.start()
    assert watchdog.wait_failure(timeout=10) == "the notifier thread died"
    assert "the notifier thread died; stopping" in caplog.text
    assert health(watchdog)[0] == 503


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_scheduler_thread_ends_the_watchdog_loudly(make_watchdog: Callable[..., Watchdog], jobs_db: Path) -> None:
    broken = threading.Event()

    def clock() -> datetime:
        if broken.is_set():
            raise Crash()
        return utc_now()

    watchdog = make_watchdog(HOURLY_RULES.format(db=jobs_db, hook="http://127.0.0.1:1/hook"), notifiers={},
                             clock=clock, tick_every=0.1)
    watchdog.start()
    eventually(lambda: watchdog.results(), "the first evaluation")
    broken.set()  # the scheduler's next tick meets it
    assert watchdog.wait_failure(timeout=10) == "the scheduler thread died"


HUGE = HOURLY + """  - name: huge_rows
    check: sql
    samples: 25
    query: "SELECT id, printf('%.*c', 2000000, 'x') AS payload FROM jobs"
    summary: "{{{{ samples }}}}"
"""


def test_huge_samples_are_capped_with_a_visible_mark_in_pages_logs_and_state(
        make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    # Fails before: 25 rows of 2 MB made a 50 MB webhook body, state row and log line.
    caplog.set_level(logging.INFO, logger="watchdog")
    state = tmp_path / "state.db"
    for _ in range(24):
        sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now'))")
    watchdog = make_watchdog(HUGE.format(db=jobs_db, hook=f"{receiver.url}/hook"), state=state)
    watchdog.check()
    watchdog.deliver(5)
    [delivery] = [d for d in receiver.deliveries if d.path == "/hook"]
    assert len(delivery.raw) < 100_000
    page = delivery.body
    assert page["violations"] == 25 and len(page["samples"]) == 21
    assert page["samples"][0]["payload"].endswith("… [truncated: 2000000 characters]")
    assert page["samples"][-1] == {"truncated": "5 more rows not shown"}
    assert "truncated" in page["summary"] and len(page["summary"]) < 5000
    assert "alert huge_rows firing on main" in caplog.text
    assert max(len(r.getMessage()) for r in caplog.records) < 5000
    with closing(sqlite3.connect(state)) as conn:
        assert max(len(row[0]) for row in conn.execute("SELECT evidence FROM alert_state")) < 100_000


def test_the_state_file_is_written_when_an_alert_changes_not_at_every_evaluation(
        make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver, tmp_path: Path) -> None:
    # Fails before: a firing alert and its samples were rewritten at every evaluation.
    state = tmp_path / "state.db"
    watchdog = make_watchdog(HOURLY_RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"), state=state)
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")
    watchdog.check()
    with closing(sqlite3.connect(state)) as other:
        version = other.execute("PRAGMA data_version").fetchone()  # moves when another connection commits
        for _ in range(3):
            watchdog.check()
        assert other.execute("PRAGMA data_version").fetchone() == version
        sql(jobs_db, "UPDATE jobs SET status = 'done'")
        watchdog.check()
        assert other.execute("PRAGMA data_version").fetchone() != version


def test_stopping_with_changes_the_state_could_not_take_says_they_are_lost(
        make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    # Fails before: a daemon stopped while its state could not be written exited without a word.
    state = tmp_path / "state.db"
    watchdog = _held_then_stuck(make_watchdog, jobs_db, receiver, state)
    with full_disk(state), caplog.at_level("ERROR", logger="watchdog.run"):
        watchdog.check()
        watchdog.stop(timeout=2)
    [line] = [r.getMessage() for r in caplog.records if "they are lost" in r.getMessage()]
    assert f"state {state} could not take" in line and "disk I/O error" in line


def test_stopping_once_the_disk_has_room_again_writes_what_was_kept(
        make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    watchdog = _held_then_stuck(make_watchdog, jobs_db, receiver, state)
    with full_disk(state):
        watchdog.check()
    watchdog.stop(timeout=2)  # nothing ran in between: the last write at stop is what saves the alert
    assert rows(state, "jobs_stuck")[0] == 1

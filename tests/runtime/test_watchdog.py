"""The embedding API on real SQLite and a real HTTP receiver: check(), deliver(), start()/stop()."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import sql
from runtime_helpers import JOBS_RULES

from artifacts.servers import Receiver, eventually
from jobs_rule import JOBS_STUCK
from watchdog import Watchdog
from watchdog.probing.connection import Connection, connect

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
    now = [datetime.now(timezone.utc)]
    watchdog = make_watchdog(REPEATING.format(db=jobs_db, hook=f"{receiver.url}/hook"), clock=lambda: now[0])
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")

    def evaluate_after(minutes: int) -> list[str]:
        now[0] += timedelta(minutes=minutes)
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

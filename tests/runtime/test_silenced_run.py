"""Silences in `watchdog run`, end to end: real SQLite, a real webhook receiver, injected clocks.

The rule is still evaluated and its alert fires in the state, but nobody is paged while the
silence holds; when it ends, a still-firing alert pages once (found by the periodic tick), then
repeats on its interval; an alert that resolved inside the silence sends nothing at all.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from freezegun import freeze_time
from runtime_helpers import Monotonic, sql
from prometheus_client import generate_latest
from hourly_rules import HOURLY
from test_metrics import sample, scrape

from artifacts.servers import Receiver, eventually
from jobs_rule import JOBS_STUCK
from watchdog import Watchdog

START = datetime(2026, 12, 3, 8, tzinfo=timezone.utc)
END = datetime(2026, 12, 3, 12, tzinfo=timezone.utc)
SILENCED = HOURLY.replace("rules:\n", """silences:
  - name: migration
    match: {{rule: jobs_stuck}}
    from: 2026-12-03T08:00:00Z
    until: 2026-12-03T12:00:00Z
rules:
""") + JOBS_STUCK + """    repeat_interval: 10m
"""


class Clocks:
    """Wall clock and monotonic clock, moved together by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.mono = Monotonic()

    def wall(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        step = timedelta(**delta)
        self.now += step
        self.mono.now += step.total_seconds()


@pytest.fixture
def clocks() -> Clocks:
    return Clocks(START + timedelta(minutes=5))


def pending_for_2h(clocks: Clocks) -> str:
    """A job pending for 2 hours on the test's clock (not the machine's: the silence is on a fixed day)."""
    return f"INSERT INTO jobs (status, created_at) VALUES ('pending', '{clocks.now - timedelta(hours=2):%Y-%m-%d %H:%M:%S}')"


@pytest.fixture
def silenced(make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver, clocks: Clocks) -> Watchdog:
    sql(jobs_db, pending_for_2h(clocks))
    return make_watchdog(SILENCED.format(db=jobs_db, hook=f"{receiver.url}/hook"), clock=clocks.wall, monotonic=clocks.mono)


def statuses(watchdog: Watchdog, receiver: Receiver) -> list[str]:
    """Evaluate once (with the tick that follows), deliver, and return what the receiver got so far."""
    watchdog.check()
    watchdog.deliver(5)
    return [document["status"] for document in receiver.at("/hook")]


def silenced_gauge(watchdog: Watchdog) -> float:
    return sample(scrape(watchdog), "watchdog_rule_silenced", rule="jobs_stuck", target="main")


def test_a_silenced_incident_pages_nobody_until_the_silence_ends_then_once_then_on_its_interval(
        silenced: Watchdog, receiver: Receiver, clocks: Clocks, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="watchdog")
    assert statuses(silenced, receiver) == []
    alert = silenced._book.get("jobs_stuck", "jobs_stuck", "main")
    assert alert is not None and alert.state == "firing"  # evaluated and firing, in the state as usual
    assert [r.status for r in silenced.results()] == ["violated"]
    assert silenced_gauge(silenced) == 1.0
    assert "rule jobs_stuck on main: silenced by migration" in caplog.text
    assert "alert jobs_stuck firing on main: not paged while silenced" in caplog.text
    for _ in range(3):  # an hour and a half, past several repeat intervals: nothing
        clocks.advance(minutes=30)
        assert statuses(silenced, receiver) == []

    paged = "alert jobs_stuck firing on main: 1 jobs pending"  # the log line of a firing page, not of a repeat
    assert paged not in caplog.text
    clocks.now = END  # the silence is over: one firing page (a page of its own, logged, not a repeat)
    assert statuses(silenced, receiver) == ["firing"]
    assert caplog.text.count(paged) == 1
    assert silenced_gauge(silenced) == 0.0
    assert "rule jobs_stuck on main: silence migration ended" in caplog.text
    [page] = receiver.at("/hook")
    assert (page["rule"], page["violations"], page["starts_at"]) == ("jobs_stuck", 1, "2026-12-03T08:05:00Z")
    clocks.advance(minutes=9)
    assert statuses(silenced, receiver) == ["firing"]
    clocks.advance(minutes=1)
    assert statuses(silenced, receiver) == ["firing", "firing"]  # repeat_interval: 10m


def test_an_incident_that_resolves_inside_the_silence_sends_nothing_at_all(
        silenced: Watchdog, jobs_db: Path, receiver: Receiver, clocks: Clocks) -> None:
    assert statuses(silenced, receiver) == []
    sql(jobs_db, "UPDATE jobs SET status = 'done'")
    clocks.advance(minutes=30)
    assert statuses(silenced, receiver) == []
    assert silenced._book.alerts == []
    clocks.now = END + timedelta(minutes=1)
    assert statuses(silenced, receiver) == []


def test_the_end_of_a_silence_is_found_by_the_tick_without_an_evaluation(
        make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver, clocks: Clocks) -> None:
    sql(jobs_db, pending_for_2h(clocks))
    watchdog = make_watchdog(SILENCED.format(db=jobs_db, hook=f"{receiver.url}/hook"), clock=clocks.wall,
                             monotonic=clocks.mono, tick_every=0.05, listen="127.0.0.1:0")
    watchdog.start()  # evaluates the rule once now, then not for an hour
    eventually(lambda: watchdog.results(), "the first evaluation")
    eventually(lambda: silenced_gauge(watchdog) == 1.0, "watchdog_rule_silenced 1 on /metrics")
    assert receiver.at("/hook") == []
    clocks.now = END + timedelta(seconds=1)
    [page] = eventually(lambda: receiver.at("/hook"), "the page held back by the silence")
    assert page["status"] == "firing"
    eventually(lambda: silenced_gauge(watchdog) == 0.0, "watchdog_rule_silenced 0 on /metrics")
    assert len(watchdog.results()) == 1 and len(receiver.at("/hook")) == 1


NIGHTLY = HOURLY.replace("rules:\n", """silences:
  - name: nightly
    match: {{rule: jobs_stuck}}
    cron: "30 2 * * *"
    duration: 1h
    timezone: Europe/Berlin
rules:
""") + JOBS_STUCK + """    repeat_interval: 10m
"""


def test_a_recurring_silence_on_the_autumn_change_ends_by_the_real_clock_then_pages_once(
        make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver) -> None:
    # 25 Oct 2026 in Berlin: 02:30 comes twice (00:30 UTC in CEST, 01:30 UTC in CET). The window opens
    # at the first and lasts one real hour: at 02:31 CET the local time is "inside 02:30-03:30"
    # again, but the silence is over and the incident pages, once.
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', '2026-10-24 00:00:00')")
    with freeze_time("2026-10-25T00:40:00Z") as frozen:
        watchdog = make_watchdog(NIGHTLY.format(db=jobs_db, hook=f"{receiver.url}/hook"), monotonic=lambda: time.monotonic())
        assert statuses(watchdog, receiver) == []  # 02:40 CEST: silenced
        frozen.move_to("2026-10-25T01:20:00Z")  # 02:20 CET: still the first window's hour
        assert statuses(watchdog, receiver) == []
        frozen.move_to("2026-10-25T01:31:00Z")  # 02:31 CET: the window closed at 01:30 UTC
        assert statuses(watchdog, receiver) == ["firing"]
        frozen.move_to("2026-10-25T01:40:00Z")
        assert statuses(watchdog, receiver) == ["firing"]
        frozen.move_to("2026-10-25T01:41:00Z")  # repeat_interval 10m after the page
        assert statuses(watchdog, receiver) == ["firing", "firing"]

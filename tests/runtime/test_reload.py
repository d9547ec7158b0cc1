"""Reload without restart, on a real Watchdog over SQLite with a real webhook receiver: what an
unchanged rule keeps (alert, timers, schedule slot), what a new, changed or removed rule gets, a
refused file, notifiers that change, the token, and a reload while a probe is under way."""
from __future__ import annotations

import logging
import socket
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from runtime_helpers import Monotonic, sql
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from artifacts.servers import Receiver, bearer_post, eventually
from hourly_rules import DONE, FAILED, WITH_TOKEN
from jobs_rule import JOBS_STUCK
from watchdog import Watchdog
from watchdog.errors import ConfigError
from watchdog.evaluation.units import Unit, plan_units
from watchdog.plan import build_plan
from watchdog.probing.connection import Connection, connect
from watchdog.runtime.reload import delta
from watchdog.runtime.schedule import Scheduler

INCIDENT = "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))"
FAILURE = "INSERT INTO jobs (status, created_at) VALUES ('failed', datetime('now'))"
TOKEN = "reload-token-1"


def rules(db: Path, hook: str, *parts: str, token: str = TOKEN) -> str:
    return WITH_TOKEN.format(db=db, hook=hook, token=token) + "".join(part.format() for part in parts)


class Clocks:
    """The wall clock and the monotonic clock of one Watchdog, moved together by the test."""

    def __init__(self) -> None:
        # From the real time: the rows are written with SQLite's datetime('now'). A fixed date made
        # "pending for 2 hours" younger than 5 minutes on the wall once the real day moved past it.
        self.wall = datetime.now(timezone.utc).replace(microsecond=0)
        self.mono = Monotonic()

    def clock(self) -> datetime:
        return self.wall

    def advance(self, minutes: float) -> None:
        self.wall += timedelta(minutes=minutes)
        self.mono.now += minutes * 60


def statuses(receiver: Receiver, rule: str) -> list[str]:
    return [document["status"] for document in receiver.at("/hook") if document["alertname"] == rule]


def exported(watchdog: Watchdog) -> str:
    return generate_latest(watchdog.registry).decode()


def test_an_unchanged_rule_keeps_its_pending_timer_and_a_removed_one_resolves(
        make_watchdog: Callable[..., Watchdog], write_rules: Callable[[str], Path], jobs_db: Path, receiver: Receiver) -> None:
    clocks = Clocks()
    hook = f"{receiver.url}/hook"
    watchdog = make_watchdog(rules(jobs_db, hook, JOBS_STUCK + "    for: 10m\n", FAILED),
                             clock=clocks.clock, monotonic=clocks.mono)
    sql(jobs_db, INCIDENT)
    sql(jobs_db, FAILURE)
    watchdog.check()  # jobs_stuck pending (for 10m), jobs_failed firing
    watchdog.deliver(5)
    assert statuses(receiver, "jobs_failed") == ["firing"] and statuses(receiver, "jobs_stuck") == []

    clocks.advance(6)
    # jobs_stuck moves down the file behind a new rule and a comment: unchanged; jobs_failed is gone.
    write_rules(rules(jobs_db, hook, DONE, "  # moved\n", JOBS_STUCK + "    for: 10m\n"))
    assert watchdog.reload() == "1 added, 0 changed, 1 removed, 1 unchanged"
    watchdog.deliver(5)
    assert statuses(receiver, "jobs_failed") == ["firing", "resolved"]
    [resolved] = [d for d in receiver.at("/hook") if d["rule"] == "jobs_failed" and d["status"] == "resolved"]
    assert resolved["summary"] == "jobs_failed on main is no longer checked: the rule left the rule file"
    assert 'rule="jobs_failed"' not in exported(watchdog)

    clocks.advance(5)  # 11 minutes since it became pending: fires only if the reload kept its timer
    watchdog.check()
    watchdog.deliver(5)
    assert statuses(receiver, "jobs_stuck") == ["firing"]


def test_a_changed_rule_keeps_its_alert_and_is_judged_by_its_new_definition(
        make_watchdog: Callable[..., Watchdog], write_rules: Callable[[str], Path], jobs_db: Path, receiver: Receiver) -> None:
    hook = f"{receiver.url}/hook"
    watchdog = make_watchdog(rules(jobs_db, hook, JOBS_STUCK))
    sql(jobs_db, INCIDENT)  # pending for 2 hours
    watchdog.check()
    watchdog.deliver(5)
    assert statuses(receiver, "jobs_stuck") == ["firing"]

    write_rules(rules(jobs_db, hook, JOBS_STUCK.replace("older_than: 5m", "older_than: 3h")))
    assert watchdog.reload() == "0 added, 1 changed, 0 removed, 0 unchanged"
    watchdog.check()
    watchdog.deliver(5)
    assert statuses(receiver, "jobs_stuck") == ["firing", "resolved"]  # one alert: no second firing, then its resolve


def test_unchanged_means_equal_typed_values_not_equal_text(write_rules: Callable[[str], Path], jobs_db: Path) -> None:
    old = build_plan(write_rules(rules(jobs_db, "http://127.0.0.1:1/hook", JOBS_STUCK, FAILED)))
    units = plan_units(old.probes)

    def against(*parts: str, db: Path = jobs_db) -> Any:
        return delta(old, units, build_plan(write_rules(rules(db, "http://127.0.0.1:1/other", *parts))))

    same = against(JOBS_STUCK.replace("older_than: 5m", "older_than: 300s"), "  # a comment\n", FAILED)
    assert (same.unchanged, same.changed) == ({("jobs_stuck", "main"), ("jobs_failed", "main")}, set())
    assert all(any(unit is kept for kept in units) for unit in same.units)  # the same units: their slots stay
    assert {p.rule.name: p for p in same.plan.probes}["jobs_stuck"] is old.probes[0]

    summary = against(JOBS_STUCK.replace("older_than: 5m", "older_than: 6m"), FAILED)
    assert summary.changed == {("jobs_stuck", "main")} and summary.unchanged == {("jobs_failed", "main")}
    moved = against(JOBS_STUCK, FAILED, db=jobs_db.with_name("elsewhere.db"))  # the target's DSN: every rule on it
    assert moved.changed == {("jobs_stuck", "main"), ("jobs_failed", "main")}
    assert not any(unit is kept for unit in moved.units for kept in units)


def test_a_file_that_does_not_load_is_refused_and_the_rules_run_on(
        make_watchdog: Callable[..., Watchdog], write_rules: Callable[[str], Path], jobs_db: Path, receiver: Receiver,
        caplog: pytest.LogCaptureFixture) -> None:
    hook = f"{receiver.url}/hook"
    clocks = Clocks()
    watchdog = make_watchdog(rules(jobs_db, hook, JOBS_STUCK, FAILED), clock=clocks.clock)
    sql(jobs_db, FAILURE)
    watchdog.check()
    clocks.advance(1)
    write_rules(rules(jobs_db, hook, JOBS_STUCK, FAILED.replace("check: count", "check: countt")))
    with caplog.at_level(logging.ERROR, logger="watchdog"), pytest.raises(ConfigError):
        watchdog.reload()
    assert "reload of " in caplog.text and "rules.yaml:17:12: rule 'jobs_failed': unknown check 'countt'" in caplog.text
    started = (clocks.wall - timedelta(minutes=1)).timestamp()
    assert reload_gauges(watchdog) == (0.0, started)
    assert [(r.rule, r.status) for r in watchdog.check()] == [("jobs_stuck", "ok"), ("jobs_failed", "violated")]

    write_rules(rules(jobs_db, hook, JOBS_STUCK, FAILED))
    watchdog.reload()
    assert reload_gauges(watchdog) == (1.0, clocks.wall.timestamp())


def reload_gauges(watchdog: Watchdog) -> tuple[float, float]:
    values = {s.name: s.value for family in text_string_to_metric_families(exported(watchdog)) for s in family.samples}
    return (values["watchdog_config_last_reload_successful"],
            values["watchdog_config_last_reload_success_timestamp_seconds"])


class Blocking:
    """The real connector, whose queries wait for `release` once `hold` is set: a probe under way
    for as long as the test wants, without sleeping."""

    def __init__(self) -> None:
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(self, dsn: str, connect_timeout: float, statement_timeout: float) -> Connection:
        conn = connect(dsn, connect_timeout, statement_timeout)
        real_query = conn.query

        def query(*args: Any, **kwargs: Any) -> Any:
            if self.hold.is_set():
                self.holding.set()
                self.release.wait(10)
            return real_query(*args, **kwargs)

        conn.query = query  # type: ignore[method-assign]
        return conn


def test_a_reload_during_a_probe_neither_waits_for_it_nor_keeps_the_result_of_a_removed_rule(
        make_watchdog: Callable[..., Watchdog], write_rules: Callable[[str], Path], jobs_db: Path, receiver: Receiver) -> None:
    hook = f"{receiver.url}/hook"
    blocking = Blocking()
    watchdog = make_watchdog(rules(jobs_db, hook, FAILED), connector=blocking)
    sql(jobs_db, FAILURE)
    blocking.hold.set()
    watchdog.start()
    assert blocking.holding.wait(10)  # jobs_failed's first evaluation is under way, and violated
    write_rules(rules(jobs_db, hook, JOBS_STUCK))
    blocking.hold.clear()
    done = threading.Thread(target=watchdog.reload)
    done.start()
    done.join(10)
    assert not done.is_alive()  # no deadlock with the probe under way
    eventually(lambda: [r.rule for r in watchdog.results()] == ["jobs_stuck"], "the new rule's evaluation")
    blocking.release.set()
    watchdog.stop(timeout=5)  # waits for the removed rule's probe, whose result then arrives
    assert [r.rule for r in watchdog.results()] == ["jobs_stuck"]
    assert 'rule="jobs_failed"' not in exported(watchdog)
    assert statuses(receiver, "jobs_failed") == []  # its late violated result paged nobody


def test_the_result_of_a_kept_rule_under_way_during_a_reload_counts(
        make_watchdog: Callable[..., Watchdog], write_rules: Callable[[str], Path], jobs_db: Path, receiver: Receiver) -> None:
    hook = f"{receiver.url}/hook"
    blocking = Blocking()
    watchdog = make_watchdog(rules(jobs_db, hook, FAILED + "    interval: 2h\n"), connector=blocking)
    sql(jobs_db, FAILURE)
    blocking.hold.set()
    watchdog.start()
    assert blocking.holding.wait(10)  # jobs_failed's first evaluation is under way, and violated
    write_rules(rules(jobs_db, hook, FAILED + "    interval: 2h\n", DONE))
    blocking.hold.clear()
    assert watchdog.reload() == "1 added, 0 changed, 0 removed, 1 unchanged"
    blocking.release.set()
    eventually(lambda: statuses(receiver, "jobs_failed") == ["firing"], "the kept rule's page")
    assert sorted(r.rule for r in watchdog.results()) == ["jobs_done", "jobs_failed"]


def post(watchdog: Watchdog, token: str | None) -> tuple[int, str]:
    return bearer_post(f"http://{watchdog.address}/-/reload", token)


def test_post_reload_needs_the_token_of_the_file_in_force(
        make_watchdog: Callable[..., Watchdog], write_rules: Callable[[str], Path], jobs_db: Path, receiver: Receiver) -> None:
    hook = f"{receiver.url}/hook"
    watchdog = make_watchdog(rules(jobs_db, hook, JOBS_STUCK), listen="127.0.0.1:0")
    watchdog.start()
    assert post(watchdog, None)[0] == 401
    assert post(watchdog, "wrong")[0] == 401
    write_rules(rules(jobs_db, hook, JOBS_STUCK, FAILED, token="reload-token-2"))
    assert post(watchdog, TOKEN) == (200, "reloaded: 1 added, 0 changed, 0 removed, 1 unchanged\n")
    assert post(watchdog, TOKEN)[0] == 401  # the token changed with the file
    write_rules(rules(jobs_db, hook, JOBS_STUCK, "  - {{name: broken}}\n", token="reload-token-2"))
    status, body = post(watchdog, "reload-token-2")
    assert status == 400 and body.startswith("reload refused, the rules loaded before run on:\n")
    assert "rules.yaml:16:5: rule 'broken': missing required key 'check'" in body
    write_rules(rules(jobs_db, hook, JOBS_STUCK).replace('api: {token: "reload-token-1"}\n', ""))
    assert post(watchdog, "reload-token-2")[0] == 200
    assert post(watchdog, "reload-token-2")[0] == 403  # no token in the file any more: the write API is off


def test_notifiers_follow_the_file_and_the_outbox_of_a_removed_one_waits(
        make_watchdog: Callable[..., Watchdog], write_rules: Callable[[str], Path], jobs_db: Path, receiver: Receiver,
        caplog: pytest.LogCaptureFixture) -> None:
    watchdog = make_watchdog(rules(jobs_db, "http://127.0.0.1:1/hook", FAILED), tick_every=0.1)
    sql(jobs_db, FAILURE)
    watchdog.start()  # the page cannot go out: port 1 refuses
    eventually(lambda: pending(watchdog), "the page waiting in the outbox")
    without = rules(jobs_db, "unused", FAILED).replace('notify:\n  webhook: {url: "unused"}\n', "")
    write_rules(without)
    with caplog.at_level(logging.WARNING, logger="watchdog"):
        watchdog.reload()
    assert "the outbox holds 1 notification(s) for 'webhook', which is not configured: they wait there" in caplog.text
    assert pending(watchdog) == 1
    write_rules(rules(jobs_db, f"{receiver.url}/hook", FAILED))
    watchdog.reload()
    [page] = eventually(lambda: receiver.at("/hook"), "the waiting page, through the webhook as now configured")
    assert (page["status"], page["rule"]) == ("firing", "jobs_failed")


def pending(watchdog: Watchdog) -> int:
    with sqlite3.connect(watchdog._state) as conn:  # noqa: SLF001 - the state file this test gave it
        return int(conn.execute("SELECT count(*) FROM notify_outbox WHERE state = 'pending'").fetchone()[0])


def test_the_scheduler_keeps_the_next_due_time_of_units_it_is_handed_again(
        write_rules: Callable[[str], Path], jobs_db: Path) -> None:
    alone = "".join(f"  - {{{{name: r{i}, check: sql, query: 'SELECT 1 WHERE 0'}}}}\n" for i in range(3))
    plan = build_plan(write_rules(rules(jobs_db, "http://127.0.0.1:1/hook", alone)))
    first, second, third = plan_units(plan.probes)
    submitted: list[Unit] = []
    mono = Monotonic()  # never moves: a unit runs again only if update() makes it due
    scheduler = Scheduler([first], submitted.extend, lambda: None, tick_every=3600, monotonic=mono)
    scheduler.start()
    try:
        eventually(lambda: submitted == [first], "the first unit, at start")
        scheduler.update([first, second])
        eventually(lambda: len(submitted) >= 2, "the new unit")
        scheduler.update([second, third])  # the first is dropped
        eventually(lambda: len(submitted) >= 3, "the third unit")
        assert submitted == [first, second, third]
    finally:
        scheduler.stop()


def test_a_refused_file_never_shows_the_values_of_its_variables(
        make_watchdog: Callable[..., Watchdog], write_rules: Callable[[str], Path], jobs_db: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    secret = "hunter2-not-a-severity"
    watchdog = make_watchdog(rules(jobs_db, "http://127.0.0.1:1/hook", JOBS_STUCK), env={"SEVERITY": secret})
    write_rules(rules(jobs_db, "http://127.0.0.1:1/hook", JOBS_STUCK + '    severity: "${{SEVERITY}}"\n'))
    with caplog.at_level(logging.ERROR, logger="watchdog"), pytest.raises(ConfigError) as refused:
        watchdog.reload()
    assert "rule 'jobs_stuck': '***' is not one of info, warning, critical" in str(refused.value)
    assert "'***' is not one of" in caplog.text and secret not in caplog.text + str(refused.value)


def test_post_reload_refuses_a_flood_before_reading_it(make_watchdog: Callable[..., Watchdog], jobs_db: Path) -> None:
    watchdog = make_watchdog(rules(jobs_db, "http://127.0.0.1:1/hook", JOBS_STUCK), listen="127.0.0.1:0", notifiers={})
    watchdog.start()
    host, port = watchdog.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n")
        assert conn.recv(200).startswith(b"HTTP/1.1 413 ")

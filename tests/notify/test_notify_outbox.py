"""The outbox and its dispatcher, against real HTTP servers: retries, give-ups, restarts, isolation."""
from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from notify_helpers import FakeClock, Reply, Server, free_port, notification

from watchdog.notify.base import Notifier
from watchdog.notify.backoff import Backoff
from watchdog.notify.message import Notification
from watchdog.notify.outbox import Dispatcher, Outbox
from watchdog.notify.webhook import WebhookNotifier
from watchdog.statefile import StateFile

SECRET_PATH = "/hooks/XXXXXXXXsecretTOKEN"


class Results:
    """on_result as the metric sees it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, notifier: str, result: str) -> None:
        with self.lock:
            self.seen.append((notifier, result))

    def of(self, notifier: str = "webhook") -> list[str]:
        return [result for name, result in self.seen if name == notifier]


@pytest.fixture
def results() -> Results:
    return Results()


def webhook(url: str, timeout: float = 2.0) -> WebhookNotifier:
    return WebhookNotifier(url + SECRET_PATH, timeout=timeout)


def summaries(server: Server) -> list[str]:
    return [request.json()["summary"] for request in server.requests]


def numbered(i: int) -> Notification:
    return notification(summary=f"alert {i}")


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def dispatcher(outbox: Outbox, notifiers: dict[str, Notifier], results: Results, clock: FakeClock, **kwargs: object) -> Dispatcher:
    return Dispatcher(outbox, notifiers, on_result=results, clock=clock, sleep=clock.sleep, monotonic=clock, rng=random.Random(1), **kwargs)  # type: ignore[arg-type]


def test_retries_a_500_then_delivers(tmp_path: Path, server: Server, clock: FakeClock, results: Results) -> None:
    server.reply(Reply(500), Reply(503))
    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    outbox.enqueue("webhook", numbered(1))
    dispatcher(outbox, {"webhook": webhook(server.url)}, results, clock).flush(60)
    assert summaries(server) == ["alert 1"] * 3
    assert results.of() == ["retry", "retry", "sent"]
    assert outbox.entries() == []
    assert 0 < sum(clock.slept) <= 1 + 2


def test_429_waits_for_retry_after(tmp_path: Path, server: Server, clock: FakeClock, results: Results) -> None:
    server.reply(Reply(429, "rate_limited", {"Retry-After": "30"}))
    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    outbox.enqueue("webhook", numbered(1))
    dispatcher(outbox, {"webhook": webhook(server.url)}, results, clock).flush(60)
    assert results.of() == ["retry", "sent"]
    assert sum(clock.slept) == 30.0


def test_a_timeout_is_retried(tmp_path: Path, server: Server, clock: FakeClock, results: Results) -> None:
    server.reply(Reply(200, delay=0.5))
    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    outbox.enqueue("webhook", numbered(1))
    dispatcher(outbox, {"webhook": webhook(server.url, timeout=0.1)}, results, clock).flush(60)
    assert results.of() == ["retry", "sent"]
    assert len(server.requests) == 2


def test_a_permanent_error_is_not_retried_and_is_kept_as_failed(
        tmp_path: Path, server: Server, clock: FakeClock, results: Results, caplog: pytest.LogCaptureFixture) -> None:
    server.reply(Reply(400, f"no such hook {server.url}{SECRET_PATH}"))
    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    outbox.enqueue("webhook", numbered(1))
    outbox.enqueue("webhook", numbered(2))
    dispatcher(outbox, {"webhook": webhook(server.url)}, results, clock).flush(60)
    assert summaries(server) == ["alert 1", "alert 2"]
    assert results.of() == ["failed", "sent"]
    [dead] = outbox.entries("failed")
    assert (Notification.from_json(dead.notification).summary, dead.attempts) == ("alert 1", 1)
    assert dead.last_error == "HTTP 400: no such hook ***"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "\n" not in errors[0].getMessage()
    assert "secretTOKEN" not in caplog.text and server.url not in caplog.text


def test_queues_are_in_order_a_retried_entry_is_not_overtaken(
        tmp_path: Path, server: Server, clock: FakeClock, results: Results) -> None:
    server.reply(Reply(500), Reply(500))
    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    for i in range(3):
        outbox.enqueue("webhook", numbered(i))
    dispatcher(outbox, {"webhook": webhook(server.url)}, results, clock).flush(60)
    assert summaries(server) == ["alert 0", "alert 0", "alert 0", "alert 1", "alert 2"]


def test_outage_then_restart_delivers_what_was_queued_once(
        tmp_path: Path, make_server: Callable[..., Server], clock: FakeClock, results: Results) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = StateFile(tmp_path / "state.db")
    first = Outbox(db, clock=clock)
    for i in range(3):
        first.enqueue("webhook", numbered(i))
    dispatcher(first, {"webhook": webhook(url)}, results, clock).flush(30)
    assert results.of() and set(results.of()) == {"retry"}
    assert [e.attempts > 0 for e in first.entries("pending")] == [True, False, False]
    db.close()

    server = make_server(port)  # the receiver is back; watchdog restarts on the same state file
    clock.sleep(600)
    second = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    dispatcher(second, {"webhook": webhook(url)}, results, clock).flush(30)
    assert summaries(server) == ["alert 0", "alert 1", "alert 2"]
    assert second.entries() == []


def test_gives_up_on_a_retryable_error_after_give_up_after(
        tmp_path: Path, server: Server, clock: FakeClock, results: Results) -> None:
    server.default = Reply(503)
    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    outbox.enqueue("webhook", numbered(1))
    dispatcher(outbox, {"webhook": webhook(server.url)}, results, clock, give_up_after=600.0).flush(3600)
    assert results.of()[-1] == "failed" and set(results.of()[:-1]) == {"retry"}
    [dead] = outbox.entries("failed")
    assert dead.last_error.startswith(f"gave up after {dead.attempts} attempts: HTTP 503")  # type: ignore[union-attr]


def test_backoff_grows_and_is_capped(tmp_path: Path, server: Server, clock: FakeClock, results: Results) -> None:
    server.reply(*[Reply(500)] * 8)
    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    outbox.enqueue("webhook", numbered(1))
    dispatcher(outbox, {"webhook": webhook(server.url)}, results, clock, backoff=Backoff(base=1.0, cap=5.0)).flush(600)
    assert results.of() == ["retry"] * 8 + ["sent"]
    assert all(0 <= pause <= min(5.0, 2.0 ** i) for i, pause in enumerate(clock.slept))


def test_running_dispatcher_delivers_each_entry_exactly_once(tmp_path: Path, server: Server, results: Results) -> None:
    outbox = Outbox(StateFile(tmp_path / "state.db"))
    running = Dispatcher(outbox, {"webhook": webhook(server.url)}, on_result=results)
    running.start()

    def produce(offset: int) -> None:
        for i in range(offset, offset + 25):
            outbox.enqueue("webhook", numbered(i))

    producers = [threading.Thread(target=produce, args=(n * 25,)) for n in range(2)]
    for thread in producers:
        thread.start()
    for thread in producers:
        thread.join()
    wait_until(lambda: len(results.of()) == 50)
    running.stop(flush_deadline=1.0)
    assert Counter(summaries(server)) == Counter(f"alert {i}" for i in range(50))
    assert results.of() == ["sent"] * 50
    assert outbox.entries() == []


def test_a_slow_notifier_does_not_delay_another(
        tmp_path: Path, make_server: Callable[..., Server], results: Results) -> None:
    slow, fast = make_server(), make_server()
    slow.default = Reply(200, delay=1.5)
    outbox = Outbox(StateFile(tmp_path / "state.db"))
    running = Dispatcher(outbox, {"slow": webhook(slow.url), "fast": webhook(fast.url)}, on_result=results)
    running.start()
    started = time.monotonic()
    outbox.enqueue("slow", numbered(1))
    outbox.enqueue("fast", numbered(2))
    outbox.enqueue("fast", numbered(3))
    wait_until(lambda: len(results.of("fast")) == 2)
    assert time.monotonic() - started < 1.0
    assert results.of("slow") == []
    running.stop(flush_deadline=5.0)
    assert results.of("slow") == ["sent"]


def test_stop_flushes_what_is_queued(tmp_path: Path, server: Server, results: Results) -> None:
    outbox = Outbox(StateFile(tmp_path / "state.db"))
    running = Dispatcher(outbox, {"webhook": webhook(server.url)}, on_result=results)
    running.start()
    server.default = Reply(200, delay=0.05)
    for i in range(5):
        outbox.enqueue("webhook", numbered(i))
    running.stop(flush_deadline=5.0)
    assert summaries(server) == [f"alert {i}" for i in range(5)]


def test_stop_returns_by_its_deadline_while_a_request_hangs_and_keeps_it_queued(tmp_path: Path, server: Server,
                                                                                results: Results) -> None:
    outbox = Outbox(StateFile(tmp_path / "state.db"))
    running = Dispatcher(outbox, {"webhook": webhook(server.url, timeout=30.0)}, on_result=results)
    server.default = Reply(200, delay=20.0)
    running.start()
    outbox.enqueue("webhook", numbered(1))
    wait_until(lambda: len(server.requests) == 1)
    began = time.monotonic()
    running.stop(flush_deadline=0.5)
    assert time.monotonic() - began < 0.5 + 1.0 + 0.5  # the deadline, the join grace, scheduling slack
    assert [e.state for e in outbox.entries()] == ["pending"]


def test_flush_stops_at_the_deadline_and_keeps_the_rest(tmp_path: Path, clock: FakeClock, results: Results) -> None:
    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    outbox.enqueue("webhook", numbered(1))
    dispatcher(outbox, {"webhook": webhook(f"http://127.0.0.1:{free_port()}")}, results, clock).flush(10)
    assert sum(clock.slept) <= 10
    assert len(outbox.entries("pending")) == 1


def test_a_notifier_bug_is_a_failure_not_a_dead_worker_and_its_traceback_is_logged(
        tmp_path: Path, clock: FakeClock, results: Results, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Notifier):
        name = "broken"

        def send(self, notification: Notification) -> None:
            raise KeyError("oops")

    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    outbox.enqueue("broken", numbered(1))
    outbox.enqueue("broken", numbered(2))
    dispatcher(outbox, {"broken": Broken()}, results, clock).flush(10)
    assert results.of("broken") == ["failed", "failed"]  # the worker lived on to the second entry
    assert [e.last_error for e in outbox.entries("failed")] == ["unexpected error (KeyError)"] * 2
    logged = [r.exc_info[1] for r in caplog.records if r.exc_info and r.exc_info[1] is not None]
    assert [type(exc) for exc in logged] == [KeyError, KeyError]
    assert "Traceback (most recent call last)" in caplog.text and 'raise KeyError("oops")' in caplog.text


def test_a_failing_on_result_hook_does_not_stop_delivery(tmp_path: Path, server: Server, clock: FakeClock) -> None:
    def hook(notifier: str, result: str) -> None:
        raise RuntimeError("metrics down")

    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    outbox.enqueue("webhook", numbered(1))
    outbox.enqueue("webhook", numbered(2))
    Dispatcher(outbox, {"webhook": webhook(server.url)}, on_result=hook, clock=clock, sleep=clock.sleep, monotonic=clock).flush(10)
    assert summaries(server) == ["alert 1", "alert 2"]


def test_entries_for_an_unconfigured_notifier_wait_and_are_reported(
        tmp_path: Path, server: Server, results: Results, caplog: pytest.LogCaptureFixture) -> None:
    outbox = Outbox(StateFile(tmp_path / "state.db"))
    outbox.enqueue("slack", numbered(1))
    running = Dispatcher(outbox, {"webhook": webhook(server.url)}, on_result=results)
    running.start()
    running.stop()
    assert "the outbox holds 1 notification(s) for 'slack', which is not configured" in caplog.text
    assert outbox.counts() == {("slack", "pending"): 1}


def test_only_its_own_table_in_a_shared_wal_file(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE alert_state (fingerprint TEXT PRIMARY KEY, status TEXT)")
        other.execute("INSERT INTO alert_state VALUES ('abc', 'firing')")
    db = StateFile(path)
    outbox = Outbox(db, clock=clock)
    outbox.enqueue("webhook", numbered(1))
    db.close()
    with sqlite3.connect(path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert other.execute("SELECT * FROM alert_state").fetchall() == [("abc", "firing")]
        tables = {row[0] for row in other.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables - {"sqlite_sequence"} == {"alert_state", "notify_outbox", "state_owner"}
    assert [Notification.from_json(e.notification) for e in Outbox(StateFile(path)).entries("pending", "webhook")] == [numbered(1)]


class Clocks:
    """A wall clock that can step (NTP) and a monotonic one; both advance when the dispatcher sleeps."""

    def __init__(self) -> None:
        self.wall = FakeClock()
        self.mono = FakeClock(start=1000.0)

    def sleep(self, seconds: float) -> None:
        self.wall.sleep(seconds)
        self.mono.sleep(seconds)


def test_a_wall_clock_step_back_does_not_delay_a_retry(tmp_path: Path, server: Server, results: Results) -> None:
    # Fails before: the retry was due at wall time + backoff; after a step back of 1 h it waited 1 h.
    clocks = Clocks()
    server.reply(Reply(503))
    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clocks.wall)
    outbox.enqueue("webhook", numbered(1))

    def step_back(notifier: str, result: str) -> None:
        results(notifier, result)
        if result == "retry":
            clocks.wall.now -= 3600

    Dispatcher(outbox, {"webhook": webhook(server.url)}, on_result=step_back, clock=clocks.wall, sleep=clocks.sleep,
               monotonic=clocks.mono, rng=random.Random(1)).flush(60)
    assert results.of() == ["retry", "sent"]
    assert sum(clocks.mono.slept) <= 1.0


def test_enqueue_answers_the_row_it_wrote(tmp_path: Path, clock: FakeClock) -> None:
    outbox = Outbox(StateFile(tmp_path / "state.db"), clock=clock)
    ids = [outbox.enqueue("webhook", numbered(i)) for i in range(2)]
    assert ids == [e.id for e in outbox.entries()] and all(i > 0 for i in ids)


def test_an_outbox_that_cannot_be_read_is_counted_and_the_dispatcher_still_starts(tmp_path: Path, server: Server,
                                                                                  results: Results) -> None:
    # Fails before: the read's error escaped from start() (its check for orphaned queues).
    path = tmp_path / "state.db"
    db = StateFile(path)
    outbox = Outbox(db)
    with sqlite3.connect(path) as other:
        other.execute("ALTER TABLE notify_outbox RENAME TO elsewhere")
    running = Dispatcher(outbox, {"webhook": webhook(server.url)}, on_result=results)
    running.start()
    running.stop()
    assert db.errors >= 1 and db.failing is not None and "no such table: notify_outbox" in db.failing

"""The durable outbox: notifications wait in the state file until their notifier takes them.

Storage: one table, `notify_outbox`, in the SQLite file that also holds the runtime's alert
state (only this table is touched). WAL mode, short transactions, one lock per process.
A row is deleted once delivered; a permanent failure stays as a `failed` (dead-letter) row.

Delivery (Dispatcher): one worker thread per notifier, so a slow endpoint delays only its own
queue. Each queue is strictly first-in first-out: a later notification never overtakes an
earlier one (a stale "firing" never re-opens an alert after its "resolved"). A retryable error
reschedules the head with backoff; a permanent one (or one still retryable after
`give_up_after`) moves it to failed and the queue goes on. Delivery is at least once: a crash
between a send and its bookkeeping, or a timeout after the receiver got the request, sends it again.
One dispatcher per state file.
"""
from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from watchdog.notify.backoff import Backoff
from watchdog.notify.base import DeliveryError, Notifier
from watchdog.notify.message import Notification

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS notify_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notifier TEXT NOT NULL,
    notification TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    due_at REAL NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS notify_outbox_queue ON notify_outbox (notifier, state, id);
"""
COLUMNS = "id, notifier, notification, state, attempts, created_at, due_at, last_error"
IDLE_WAIT = 60.0
ERROR_WAIT = 5.0
JOIN_GRACE = 1.0


@dataclass(frozen=True)
class Entry:
    id: int
    notifier: str
    notification: str
    state: str
    attempts: int
    created_at: float
    due_at: float
    last_error: str | None


class Outbox:
    """Notifications waiting for delivery, per notifier; safe to share between threads."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._listeners: list[Callable[[str], None]] = []
        self._conn = sqlite3.connect(str(path), timeout=10.0, isolation_level=None, check_same_thread=False)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(SCHEMA)

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Called with the notifier's name after each enqueue (the dispatcher wakes its worker)."""
        self._listeners.append(listener)

    def enqueue(self, notifier_name: str, notification: Notification) -> int:
        now = self._clock()
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO notify_outbox (notifier, notification, created_at, due_at) VALUES (?, ?, ?, ?)",
                (notifier_name, notification.to_json(), now, now),
            )
        for listener in self._listeners:
            listener(notifier_name)
        return int(cursor.lastrowid or 0)

    def head(self, notifier_name: str) -> Entry | None:
        """The oldest pending entry of a notifier, due or not: queues are strictly in order."""
        rows = self._select("WHERE notifier = ? AND state = 'pending' ORDER BY id LIMIT 1", (notifier_name,))
        return rows[0] if rows else None

    def mark_sent(self, entry_id: int) -> None:
        self._write("DELETE FROM notify_outbox WHERE id = ?", (entry_id,))

    def reschedule(self, entry_id: int, due_at: float, error: str) -> None:
        self._write("UPDATE notify_outbox SET attempts = attempts + 1, due_at = ?, last_error = ? WHERE id = ?",
                    (due_at, error, entry_id))

    def mark_failed(self, entry_id: int, error: str) -> None:
        self._write("UPDATE notify_outbox SET attempts = attempts + 1, state = 'failed', last_error = ? WHERE id = ?",
                    (error, entry_id))

    def entries(self, state: str | None = None, notifier_name: str | None = None) -> list[Entry]:
        """Rows in queue order, optionally of one state ('pending' or 'failed') and one notifier."""
        where = [(clause, value) for clause, value in (("state = ?", state), ("notifier = ?", notifier_name)) if value]
        sql = ("WHERE " + " AND ".join(c for c, _ in where) if where else "") + " ORDER BY id"
        return self._select(sql, tuple(v for _, v in where))

    def counts(self) -> dict[tuple[str, str], int]:
        """(notifier, state) -> rows: for a gauge, or to spot a queue no notifier drains."""
        with self._lock:
            rows = self._conn.execute("SELECT notifier, state, COUNT(*) FROM notify_outbox GROUP BY notifier, state").fetchall()
        return {(notifier, state): count for notifier, state, count in rows}

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _select(self, sql: str, params: tuple[object, ...]) -> list[Entry]:
        with self._lock:
            rows = self._conn.execute(f"SELECT {COLUMNS} FROM notify_outbox {sql}", params).fetchall()
        return [Entry(*row) for row in rows]

    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        with self._lock:
            self._conn.execute(sql, params)


class Dispatcher:
    """Drains the outbox into the notifiers, each in its own thread, until stopped.

    `clock` dates attempts (the outbox should share it); `sleep` paces retries while flushing
    (a running worker instead waits on a wake-up that enqueue and stop set). `on_result(notifier,
    result)`, result in 'sent' | 'retry' | 'failed', feeds watchdog_notifications_total.
    """

    def __init__(self, outbox: Outbox, notifiers: Mapping[str, Notifier],
                 on_result: Callable[[str, str], None] | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 backoff: Backoff = Backoff(), rng: random.Random | None = None,
                 give_up_after: float = 24 * 3600.0) -> None:
        self._outbox = outbox
        self._notifiers = dict(notifiers)
        self._on_result = on_result
        self._clock = clock
        self._sleep = sleep
        self._backoff = backoff
        self._rng = rng or random.Random()
        self._give_up_after = give_up_after
        self._wake = {name: threading.Event() for name in self._notifiers}
        self._threads: list[threading.Thread] = []
        self._deadline: float | None = None
        outbox.subscribe(self._poke)

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("the dispatcher is already running")
        self._warn_orphans()
        self._deadline = None
        self._threads = self._spawn()

    def stop(self, flush_deadline: float = 0.0) -> None:
        """Stop the workers; each first delivers what falls due within `flush_deadline` seconds.

        Returns by the deadline (and a second's grace) even while a request hangs: its worker is a
        daemon thread left to finish or die with the process; its notification, not yet marked
        sent, goes out again after the restart."""
        self._deadline = self._clock() + flush_deadline
        for event in self._wake.values():
            event.set()
        self._join(self._threads, flush_deadline)
        self._threads = []

    def flush(self, deadline: float) -> None:
        """Deliver, without started workers, all that falls due within `deadline` seconds (`run --once`)."""
        if self._threads:
            raise RuntimeError("the dispatcher is running: use stop(flush_deadline)")
        self._deadline = self._clock() + deadline
        self._join(self._spawn(), deadline)

    def _join(self, threads: list[threading.Thread], seconds: float) -> None:
        end = time.monotonic() + seconds + JOIN_GRACE
        for thread in threads:
            thread.join(max(0.0, end - time.monotonic()))
        busy = [t.name.removeprefix("watchdog-notify-") for t in threads if t.is_alive()]
        if busy:
            log.warning("notifier(s) %s still waiting on a request at the deadline; what they were sending is sent "
                        "again at the next start", ", ".join(busy))

    def _spawn(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._work, args=(name,), name=f"watchdog-notify-{name}", daemon=True)
                   for name in self._notifiers]
        for thread in threads:
            thread.start()
        return threads

    def _poke(self, notifier_name: str) -> None:
        event = self._wake.get(notifier_name)
        if event is not None:
            event.set()

    def _warn_orphans(self) -> None:
        for (name, state), count in self._outbox.counts().items():
            if state == "pending" and name not in self._notifiers:
                log.warning("the outbox holds %d notification(s) for '%s', which is not configured: they wait there", count, name)

    def _work(self, name: str) -> None:
        """One notifier's queue, in order, until stopped (or, when flushing, until nothing is due in time)."""
        while True:
            self._wake[name].clear()
            deadline, now = self._deadline, self._clock()
            if deadline is not None and now >= deadline:
                return
            try:
                entry = self._outbox.head(name)
                if entry is not None and entry.due_at <= now:
                    self._attempt(name, entry)
                    continue
            except sqlite3.Error as exc:
                log.error("%s: outbox unavailable (%s), retrying in %gs", name, exc, ERROR_WAIT)
                entry, pause = None, ERROR_WAIT
            else:
                pause = IDLE_WAIT if entry is None else entry.due_at - now
            if deadline is not None and (entry is None or entry.due_at > deadline):
                return
            self._pause(name, pause)

    def _pause(self, name: str, seconds: float) -> None:
        if self._deadline is None:
            self._wake[name].wait(seconds)
        else:
            self._sleep(min(seconds, max(0.0, self._deadline - self._clock())))

    def _attempt(self, name: str, entry: Entry) -> None:
        try:
            notification = Notification.from_json(entry.notification)
            self._notifiers[name].send(notification)
        except DeliveryError as exc:
            self._failed(name, entry, exc.message, exc.permanent, exc.retry_after)
            return
        except Exception as exc:  # a notifier bug or a corrupt row must not kill the worker
            self._failed(name, entry, f"unexpected error ({type(exc).__name__})", True, None)
            return
        self._outbox.mark_sent(entry.id)
        log.info("%s: sent %s %s for %s/%s", name, notification.status, notification.alertname, notification.rule, notification.target)
        self._report(name, "sent")

    def _failed(self, name: str, entry: Entry, message: str, permanent: bool, retry_after: float | None) -> None:
        now, attempts = self._clock(), entry.attempts + 1
        message = " ".join(message.split())
        if not permanent and now - entry.created_at < self._give_up_after:
            delay = self._backoff.delay(attempts, retry_after, self._rng)
            self._outbox.reschedule(entry.id, now + delay, message)
            log.warning("%s: notification %d not delivered (attempt %d), retry in %.1fs: %s", name, entry.id, attempts, delay, message)
            self._report(name, "retry")
            return
        reason = message if permanent else f"gave up after {attempts} attempts: {message}"
        self._outbox.mark_failed(entry.id, reason)
        log.error("%s: notification %d failed for good, kept in the outbox as failed: %s", name, entry.id, reason)
        self._report(name, "failed")

    def _report(self, name: str, result: str) -> None:
        if self._on_result is None:
            return
        try:
            self._on_result(name, result)
        except Exception:  # a metrics hook must not stop delivery
            log.exception("%s: on_result hook failed", name)

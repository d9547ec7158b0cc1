"""The durable outbox: notifications wait in the state file until their notifier takes them.

Storage: one table, `notify_outbox`, in the state file (watchdog.statefile) that also holds the
runtime's alert state, on the same connection: the runtime writes an alert's change and its
notifications in one transaction (stage(), then write() inside its transaction). A row is deleted
once delivered; a permanent failure stays as a `failed` (dead-letter) row.

Durable or loud: what could not be written (a new notification, a delivery, a retry's new due
time) is kept in memory beside the file and written by the next write that succeeds. Meanwhile it
is delivered from memory, and a delivery that could not be recorded is never sent again.

Delivery (Dispatcher): one worker thread per notifier, so a slow endpoint delays only its own
queue. Each queue is strictly first-in first-out: a later notification never overtakes an
earlier one (a stale "firing" never re-opens an alert after its "resolved"); only when the file
cannot even be read are the notifications kept in memory sent without waiting for older ones.
A retryable error reschedules the head with backoff; a permanent one (or one still retryable
after `give_up_after`) moves it to failed and the queue goes on. Delivery is at least once: a
crash between a send and its bookkeeping, or a timeout after the receiver got the request, sends
it again. One dispatcher per state file.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from watchdog.notify.backoff import Backoff
from watchdog.notify.base import DeliveryError, Notifier
from watchdog.notify.message import Notification
from watchdog.statefile import StateDatabase

log = logging.getLogger(__name__)

TABLE = """
CREATE TABLE IF NOT EXISTS notify_outbox (
    id {id},
    notifier TEXT NOT NULL,
    notification TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    due_at DOUBLE PRECISION NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS notify_outbox_queue ON notify_outbox (notifier, state, id);
"""
SCHEMA = {"": TABLE.format(id="INTEGER PRIMARY KEY AUTOINCREMENT"),
          "postgresql": TABLE.format(id="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")}
COLUMNS = "id, notifier, notification, state, attempts, created_at, due_at, last_error"
IDLE_WAIT = 60.0
JOIN_GRACE = 1.0


@dataclass(frozen=True)
class Entry:
    """One notification for one notifier; a negative id is one not (yet) in the file."""

    id: int
    notifier: str
    notification: str
    state: str
    attempts: int
    created_at: float
    due_at: float
    last_error: str | None


class Outbox:
    """Notifications waiting for delivery, per notifier; safe to share between threads.

    Everything here is guarded by the state file's lock, so the dispatcher never sees a
    notification half-way between memory and the file."""

    def __init__(self, db: StateDatabase, clock: Callable[[], float] = time.time) -> None:
        db.schema(SCHEMA)
        self._db = db
        self._clock = clock
        self._listeners: list[Callable[[str], None]] = []
        self._staged: list[Entry] = []  # new, not yet in the file, in order
        self._next_id = -1
        self._out: set[int] = set()  # staged ids the dispatcher holds (being sent)
        self._moved: dict[int, int] = {}  # such an id -> its row, once written
        self._unsynced: dict[int, Entry | None] = {}  # row -> its new state (None: delivered), not yet written

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Called with the notifier's name after each enqueue (the dispatcher wakes its worker)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[str], None]) -> None:
        self._listeners.remove(listener)

    def stage(self, notifier_name: str, notification: Notification) -> int:
        """Queue in memory, deliverable at once; the next write() puts it in the file."""
        now = self._clock()
        with self._db.lock:
            entry = Entry(self._next_id, notifier_name, notification.to_json(), "pending", 0, now, now, None)
            self._next_id -= 1
            self._staged.append(entry)
        for listener in self._listeners:
            listener(notifier_name)
        return entry.id

    def enqueue(self, notifier_name: str, notification: Notification) -> int:
        """stage() and write it in a transaction of its own; the id is negative if that failed."""
        staged = self.stage(notifier_name, notification)
        return dict(self.sync() or {}).get(staged, staged)

    def sync(self) -> list[tuple[int, int]] | None:
        """Write what waits in memory in one transaction: the (staged id, row id) pairs written, or
        None (counted, logged) if it failed."""
        with self._db.lock:
            try:
                with self._db.transaction() as conn:
                    inserted = self.write(conn)
            except self._db.Error as exc:
                self._db.failed("writing the outbox", exc)
                return None
            self.written(inserted)
            return inserted

    def write(self, conn: Any) -> list[tuple[int, int]]:
        """Inside the caller's transaction (the state file's lock held): write what waits in memory.
        Returns (staged id, row id) pairs for written()."""
        for row, entry in self._unsynced.items():
            if entry is None:
                conn.execute(self._db.sql("DELETE FROM notify_outbox WHERE id = {p}"), (row,))
            else:
                conn.execute(self._db.sql("UPDATE notify_outbox SET state = {p}, attempts = {p}, due_at = {p}, last_error = {p} "
                                          "WHERE id = {p}"), (entry.state, entry.attempts, entry.due_at, entry.last_error, row))
        return [(entry.id, self._insert(conn, entry)) for entry in self._staged]

    def written(self, inserted: list[tuple[int, int]]) -> None:
        """The transaction of write() committed: what it wrote is no longer only in memory."""
        self._unsynced.clear()
        done = dict(inserted)
        self._staged = [e for e in self._staged if e.id not in done]
        self._moved.update((staged, row) for staged, row in done.items() if staged in self._out)
        self._out -= done.keys()

    @property
    def unsynced(self) -> int:
        """Changes kept in memory because the file could not take them."""
        with self._db.lock:
            return len(self._staged) + len(self._unsynced)

    def head(self, notifier_name: str) -> Entry | None:
        """The oldest pending entry of a notifier, due or not: queues are strictly in order."""
        with self._db.lock:
            try:
                rows = self._db.read(self._db.sql(f"SELECT {COLUMNS} FROM notify_outbox WHERE notifier = {{p}} "
                                                  "AND state = 'pending' ORDER BY id LIMIT {p}"),
                                     (notifier_name, len(self._unsynced) + 1))
            except self._db.Error as exc:
                self._db.failed("reading the outbox", exc)
                rows = []
            for row in rows:
                entry = self._current(Entry(*row))  # type: ignore[arg-type]
                if entry is not None and entry.state == "pending":
                    return entry
            staged = next((e for e in self._staged if e.notifier == notifier_name and e.state == "pending"), None)
            if staged is not None:
                self._out.add(staged.id)
            return staged

    def mark_sent(self, entry: Entry) -> None:
        self._change(entry, None)

    def reschedule(self, entry: Entry, due_at: float, error: str) -> int:
        """Returns the entry's id from now on (a row's, once what was in memory is in the file)."""
        return self._change(entry, replace(entry, attempts=entry.attempts + 1, due_at=due_at, last_error=error))

    def mark_failed(self, entry: Entry, error: str) -> None:
        self._change(entry, replace(entry, attempts=entry.attempts + 1, state="failed", last_error=error))

    def entries(self, state: str | None = None, notifier_name: str | None = None) -> list[Entry]:
        """Entries in queue order (the file's, then those only in memory), optionally of one state
        ('pending' or 'failed') and one notifier."""
        with self._db.lock:
            try:
                rows = self._db.read(f"SELECT {COLUMNS} FROM notify_outbox ORDER BY id")
            except self._db.Error as exc:
                self._db.failed("reading the outbox", exc)
                rows = []
            every = [self._current(Entry(*row)) for row in rows] + list(self._staged)  # type: ignore[arg-type]
        return [e for e in every if e is not None and state in (None, e.state) and notifier_name in (None, e.notifier)]

    def counts(self) -> dict[tuple[str, str], int]:
        """(notifier, state) -> entries: for a gauge, or to spot a queue no notifier drains."""
        found: dict[tuple[str, str], int] = {}
        for entry in self.entries():
            found[(entry.notifier, entry.state)] = found.get((entry.notifier, entry.state), 0) + 1
        return found

    def _current(self, entry: Entry) -> Entry | None:
        """A row as it stands with what is not yet written (None: delivered)."""
        return self._unsynced.get(entry.id, entry) if entry.id in self._unsynced else entry

    def _change(self, entry: Entry, new: Entry | None) -> int:
        """Record a delivery or a retry: in the file if possible, else in memory (never lost, never
        sent twice for want of a write)."""
        with self._db.lock:
            if entry.id < 0 and entry.id not in self._moved:
                self._out.discard(entry.id)
                self._staged = [e for e in self._staged if e.id != entry.id]
                if new is not None:
                    self._staged.append(new)
                    self._staged.sort(key=lambda e: -e.id)
                return entry.id
            row = self._moved.pop(entry.id, entry.id)
            self._out.discard(entry.id)
            self._unsynced[row] = None if new is None else replace(new, id=row)
            self.sync()
            return row

    def _insert(self, conn: Any, entry: Entry) -> int:
        row = conn.execute(self._db.sql(
            "INSERT INTO notify_outbox (notifier, notification, state, attempts, created_at, due_at, last_error) "
            "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) RETURNING id"),
            (entry.notifier, entry.notification, entry.state, entry.attempts, entry.created_at, entry.due_at, entry.last_error)
        ).fetchone()
        return int(row[0])


class Dispatcher:
    """Drains the outbox into the notifiers, each in its own thread, until stopped.

    `clock` dates attempts in the file (the outbox should share it); `monotonic` times retries and
    deadlines, so a step of the wall clock neither delays nor hastens a retry; `sleep` paces
    retries while flushing (a running worker instead waits on a wake-up that enqueue and stop set).
    `on_result(notifier, result)`, result in 'sent' | 'retry' | 'failed', feeds
    watchdog_notifications_total.
    """

    def __init__(self, outbox: Outbox, notifiers: Mapping[str, Notifier],
                 on_result: Callable[[str, str], None] | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 backoff: Backoff = Backoff(), rng: random.Random | None = None,
                 give_up_after: float = 24 * 3600.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._outbox = outbox
        self._notifiers = dict(notifiers)
        self._on_result = on_result
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._backoff = backoff
        self._rng = rng or random.Random()
        self._give_up_after = give_up_after
        self._wake = {name: threading.Event() for name in self._notifiers}
        self._due: dict[int, float] = {}  # entry id -> monotonic time its retry falls due
        self._threads: list[threading.Thread] = []
        self._deadline: float | None = None
        outbox.subscribe(self._poke)

    @property
    def alive(self) -> bool:
        """Every worker started is still running (a worker that died would leave its queue undelivered)."""
        return all(thread.is_alive() for thread in self._threads)

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
        self._deadline = self._monotonic() + flush_deadline
        for event in self._wake.values():
            event.set()
        threads, self._threads = self._threads, []
        self._join(threads, flush_deadline)

    def detach(self) -> None:
        """Stop listening to the outbox: a reload replaced this dispatcher (stop() it too when started)."""
        self._outbox.unsubscribe(self._poke)

    def flush(self, deadline: float) -> None:
        """Deliver, without started workers, all that falls due within `deadline` seconds (`run --once`)."""
        if self._threads:
            raise RuntimeError("the dispatcher is running: use stop(flush_deadline)")
        self._deadline = self._monotonic() + deadline
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
            deadline, now = self._deadline, self._monotonic()
            if deadline is not None and now >= deadline:
                return
            entry = self._outbox.head(name)
            due = None if entry is None else self._due_at(entry, now)
            if entry is not None and due is not None and due <= now:
                self._attempt(name, entry)
                continue
            if deadline is not None and (due is None or due > deadline):
                return
            self._pause(name, IDLE_WAIT if due is None else due - now)

    def _due_at(self, entry: Entry, now: float) -> float:
        """When `entry` falls due on the monotonic clock: as its last retry set it, else from the
        due time in the file, taken once (a later step of the wall clock changes nothing)."""
        if entry.id not in self._due:
            self._due[entry.id] = now + max(0.0, entry.due_at - self._clock())
        return self._due[entry.id]

    def _pause(self, name: str, seconds: float) -> None:
        if self._deadline is None:
            self._wake[name].wait(seconds)
        else:
            self._sleep(min(seconds, max(0.0, self._deadline - self._monotonic())))

    def _attempt(self, name: str, entry: Entry) -> None:
        try:
            notification = Notification.from_json(entry.notification)
            self._notifiers[name].send(notification)
        except DeliveryError as exc:
            self._failed(name, entry, exc.message, exc.permanent, exc.retry_after)
            return
        except Exception as exc:  # a notifier bug or a corrupt row must not kill the worker
            log.exception("%s: notification %d: unexpected error in the notifier", name, entry.id)
            self._failed(name, entry, f"unexpected error ({type(exc).__name__})", True, None)
            return
        self._due.pop(entry.id, None)
        self._outbox.mark_sent(entry)
        log.info("%s: sent %s %s for %s/%s", name, notification.status, notification.alertname, notification.rule, notification.target)
        self._report(name, "sent")

    def _failed(self, name: str, entry: Entry, message: str, permanent: bool, retry_after: float | None) -> None:
        now, attempts = self._clock(), entry.attempts + 1
        message = " ".join(message.split())
        self._due.pop(entry.id, None)
        if not permanent and now - entry.created_at < self._give_up_after:
            delay = self._backoff.delay(attempts, retry_after, self._rng)
            self._due[self._outbox.reschedule(entry, now + delay, message)] = self._monotonic() + delay
            log.warning("%s: notification %d not delivered (attempt %d), retry in %.1fs: %s", name, entry.id, attempts, delay, message)
            self._report(name, "retry")
            return
        reason = message if permanent else f"gave up after {attempts} attempts: {message}"
        self._outbox.mark_failed(entry, reason)
        log.error("%s: notification %d failed for good, kept in the outbox as failed: %s", name, entry.id, reason)
        self._report(name, "failed")

    def _report(self, name: str, result: str) -> None:
        if self._on_result is None:
            return
        try:
            self._on_result(name, result)
        except Exception:  # a metrics hook must not stop delivery
            log.exception("%s: on_result hook failed", name)

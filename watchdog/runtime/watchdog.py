"""The runtime of `watchdog run`, also for embedding: `from watchdog import Watchdog`.

Wiring only: the scheduler hands due units to one thread pool per target (as many threads as the
target's pool_size, each with a pooled connection); each result goes to the ledger (metrics) and
the alert book (lifecycle), whose changes are written to the state file and whose notifications
go to the outbox, drained by the dispatcher's own threads, so a slow notifier never delays a probe.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, wait
from pathlib import Path
from types import TracebackType
from typing import Any

from watchdog.notify import Dispatcher, Notifier, Outbox, build_notifiers
from watchdog.plan import Plan, build_plan
from watchdog.evaluation.evaluator import Evaluator, Outcome
from watchdog.evaluation.execute import Clock, utc_now
from watchdog.evaluation.pool import Connector
from watchdog.evaluation.units import Unit, plan_units
from watchdog.probing.connection import connect
from watchdog.results.model import Result
from watchdog.runtime.alerts import AlertBook, Changes
from watchdog.runtime.compose import compose
from watchdog.runtime.exposition import Exposition
from watchdog.runtime.ledger import Ledger
from watchdog.runtime.metrics import registry_for
from watchdog.runtime.schedule import Scheduler
from watchdog.runtime.server import MetricsServer
from watchdog.runtime.state import StateStore

log = logging.getLogger("watchdog.run")



class Watchdog:
    """Evaluates every rule on its interval, exports metrics and sends alerts until stopped.

    `start()` runs it in background threads; `stop()` finishes in-flight probes and flushes the
    outbox within its timeout. `check()` evaluates every rule once, through the same alert
    lifecycle and notifications, and returns the results (`watchdog run --once`).
    """

    def __init__(self, plan: Plan, *, state: str | Path = "watchdog-state.db", listen: str | None = None,
                 notifiers: Mapping[str, Notifier] | None = None, connector: Connector = connect,
                 clock: Clock = utc_now, tick_every: float = 5.0) -> None:
        self.plan = plan
        self._clock = clock
        self._notifiers = build_notifiers(plan.rule_file.notify) if notifiers is None else dict(notifiers)
        self._rules = {(rule.name, rule.target): rule for rule in plan.rules}
        self.ledger = Ledger(plan.rules, self._notifiers)
        self.registry = registry_for(self.ledger)
        self._store = StateStore(state)
        self._outbox = Outbox(state)
        self._dispatcher = Dispatcher(self._outbox, self._notifiers, on_result=self.ledger.notified)
        self._book = AlertBook(plan.rules, {name: n.resend_interval for name, n in self._notifiers.items()}, self._store.load())
        self._lock = threading.Lock()
        self._units = plan_units(plan.probes)
        self._evaluator = Evaluator(plan.targets, connector=connector, clock=clock, secrets=plan.secrets,
                                    on_split=self._split)
        self._inflight: set[Future[Outcome]] = set()
        self._scheduler = Scheduler(self._units, self._submit, self._tick, tick_every)
        self._server = None if listen is None else MetricsServer(
            listen, Exposition(self.registry, self.ledger.changed), self._healthy, self._ready)
        self._begun = False
        self._running = False
        self._closed = False

    @classmethod
    def from_file(cls, path: str | Path, *, env: Mapping[str, str] | None = None, **options: Any) -> Watchdog:
        """Load and compile the rule file (ConfigError lists every problem), ready to start."""
        return cls(build_plan(path, env=env), **options)

    @property
    def secrets(self) -> frozenset[str]:
        """DSN passwords, webhook URLs and secrets: what logs must never show."""
        return self.plan.secrets | {s for n in self._notifiers.values() for s in getattr(n, "secrets", ())}

    @property
    def running(self) -> bool:
        """Started and not yet stopped."""
        return self._running

    @property
    def address(self) -> str | None:
        """HOST:PORT the metrics server listens on (useful with port 0)."""
        return self._server.address if self._server else None

    def start(self) -> None:
        if self._running or self._closed:
            raise RuntimeError("this Watchdog is already running" if self._running else "this Watchdog is closed")
        self._begin()
        self._dispatcher.start()
        if self._server:
            self._server.start()
        self._running = True
        self._scheduler.start()
        log.info("watchdog running %d rule%s on %s; notifiers: %s; metrics: %s; state: %s",
                 len(self._rules), "" if len(self._rules) == 1 else "s", ", ".join(sorted({u.target for u in self._units})) or "no target",
                 ", ".join(sorted(self._notifiers)) or "none",
                 f"http://{self.address}/metrics" if self._server else "off", self._store.path)

    def check(self) -> list[Result]:
        """Evaluate every rule once now (waiting for any run already under way) and return the results."""
        if self._closed:
            raise RuntimeError("this Watchdog is closed")
        self._begin()
        submitted = []
        for unit in self._units:
            unit.busy.acquire()
            submitted.append(self._evaluator.submit(unit, self._finished))
        by_probe = {id(p): r for future in submitted for p, r in zip(future.result().unit.probes, future.result().results)}
        self._tick()
        return [by_probe[id(p)] for p in self.plan.probes]

    def deliver(self, deadline: float) -> None:
        """Send what the outbox holds, for up to `deadline` seconds (when not started: `run --once`)."""
        self._dispatcher.flush(deadline)

    def results(self) -> list[Result]:
        """The latest result of every rule evaluated so far."""
        return self.ledger.results()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop scheduling, let in-flight probes finish and flush notifications, within `timeout`."""
        if self._closed:
            return
        deadline = time.monotonic() + timeout
        self._scheduler.stop()
        with self._lock:
            inflight = set(self._inflight)
        _, late = wait(inflight, timeout=max(0.0, deadline - time.monotonic()))
        if late:
            log.warning("stopping with %d probe(s) still running: cancelled, their results are dropped", len(late))
        self._evaluator.close()
        if self._running:
            self._dispatcher.stop(flush_deadline=max(0.0, deadline - time.monotonic()))
        self.close()

    def close(self) -> None:
        """Release connections, the server and the state file (stop() does this too)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._server and self._running:
            self._server.stop()
        self._running = False
        self._evaluator.close()
        self._store.close()
        self._outbox.close()

    def __enter__(self) -> Watchdog:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _begin(self) -> None:
        """Once: resolve alerts left in the state file by rules that are gone."""
        if not self._begun:
            self._begun = True
            self._apply(self._book.retire(self._clock()))

    def _submit(self, unit: Unit) -> None:
        if not unit.busy.acquire(blocking=False):
            for probe in unit.probes:
                self.ledger.skipped(probe.rule.name, probe.rule.target)
            log.warning("%s on %s: still running when due again, this evaluation is skipped (raise its interval "
                        "or statement_timeout is too long)", unit.name, unit.target)
            return
        future = self._evaluator.submit(unit, self._finished)
        with self._lock:
            self._inflight.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[Outcome]) -> None:
        with self._lock:
            self._inflight.discard(future)

    def _finished(self, outcome: Outcome) -> None:
        """A unit's outcome from the evaluator: into the ledger and the alert lifecycle; the unit may run again."""
        try:
            self._record(outcome.unit.target, outcome.results, attempt=outcome.connected, down=outcome.down)
        except Exception:  # a bug here must show in the log, and must not keep the unit busy forever
            log.exception("internal error recording %s on %s", outcome.unit.name, outcome.unit.target)
        finally:
            outcome.unit.busy.release()

    def _split(self, unit: Unit, error: str) -> None:
        """A batch's shared query failed with an SQL error: from now on its members run one by one."""
        log.warning("the shared query of %s on %s failed (%s); they run one by one from now on", unit.name, unit.target, error)
        self.ledger.batch_split(unit.target)

    def _record(self, target: str, results: list[Result], attempt: bool | None, down: str | None = None) -> None:
        """Ledger first (metrics), then the alert lifecycle.

        `attempt`: whether a connection to the target worked (None: none was tried, the pool answered
        from a recent failure); `down`: why the target is unreachable, when it is."""
        for result in results:
            previous = self.ledger.record(result)
            if down is None:  # an unreachable target is logged once, not once per rule
                self._log_transition(previous, result)
        now = self._clock()
        with self._lock:
            if self._closed:
                return
            changes = Changes()
            if attempt is not None:
                if self.ledger.target(target, attempt) is not attempt:
                    (log.info if attempt else log.error)("target %s is %s", target, "reachable" if attempt else f"down: {down}")
                changes.extend(self._book.connection(target, attempt, now, down))
            for result in results:
                changes.extend(self._book.observe(result, unreachable=down is not None))
            self._apply(changes)

    def _tick(self) -> None:
        """Re-send firing alerts that are due (repeat_interval, Alertmanager's resend)."""
        with self._lock:
            if not self._closed:
                self._apply(self._book.repeats(self._clock()))

    def _apply(self, changes: Changes) -> None:
        """Queue notifications first, then save state: a crash in between sends twice, never not at all."""
        try:
            for outgoing in changes.outgoing:
                notification = compose(outgoing, self._rules, self._book.severity(outgoing.alert))
                for name in outgoing.notifiers:
                    self._outbox.enqueue(name, notification)
                if not outgoing.repeat:
                    log.info("alert %s %s on %s: %s", outgoing.alert.alertname, outgoing.status, outgoing.alert.target,
                             notification.summary)
            self._store.save(changes.saved, changes.deleted)
        except sqlite3.Error as exc:
            log.error("state file %s: %s; alert changes may be lost", self._store.path, exc)

    def _log_transition(self, previous: Result | None, result: Result) -> None:
        was_error = previous is not None and previous.status == "error"
        if result.status == "error" and not was_error:
            log.warning("rule %s on %s: probe failed: %s", result.rule, result.target, result.error)
        elif was_error and result.status != "error":
            log.info("rule %s on %s: probe runs again", result.rule, result.target)

    def _healthy(self) -> bool:
        return self._scheduler.alive

    def _ready(self) -> bool:
        return self._scheduler.alive and len(self.ledger.results()) == len(self._rules)

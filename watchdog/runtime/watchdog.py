"""The runtime of `watchdog run`, also for embedding: `from watchdog import Watchdog`.

Wiring only: the scheduler hands due units to one thread pool per target (as many threads as the
target's pool_size, each with a pooled connection); each result goes to the ledger (metrics) and
the alert book (lifecycle), whose changes are written to the state file and whose notifications
go to the outbox, drained by the dispatcher's own threads, so a slow notifier never delays a probe.

`reload()` re-reads the rule file without a restart (SIGHUP and POST /-/reload in `watchdog run`):
what changed is worked out by watchdog.runtime.reload; a file that does not load changes nothing.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, wait
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from watchdog.notify import Dispatcher, Notifier, Outbox, build_notifiers
from watchdog.errors import ConfigError
from watchdog.plan import Plan, build_plan
from watchdog.evaluation.evaluator import Evaluator, Outcome
from watchdog.evaluation.execute import Clock, utc_now
from watchdog.evaluation.pool import Connector
from watchdog.evaluation.units import Unit, plan_units
from watchdog.probing.connection import connect
from watchdog.probing.dsn import secrets_of
from watchdog.results.model import Result
from watchdog.runtime.acks import AckRefused, AckRequest
from watchdog.runtime.alerts import Alert, AlertBook, Changes
from watchdog.runtime.compose import compose
from watchdog.runtime.exposition import Exposition
from watchdog.runtime.ledger import Ledger
from watchdog.runtime.limits import cap_result
from watchdog.runtime.metrics import registry_for
from watchdog.runtime.quiet import SilenceLog, alert_silences, silenced_rules
from watchdog.runtime.reload import delta, masked
from watchdog.runtime.schedule import Scheduler
from watchdog.runtime.server import MetricsServer
from watchdog.runtime.state import StateStore
from watchdog.runtime.status import RulePage, StatusReport, build_report, rule_page
from watchdog.runtime.web import Site
from watchdog.statefile import StateError, open_state

log = logging.getLogger("watchdog.run")



class Watchdog:
    """Evaluates every rule on its interval, exports metrics and sends alerts until stopped.

    `start()` runs it in background threads; `stop()` finishes in-flight probes and flushes the
    outbox within its timeout. `check()` evaluates every rule once, through the same alert
    lifecycle and notifications, and returns the results (`watchdog run --once`). `reload()` and
    `apply(plan)` change the rules while it runs.

    `env`: the environment the plan's file was loaded with, for reload() (None: os.environ);
    `on_secrets`: told the secrets of each plan applied, before anything of it is logged (the log's
    scrubber). Notifiers given here are kept across reloads; else they follow the file's `notify`.
    """

    def __init__(self, plan: Plan, *, state: str | Path = "watchdog-state.db", listen: str | None = None,
                 notifiers: Mapping[str, Notifier] | None = None, connector: Connector = connect,
                 clock: Clock = utc_now, tick_every: float = 5.0, monotonic: Callable[[], float] = time.monotonic,
                 env: Mapping[str, str] | None = None, on_secrets: Callable[[Iterable[str]], None] | None = None) -> None:
        self.plan = plan
        self._clock = clock
        self._env = env
        self._on_secrets = on_secrets
        self._given_notifiers = notifiers is not None
        self._notifiers = build_notifiers(plan.rule_file.notify) if notifiers is None else dict(notifiers)
        self._rules = {(rule.name, rule.target): rule for rule in plan.rules}
        self.ledger = Ledger(plan.rules, self._notifiers, loaded_at=clock().timestamp())
        self.registry = registry_for(self.ledger)
        self._state = state
        self._db = open_state(state, on_error=self.ledger.state_failed)
        try:
            self._store = StateStore(self._db)
            self._outbox = Outbox(self._db)
            alerts = self._store.load()
        except StateError:
            self._db.close()
            raise
        self._dispatcher = Dispatcher(self._outbox, self._notifiers, on_result=self.ledger.notified)
        self._monotonic = monotonic
        self._silence_log = SilenceLog()
        self._book = self._new_book(alerts)
        self._lock = threading.Lock()  # the alert book and the queue of its changes
        self._queue: list[tuple[Changes, list[str]]] = []  # changes made, in order, not yet rendered and staged
        self._persisting = threading.Lock()  # renders and writes the queue in order, outside self._lock
        self._units = plan_units(plan.probes)
        self._current = {id(unit) for unit in self._units}  # whose results count: a unit a reload dropped may still finish
        self._reloading = threading.Lock()  # one reload at a time
        self._evaluator = Evaluator(plan.targets, connector=connector, clock=clock, secrets=plan.secrets,
                                    on_split=self._split)
        self._inflight: set[Future[list[Outcome]]] = set()
        self._scheduler = Scheduler(self._units, self._submit, self._tick, tick_every)
        self._server = None if listen is None else MetricsServer(
            listen, Exposition(self.registry, self.ledger.changed), self._healthy, self._ready, Site(self))
        self._begun = False
        self._running = False
        self._closed = False
        self._started = False
        self._leading = False  # evaluating and sending (a replica on shared state may stand by)
        self._failed = threading.Event()  # a thread of ours died: the process must not run on idle
        self.failure: str | None = None
        self._supervisor = threading.Thread(target=self._supervise, name="watchdog-supervisor", daemon=True)

    @classmethod
    def from_file(cls, path: str | Path, *, env: Mapping[str, str] | None = None, **options: Any) -> Watchdog:
        """Load and compile the rule file (ConfigError lists every problem), ready to start."""
        return cls(build_plan(path, env=env), env=env, **options)

    @property
    def secrets(self) -> frozenset[str]:
        """DSN passwords (the state's too), webhook URLs and secrets: what logs must never show."""
        notifiers = {s for n in self._notifiers.values() for s in getattr(n, "secrets", ())}
        return self.plan.secrets | notifiers | secrets_of(str(self._state))

    @property
    def api_token(self) -> str | None:
        """What the write API (acks, POST /-/reload) requires, as the rule file in force says; None: it is off."""
        return self.plan.rule_file.api_token

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
        if self._server:
            self._server.start()
        self._running = self._started = True
        log.info("watchdog running %d rule%s on %s; notifiers: %s; metrics: %s; state: %s",
                 len(self._rules), "" if len(self._rules) == 1 else "s", ", ".join(sorted({u.target for u in self._units})) or "no target",
                 ", ".join(sorted(self._notifiers)) or "none",
                 f"http://{self.address}/metrics" if self._server else "off", self._store.path)
        if self._db.lead():
            self._take_over()
        else:
            log.info("standing by: another watchdog evaluates and sends on state %s; taking over when it stops", self._db.path)
        self._supervisor.start()

    def _new_book(self, alerts: list[Alert]) -> AlertBook:
        resend = {name: notifier.resend_interval for name, notifier in self._notifiers.items()}
        return AlertBook(self.plan.rules, resend, alerts, now=self._clock(), monotonic=self._monotonic, quiet=self._silenced)

    def _silenced(self, alert: Alert, now: datetime) -> bool:
        """Whether a silence of the current rule file (a reload may have swapped it) quiets `alert`."""
        return bool(alert_silences(self.plan.rule_file, alert, now))

    def _take_over(self) -> None:
        """Evaluate and send from now on, from the alert state as the last leader left it."""
        with self._reloading:  # a reload swaps the dispatcher: it must see it started, or not yet
            if self._leading:
                return
            if self._db.shared:  # another replica may have changed it since it was loaded
                alerts = self._store.load()
                with self._lock:
                    self._book = self._new_book(alerts)
            self._begin()
            self._dispatcher.start()
            self._scheduler.start()
            self._leading = True

    def check(self) -> list[Result]:
        """Evaluate every rule once now (waiting for any run already under way) and return the results."""
        if self._closed:
            raise RuntimeError("this Watchdog is closed")
        self._begin()
        with self._lock:  # the units and probes of one plan, whatever a reload does meanwhile
            units, probes = self._units, self.plan.probes
        for unit in units:
            unit.busy.acquire()
        submitted = self._evaluator.submit(units, self._finished)
        by_probe = {id(p): r for future in submitted for outcome in future.result()
                    for p, r in zip(outcome.unit.probes, outcome.results)}
        self._tick()
        return [by_probe[id(p)] for p in probes]

    def reload(self) -> str:
        """Re-read the rule file the plan came from, with the environment it was loaded with, and
        apply() it; returns what changed ("1 added, 0 changed, ..."). A file that does not load
        raises ConfigError after its problems are logged: the rules running go on untouched."""
        path = self.plan.rule_file.path
        with self._reloading:
            try:
                plan = build_plan(path, env=self._env)
            except ConfigError as exc:
                refused = masked(exc, self.secrets)
                self.ledger.reloaded(False, self._clock().timestamp())
                count = len(refused.problems)
                log.error("reload of %s refused (%d problem%s), the rules loaded before run on", path, count, "" if count == 1 else "s")
                for problem in refused.problems:
                    log.error("reload refused: %s", problem)
                raise refused from None
            return self._replace(plan)

    def apply(self, plan: Plan) -> str:
        """Run `plan` from now on (see watchdog.runtime.reload for what counts as unchanged):
        unchanged rules keep their alerts, timers and schedule slots; new and changed rules are
        evaluated at once; removed rules' alerts resolve and their series leave /metrics; targets
        whose settings changed get a new pool; notifiers follow the file. Returns what changed."""
        with self._reloading:
            return self._replace(plan)

    def _replace(self, plan: Plan) -> str:
        if self._closed or (self._started and not self._running):
            raise RuntimeError("this Watchdog is stopped")
        change = delta(self.plan, self._units, plan)
        notifiers = self._notifiers
        if not self._given_notifiers and plan.rule_file.notify != self.plan.rule_file.notify:
            notifiers = build_notifiers(plan.rule_file.notify)
        if self._on_secrets is not None:
            self._on_secrets(plan.secrets | {s for n in notifiers.values() for s in getattr(n, "secrets", ())})
        if notifiers is not self._notifiers:
            self._renotify(notifiers)
        now = self._clock()
        with self._lock:  # units and targets change together: check() and the results see one plan or the other
            retargeted = self._evaluator.retarget(plan.targets, plan.secrets)
            self.plan, self._units = change.plan, change.units
            self._rules = {(rule.name, rule.target): rule for rule in change.plan.rules}
            self._current = {id(unit) for unit in change.units}
            self.ledger.retain(change.plan.rules, notifiers, retargeted)
            resend = {name: notifier.resend_interval for name, notifier in notifiers.items()}
            self._book.reconfigure(change.plan.rules, resend, retargeted)
            begun = self._begun  # else (a standby, or not started) _begin() retires them when this one leads
            if begun:
                self._apply(self._book.retire(now))
        if begun:
            self._persist()
        self._scheduler.update(change.units)
        self.ledger.reloaded(True, now.timestamp())
        log.info("reloaded %s: %s rule%s; new targets or settings for: %s", plan.rule_file.path, change.summary(),
                 "" if len(change.unchanged) == 1 else "s", ", ".join(retargeted) or "none")
        return change.summary()

    def _renotify(self, notifiers: dict[str, Notifier]) -> None:
        """New notifiers on the same outbox. Entries for a notifier no longer configured stay in the
        outbox (the new dispatcher's start logs how many) and go out if it comes back."""
        old, self._notifiers = self._dispatcher, notifiers
        self._dispatcher = Dispatcher(self._outbox, notifiers, on_result=self.ledger.notified)
        old.detach()
        if self._leading:
            old.stop()  # each worker ends after the delivery under way
            self._dispatcher.start()

    def reload_request(self) -> tuple[int, str]:
        """POST /-/reload (the token checked already): 200 and what changed, 400 and the problems,
        or 503 while stopping."""
        try:
            return 200, f"reloaded: {self.reload()}\n"
        except ConfigError as exc:
            return 400, f"reload refused, the rules loaded before run on:\n{exc}\n"
        except RuntimeError as exc:  # stopping: the rules stay as they are until the end
            return 503, f"{exc}\n"
        except Exception:  # a bug of ours: in the (scrubbed) log, not as a traceback on stderr
            log.exception("internal error reloading %s", self.plan.rule_file.path)
            return 500, "internal error while reloading (see the log)\n"

    def deliver(self, deadline: float) -> None:
        """Send what the outbox holds, for up to `deadline` seconds (when not started: `run --once`)."""
        self._dispatcher.flush(deadline)

    def results(self) -> list[Result]:
        """The latest result of every rule evaluated so far."""
        return self.ledger.results()

    def status(self) -> StatusReport:
        """Every rule's state, the active alerts and the targets, as the status page shows them."""
        now = self._clock()
        with self._lock:
            alerts = [(alert, self._book.severity(alert)) for alert in self._book.alerts]
        return build_report(self.plan, self.ledger, alerts, now, self.secrets)

    def rule_page(self, report: StatusReport, name: str) -> RulePage | None:
        return rule_page(report, self.plan, self.ledger, name, self.secrets)

    def acknowledge(self, request: AckRequest) -> list[Alert]:
        """Acknowledge the firing alerts of a rule (on one target, or all): kept in the state, no more
        repeats until the ack expires or the alert resolves. AckRefused says why not."""
        targets = {target for name, target in self._rules if name == request.rule}
        if not targets:
            raise AckRefused(404, f"no rule '{request.rule}' runs here")
        if request.target is not None and request.target not in targets:
            raise AckRefused(404, f"rule '{request.rule}' does not run on target '{request.target}' "
                                  f"(it runs on {', '.join(sorted(targets))})")
        if not self._leading:
            raise AckRefused(503, "this watchdog stands by; acknowledge on the one that evaluates and sends")
        with self._lock:
            changes = self._book.acknowledge(request.rule, request.target, request.ack(self._clock()))
            self._apply(changes)
        if not changes.saved:
            where = f" on target '{request.target}'" if request.target else ""
            raise AckRefused(409, f"rule '{request.rule}' has no firing alert{where} to acknowledge")
        self._persist()
        for alert in changes.saved:
            log.info("alert %s on %s acknowledged: %s", alert.alertname, alert.target, request.describe())
        return changes.saved

    def stop(self, timeout: float = 10.0) -> None:
        """Stop scheduling, let in-flight probes finish and flush notifications, within `timeout`."""
        if self._closed:
            return
        deadline = time.monotonic() + timeout
        with self._reloading:  # a reload under way finishes first; none begins after
            self._running = False  # the supervisor's cue: threads ending now are not a crash
        self._scheduler.stop()
        with self._lock:
            inflight = set(self._inflight)
        _, late = wait(inflight, timeout=max(0.0, deadline - time.monotonic()))
        if late:
            log.warning("stopping with %d probe(s) still running: cancelled, their results are dropped", len(late))
        self._evaluator.close()
        if self._started:
            self._dispatcher.stop(flush_deadline=max(0.0, deadline - time.monotonic()))
        self._last_write()
        self.close()

    def _last_write(self) -> None:
        """A last try at what the state could not take; what it still refuses is said to be lost."""
        with self._db.lock:
            self._write()
        alerts, notifications = self._store.unsynced, self._outbox.unsynced
        if alerts or notifications:
            log.error("stopping with %d alert change(s) and %d notification(s) that state %s could not take (%s): "
                      "they are lost; the next start may page those alerts again",
                      alerts, notifications, self._db.path, self._db.failing)

    def close(self) -> None:
        """Release connections, the server and the state file (stop() does this too)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._server and self._started:
            self._server.stop()
        self._running = False
        self._failed.set()  # ends the supervisor
        self._evaluator.close()
        self._db.close()

    def __enter__(self) -> Watchdog:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _begin(self) -> None:
        """Once: resolve alerts left in the state file by rules that are gone. Only the leader of a
        shared state evaluates: check() beside a running replica would page twice."""
        if not self._db.lead():
            raise StateError(f"state {self._db.path} is in use by another watchdog that evaluates and sends; "
                             "stop it or use a state of your own")
        if not self._begun:
            self._begun = True
            with self._lock:
                self._book.begin()
                self._apply(self._book.retire(self._clock()))
            self._persist()

    def _submit(self, units: list[Unit]) -> None:
        """Units that fell due together, to the evaluator together; one still running is skipped."""
        ready = []
        for unit in units:
            if unit.busy.acquire(blocking=False):
                ready.append(unit)
                continue
            for probe in unit.probes:
                self.ledger.skipped(probe.rule.name, probe.rule.target)
            log.warning("%s on %s: still running when due again, this evaluation is skipped (raise its interval "
                        "or statement_timeout is too long)", unit.name, unit.target)
        for future in self._evaluator.submit(ready, self._finished):
            with self._lock:
                self._inflight.add(future)
            future.add_done_callback(self._done)

    def _done(self, future: Future[list[Outcome]]) -> None:
        with self._lock:
            self._inflight.discard(future)

    def _finished(self, outcome: Outcome) -> None:
        """A unit's outcome from the evaluator: into the ledger and the alert lifecycle; the unit may run again."""
        try:
            self._record(outcome.unit, outcome.results, attempt=outcome.connected, down=outcome.down)
        except Exception:  # a bug here must show in the log, and must not keep the unit busy forever
            log.exception("internal error recording %s on %s", outcome.unit.name, outcome.unit.target)
        finally:
            outcome.unit.busy.release()

    def _split(self, unit: Unit, error: str) -> None:
        """A batch's shared query failed with an SQL error: from now on its members run one by one."""
        log.warning("the shared query of %s on %s failed (%s); they run one by one from now on", unit.name, unit.target, error)
        self.ledger.batch_split(unit.target)

    def _record(self, unit: Unit, results: list[Result], attempt: bool | None, down: str | None = None) -> None:
        """Ledger first (metrics), then the alert lifecycle; nothing of a unit a reload dropped.

        `attempt`: whether a connection to the target worked (None: none was tried, the pool answered
        from a recent failure); `down`: why the target is unreachable, when it is. Results are capped
        here (watchdog.runtime.limits), for metrics, logs, pages and the state file alike."""
        results = [cap_result(result) for result in results]
        target = unit.target
        now = self._clock()
        with self._lock:  # a reload swaps the rules under this lock: a result lands wholly before or is dropped
            if self._closed:
                return
            if id(unit) not in self._current:
                log.debug("results of %s on %s dropped: the rule file was reloaded while it ran", unit.name, target)
                return
            for result in results:
                previous = self.ledger.record(result)
                if down is None:  # an unreachable target is logged once, not once per rule
                    self._log_transition(previous, result)
            changes = Changes()
            if attempt is not None:
                if self.ledger.target(target, attempt) is not attempt:
                    (log.info if attempt else log.error)("target %s is %s", target, "reachable" if attempt else f"down: {down}")
                changes.extend(self._book.connection(target, attempt, now, down))
            for result in results:
                changes.extend(self._book.observe(result, unreachable=down is not None))
            self._apply(changes)
        self._persist()

    def _tick(self) -> None:
        """Note which rules are silenced (the gauge, a log line when a silence starts or ends), re-send
        firing alerts that are due (repeat_interval, Alertmanager's resend; a page held back by a
        silence that has ended), raise
        `rule_stale` for rules left unevaluated, retry what the state file could not take."""
        with self._lock:
            if self._closed:
                return
            now = self._clock()
            silenced = silenced_rules(self.plan.rule_file, self.plan.rules, now)
            self._silence_log.update(silenced)
            self.ledger.silenced(silenced)
            self._apply(self._book.repeats(now))
            self._apply(self._book.stale(now))
        self._persist()

    def _apply(self, changes: Changes) -> None:
        """Under self._lock: queue what changed, in the order it changed, for _persist()."""
        for alert in changes.held:
            log.info("alert %s firing on %s: not paged while silenced (pages once the silence ends)", alert.alertname, alert.target)
        if changes.saved or changes.deleted or changes.outgoing:
            self._queue.append((changes, [self._book.severity(o.alert) for o in changes.outgoing]))

    def _persist(self) -> None:
        """Render the queued changes' notifications, then write alert state and notifications in one
        transaction, in the order the changes were made; never under self._lock."""
        with self._persisting:
            for attempt in range(2):  # a second round raises or clears state_unwritable after this write
                with self._lock:
                    self._apply(self._book.state_file(self._db.failing, self._db.path, self._clock()))
                    queued, self._queue = self._queue, []
                if attempt and not queued:
                    return
                self._stage_and_write(queued)

    def _stage_and_write(self, queued: list[tuple[Changes, list[str]]]) -> None:
        rendered = [(changes, [(o, compose(o, self._rules, severity)) for o, severity in zip(changes.outgoing, severities)])
                    for changes, severities in queued]
        with self._db.lock:
            if self._closed:
                return
            for changes, notifications in rendered:
                for outgoing, notification in notifications:
                    for name in outgoing.notifiers:
                        self._outbox.stage(name, notification)
                self._store.stage(changes.saved, changes.deleted)
            self._write()
        for _, notifications in rendered:
            for outgoing, notification in notifications:
                if not outgoing.repeat:
                    log.info("alert %s %s on %s: %s", outgoing.alert.alertname, outgoing.status, outgoing.alert.target,
                             notification.summary)

    def _write(self) -> None:
        """One transaction for every staged alert change and notification (the state file's lock held)."""
        if not (self._store.unsynced or self._outbox.unsynced or self._db.failing):
            return
        try:
            with self._db.transaction() as conn:
                self._store.write(conn)
                inserted = self._outbox.write(conn)
        except self._db.Error as exc:
            self._db.failed("writing alert state and notifications", exc)
            return
        self._store.written()
        self._outbox.written(inserted)
        self._db.recovered()

    def _log_transition(self, previous: Result | None, result: Result) -> None:
        was_error = previous is not None and previous.status == "error"
        if result.status == "error" and not was_error:
            log.warning("rule %s on %s: probe failed: %s", result.rule, result.target, result.error)
        elif was_error and result.status != "error":
            log.info("rule %s on %s: probe runs again", result.rule, result.target)

    def wait_failure(self, timeout: float | None = None) -> str | None:
        """Block until a thread of the running watchdog dies (or it is closed, or `timeout`); returns
        what died. `watchdog run` then exits non-zero, so systemd or Kubernetes restarts it."""
        self._failed.wait(timeout)
        return self.failure

    def _supervise(self, every: float = 0.5) -> None:
        """While running: a scheduler or notifier thread that died ends the watchdog loudly."""
        while not self._failed.wait(every):
            if not self._running:
                continue
            if not self._leading:
                if self._db.lead():
                    log.info("taking over: this watchdog evaluates and sends on state %s from now on", self._db.path)
                    try:
                        self._take_over()
                    except StateError as exc:
                        self.failure = str(exc)
                        log.critical("%s; stopping", self.failure)
                        self._failed.set()
                continue
            dead = [name for name, alive in (("scheduler", self._scheduler.alive), ("notifier", self._dispatcher.alive))
                    if not alive]
            reason = f"the {' and '.join(dead)} thread died" if dead else None
            if reason is None and not self._db.lead():
                reason = f"lost the lead on state {self._db.path} (its connection dropped; another replica may lead now)"
            if reason is not None and self._running:
                self.failure = reason
                log.critical("%s; stopping, so that the supervisor (systemd, Kubernetes) restarts watchdog", self.failure)
                self._failed.set()

    def _healthy(self) -> list[str]:
        """What is wrong, for /-/healthy (nothing: healthy)."""
        problems = [self.failure] if self.failure else []
        if self._leading and not self._scheduler.alive:
            problems.append("the scheduler is not running")
        if self._leading and not self._dispatcher.alive:
            problems.append("a notifier thread is not running")
        failing = self._db.failing
        if failing:
            problems.append(f"state {self._db.path}: {failing}")
        with self._lock:
            stale = self._book.stale_rules()
        if stale:
            problems.append("not evaluated for 2 intervals: " + ", ".join(stale))
        return problems

    def _ready(self) -> bool:
        return self._scheduler.alive and len(self.ledger.results()) == len(self._rules)

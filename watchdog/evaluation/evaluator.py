"""The evaluator every command uses: units run on per-target pools, at most `pool_size` at a time.

- `evaluate(units)`: every unit once, in parallel across the targets' connections (`check`,
  `check --wait`, the demo): a target's units drained by at most `pool_size` connections in
  chunks (`Chunks`), each chunk's statements sent together (one round trip per round on
  PostgreSQL).
- `submit(units, done)`: the same in the background (`watchdog run`'s scheduler, with the units
  that fall due together; `run --once` and `Watchdog.check()`, with all).
- `explain(unit, ...)`: the plan of a unit's query through the same pool and connection settings.

One treatment of a target that cannot be reached: its units' rules get the same error result
("target 'main' unreachable: ...") and the outcome says so (the runtime counts it for
`target_down`). A pooled connection found dead is replaced and the unit tried once more on a new
one, so a database restart is a reconnect, not an error for every rule. A database that does not
answer at all is given up on at statement_timeout plus a grace (client-side deadline): the
probe's rules get an error and the target counts as down. `close()` cancels what still runs.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime
from dataclasses import dataclass, replace

from watchdog.config.model import Target
from watchdog.evaluation.chunks import Chunks
from watchdog.evaluation.deadlines import Deadlines
from watchdog.evaluation.explain import LARGE_TABLE, Explanation, explain_item
from watchdog.evaluation.execute import Clock, Results, error_result, run_units, timeout_of, utc_now
from watchdog.evaluation.pool import Connector, Pool, TargetUnreachable
from watchdog.compiler.probe import Probe
from watchdog.evaluation.units import Unit, plan_units
from watchdog.probing.clock import shifted
from watchdog.probing.connection import Connection, ProbeFailure, Statement, connect
from watchdog.probing.dsn import scrub
from watchdog.results.model import Result

log = logging.getLogger("watchdog.evaluation")

#: Beyond statement_timeout, how long a database that sends nothing back is waited for.
HUNG_GRACE = 5.0


@dataclass
class Outcome:
    """A unit's results and what was learnt of its target: `connected` True (a connection worked),
    False (an attempt failed), None (none was tried: the pool answered from a recent failure);
    `down` says why the target is unreachable, when it is."""

    unit: Unit
    results: list[Result]
    connected: bool | None
    down: str | None = None


def _log_split(unit: Unit, error: str) -> None:
    log.warning("the shared query of %s on %s failed (%s); they run one by one from now on", unit.name, unit.target, error)


class _Workers:
    """`size` daemon threads for one target: a probe stuck on a dead socket never holds the exit."""

    def __init__(self, name: str, size: int) -> None:
        self._queue: queue.SimpleQueue[tuple[Callable[[], list[Outcome]], Future[list[Outcome]]] | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._loop, name=f"watchdog-{name}-{i}", daemon=True) for i in range(size)]
        for thread in self._threads:
            thread.start()

    def submit(self, work: Callable[[], list[Outcome]]) -> Future[list[Outcome]]:
        future: Future[list[Outcome]] = Future()
        self._queue.put((work, future))
        return future

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)

    def _loop(self) -> None:
        while (job := self._queue.get()) is not None:
            work, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                future.set_exception(exc)


class Evaluator:
    def __init__(self, targets: Mapping[str, Target], *, connector: Connector = connect, clock: Clock = utc_now,
                 secrets: Iterable[str] = (), on_split: Callable[[Unit, str], None] = _log_split,
                 hung_grace: float = HUNG_GRACE) -> None:
        self.targets = dict(targets)
        self._connector = connector
        self._clock = clock
        self._skews: dict[str, int] = {}  # target -> the skew last logged, in whole seconds
        self._secrets = frozenset(secrets)
        self._on_split = on_split
        self._hung_grace = hung_grace
        self._pools: dict[str, Pool] = {}
        self._workers: dict[str, _Workers] = {}
        self._lock = threading.Lock()
        self._running: set[Connection] = set()
        self._hung: set[int] = set()
        self._deadlines = Deadlines()
        self._closed = False

    # -- entry points -------------------------------------------------------------------------
    def evaluate(self, probes: Sequence[Probe], units: Sequence[Unit] | None = None) -> list[Result]:
        """Every probe once, each target's units drained by at most pool_size connections in
        parallel (Chunks); results in the order of `probes`. `units`: plan_units(probes), when the
        caller keeps them from one evaluation to the next."""
        units = plan_units(probes) if units is None else units
        by_target = _by_target(units)
        # A target with one connection is drained by the calling thread itself (no hand-off to a
        # worker), after the workers were given the others.
        order = sorted(by_target, key=lambda target: self.targets[target].pool_size == 1)
        futures = [f for target in order for f in self._spawn(target, by_target[target], None,
                                                              here=self.targets[target].pool_size == 1)]
        by_probe = {id(p): r for future in futures for outcome in future.result()
                    for p, r in zip(outcome.unit.probes, outcome.results)}
        return [by_probe[id(p)] for p in probes]

    def submit(self, units: Sequence[Unit], done: Callable[[Outcome], None] | None = None) -> list[Future[list[Outcome]]]:
        """Every unit in the background: each target's units drained by at most pool_size of its
        workers (Chunks); `done` is called there with each outcome (`watchdog run`'s scheduler, with
        the units that fell due together; `Watchdog.check()`, with all)."""
        by_target = _by_target(units)
        return [f for target, found in by_target.items() for f in self._spawn(target, found, done, here=False)]

    def _spawn(self, target: str, units: list[Unit], done: Callable[[Outcome], None] | None,
               here: bool) -> list[Future[list[Outcome]]]:
        """Drains of one target's `units`: in the calling thread (`here`) or on the target's workers.
        Units whose target a reload removed (they were due as the reload happened) are not run:
        their outcomes are errors, at once, in the calling thread."""
        try:
            pool = self._pool(target)  # bound now: work queued before a reload finishes on the pool it was queued for
            workers = None if here else self._workers_for(target)
        except _Gone:
            now = self._clock()
            gone = [Outcome(unit, [error_result(p, f"target '{target}' is no longer in the rule file", now)
                                   for p in unit.probes], None) for unit in units]
            for outcome in gone:
                if done is not None:
                    done(outcome)
            return [_completed(gone)]
        queue = Chunks(units, pool.target.pool_size)
        if workers is None:
            return [_completed(self._drain(queue, pool, done))]
        return [workers.submit(lambda: self._drain(queue, pool, done)) for _ in range(queue.connections)]

    def _drain(self, queue: Chunks, pool: Pool, done: Callable[[Outcome], None] | None) -> list[Outcome]:
        """Chunks of `queue`, one after another on one pooled connection, until none is left or the
        evaluator is closed (a stopping daemon starts nothing more)."""
        outcomes: list[Outcome] = []
        while not self._closed and (chunk := queue.take()):
            found = self.run_many(chunk, pool)
            for outcome in found:
                if done is not None:
                    done(outcome)
            outcomes += found
        return outcomes

    def run_many(self, units: Sequence[Unit], pool: Pool | None = None) -> list[Outcome]:
        """Units of one target now, in the calling thread, on one pooled connection: their
        statements go out together (run_units). Never raises: the database's failures are error
        results, and so is a bug of ours (logged with its traceback)."""
        try:
            return self._attempt(units, self._pool(units[0].target) if pool is None else pool, retry=True)
        except Exception as exc:  # noqa: BLE001 - a bug here must show on the rules, never stop one silently
            log.exception("internal error evaluating %s on %s", "; ".join(u.name for u in units), units[0].target)
            now = self._clock()
            return [Outcome(unit, [error_result(p, f"internal error: {type(exc).__name__}", now) for p in unit.probes], None)
                    for unit in units]

    def explain(self, unit: Unit, large: int = LARGE_TABLE) -> Explanation:
        """The plan of the query the unit runs, on one of its target's pooled connections, with the
        same settings and bound parameters; raises ProbeFailure when there is none to be had."""
        target = self.targets[unit.target]
        with self.session(unit.target) as conn:
            now = self._clock_for(conn, unit.target)()
            return explain_item(conn, unit.batch or unit.probes[0], now, timeout_of(unit.probes, target), large)

    @contextmanager
    def session(self, target: str) -> Iterator[Connection]:
        """One of the target's pooled connections for work beside the units (`check`'s look at the
        role), so that work opens no session of its own; raises ProbeFailure when there is none."""
        with self._pool(target).connection() as conn:
            yield conn

    def close(self, cancel_grace: float = 1.0) -> None:
        """Cancel the statements under way and close the pools (idle connections now, busy ones as
        they come back). A cancel request needs the server to answer; one that does not (frozen) is
        given `cancel_grace`, then its connection is aborted, so closing never hangs."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        cancels = [threading.Thread(target=conn.cancel, name="watchdog-cancel", daemon=True) for conn in running]
        for thread in cancels:
            thread.start()
        for conn, thread in zip(running, cancels):
            thread.join(cancel_grace)
            if thread.is_alive():
                conn.abort()
        for workers in self._workers.values():
            workers.stop()
        for pool in self._pools.values():
            pool.close()
        self._deadlines.stop()

    def retarget(self, targets: Mapping[str, Target], secrets: Iterable[str] = ()) -> list[str]:
        """A reload: targets whose settings changed (DSN, timeouts, pool_size, tables) or that are
        gone lose their pool and workers; the old pool closes its connections as the probes under
        way give them back, and the old workers end after the work queued on them. Unchanged
        targets keep theirs. Returns the names of the targets whose pool was dropped."""
        with self._lock:
            dropped = [name for name in self.targets if _settings(self.targets[name]) != _settings(targets.get(name))]
            self.targets = dict(targets)
            self._secrets |= frozenset(secrets)
            pools = [self._pools.pop(name) for name in dropped if name in self._pools]
            workers = [self._workers.pop(name) for name in dropped if name in self._workers]
        for old in workers:
            old.stop()
        for pool in pools:
            pool.close()
        return dropped

    # -- internals ----------------------------------------------------------------------------
    def _pool(self, name: str) -> Pool:
        with self._lock:
            if name not in self.targets:
                raise _Gone(name)
            if name not in self._pools:
                self._pools[name] = Pool(self.targets[name], self._connector)
            return self._pools[name]

    def _workers_for(self, name: str) -> _Workers:
        with self._lock:
            if name not in self.targets:
                raise _Gone(name)
            if name not in self._workers:
                self._workers[name] = _Workers(name, self.targets[name].pool_size)
            return self._workers[name]

    def _attempt(self, units: Sequence[Unit], pool: Pool, retry: bool) -> list[Outcome]:
        try:
            with pool.connection() as conn:
                fresh = pool.fresh(conn)
                try:
                    results = self._guarded(conn, units, pool.target)
                except ProbeFailure as exc:  # the session died under the units
                    if retry and not fresh and id(conn) not in self._hung:
                        conn.broken = True
                        raise _Retry() from None
                    return [self._unreachable(unit, str(exc), attempted=True) for unit in units]
        except _Retry:
            return self._attempt(units, pool, retry=False)
        except TargetUnreachable as exc:
            return [self._unreachable(unit, str(exc), attempted=exc.attempted) for unit in units]
        return [Outcome(unit, [found[id(p)] for p in unit.probes], True) for unit, found in zip(units, results)]

    def _guarded(self, conn: Connection, units: Sequence[Unit], target: Target) -> list[Results]:
        """run_units, each round trip under a client-side deadline: past it the connection is aborted."""
        waited: list[float] = []

        @contextmanager
        def deadline(statements: Sequence[Statement]) -> Iterator[None]:
            limit = sum(s.timeout for s in statements) + self._hung_grace  # what the server may take, and a grace
            waited.append(limit)

            def give_up() -> None:
                self._hung.add(id(conn))
                log.error("target %s sent nothing back for %gs (statement_timeout is %gs): giving up on %s",
                          units[0].target, limit, max(s.timeout for s in statements), "; ".join(u.name for u in units))
                conn.abort()
            handle = self._deadlines.add(limit, give_up)
            try:
                yield
            finally:
                self._deadlines.clear(handle)

        with self._lock:
            self._running.add(conn)
        try:
            return run_units(conn, units, target, self._clock_for(conn, units[0].target), self._secrets, self._on_split,
                             deadline)
        except ProbeFailure as exc:
            if id(conn) in self._hung:
                raise ProbeFailure(f"no answer from the database within {waited[-1]:g}s (it may be frozen or "
                                   f"unreachable); the connection was dropped", "connection") from None
            raise exc
        finally:
            with self._lock:
                self._running.discard(conn)

    def _clock_for(self, conn: Connection, target: str) -> Clock:
        """Time windows on the database's clock where it differs from ours (watchdog.probing.clock)."""
        skew = getattr(conn, "skew", 0.0)
        if skew and self._skews.get(target) != round(skew):
            self._skews[target] = round(skew)
            log.warning("target %s: the database's clock is %s this host's by %.1fs; its time windows use the "
                        "database's clock (fix NTP on one of them)", target, "ahead of" if skew > 0 else "behind", abs(skew))
        return shifted(self._clock, skew)

    def _unreachable(self, unit: Unit, error: str, attempted: bool) -> Outcome:
        cause = scrub(error, self._secrets)
        now: datetime = self._clock()
        return Outcome(unit, [error_result(p, f"target '{unit.target}' unreachable: {cause}", now) for p in unit.probes],
                       False if attempted else None, cause)


def _by_target(units: Sequence[Unit]) -> dict[str, list[Unit]]:
    found: dict[str, list[Unit]] = {}
    for unit in units:
        found.setdefault(unit.target, []).append(unit)
    return found


def _completed(outcomes: list[Outcome]) -> Future[list[Outcome]]:
    future: Future[list[Outcome]] = Future()
    future.set_result(outcomes)
    return future


def _settings(target: Target | None) -> Target | None:
    """What a target's pool is made from: everything but where it is written in the file."""
    return None if target is None else replace(target, location=None)


class _Gone(Exception):
    """The target is no longer in the rule file: a reload removed it."""


class _Retry(Exception):
    """The pooled connection was found dead: try the unit once more on a new one."""


def evaluate(probes: Sequence[Probe], targets: Mapping[str, Target], *, connector: Connector = connect,
             clock: Clock = utc_now, secrets: Iterable[str] = ()) -> list[Result]:
    """Every probe once through a short-lived Evaluator (its pools closed after)."""
    evaluator = Evaluator(targets, connector=connector, clock=clock, secrets=secrets)
    try:
        return evaluator.evaluate(probes)
    finally:
        evaluator.close()

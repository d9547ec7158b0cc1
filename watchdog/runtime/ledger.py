"""What the runtime has seen: last results, targets' reachability, counters and probe durations.

Workers write it after each probe; a scrape reads a snapshot of it and never runs SQL. It also
keeps each (rule, target)'s last HISTORY evaluations in memory, for the status page's sparkline.
"""
from __future__ import annotations

import bisect
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from watchdog.config.model import Rule
from watchdog.results.model import Result

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
NOTIFY_RESULTS = ("sent", "retry", "failed")
HISTORY = 60


@dataclass(frozen=True)
class Evaluation:
    """One past evaluation, as the status page draws it."""

    status: str
    value: float | None
    at: datetime


@dataclass
class Histogram:
    """Cumulative-ready bucket counts: counts[i] observations <= DURATION_BUCKETS[i], last one +Inf."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(DURATION_BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, int]]:
        running, out = 0, []
        for bound, count in zip([*map(str, DURATION_BUCKETS), "+Inf"], self.counts):
            running += count
            out.append((bound, running))
        return out


@dataclass
class RuleLine:
    """One (rule, target): its latest result and the latest one that ran (what violations keep)."""

    rule: Rule
    latest: Result | None = None
    last_ran: Result | None = None
    errors: int = 0
    skipped: int = 0
    durations: Histogram = field(default_factory=Histogram)
    history: deque[Evaluation] = field(default_factory=lambda: deque(maxlen=HISTORY))


@dataclass(frozen=True)
class Snapshot:
    rules: tuple[RuleLine, ...]
    targets: dict[str, bool]
    notifications: dict[tuple[str, str], int]
    splits: dict[str, int]
    state_errors: int = 0
    silenced: frozenset[tuple[str, str]] = frozenset()
    reload: Reload | None = None


@dataclass(frozen=True)
class Reload:
    """How the last reload of the rule file went; `success_at` (Unix time) is the last one that
    took (the start counts as one), as Prometheus reports its own configuration reloads."""

    successful: bool
    success_at: float


class Ledger:
    """`changed` is set on every write, for whoever renders from it (the /metrics renderer)."""

    def __init__(self, rules: Iterable[Rule], notifiers: Iterable[str], loaded_at: float | None = None) -> None:
        self._lock = threading.Lock()
        self.changed = threading.Event()
        self._rules = {(r.name, r.target): RuleLine(r) for r in rules}
        self._targets: dict[str, bool] = {}
        self._notifications = {(n, result): 0 for n in notifiers for result in NOTIFY_RESULTS}
        self._splits = {line.rule.target: 0 for line in self._rules.values()}
        self._state_errors = 0
        self._silenced: frozenset[tuple[str, str]] = frozenset()
        self._reload = None if loaded_at is None else Reload(True, loaded_at)

    def retain(self, rules: Iterable[Rule], notifiers: Iterable[str], changed_targets: Iterable[str]) -> None:
        """A reload took: the lines of rules still there keep their results and counters (under
        their new definition), new rules start empty, removed rules and targets leave /metrics;
        a target whose settings changed is unknown again until it is next tried."""
        with self._lock:
            self._rules = {(r.name, r.target): replace(self._rules[(r.name, r.target)], rule=r)
                           if (r.name, r.target) in self._rules else RuleLine(r) for r in rules}
            targets = {line.rule.target for line in self._rules.values()}
            self._targets = {name: up for name, up in self._targets.items() if name in targets and name not in changed_targets}
            self._splits = {name: self._splits.get(name, 0) for name in targets}
            self._notifications = {(n, result): self._notifications.get((n, result), 0)
                                   for n in notifiers for result in NOTIFY_RESULTS}
        self.changed.set()

    def reloaded(self, successful: bool, at: float) -> None:
        with self._lock:
            self._reload = Reload(True, at) if successful else Reload(False, self._reload.success_at if self._reload else 0.0)
        self.changed.set()

    def record(self, result: Result) -> Result | None:
        """Keep `result`; returns the rule's previous result (to log transitions)."""
        with self._lock:
            line = self._rules.get((result.rule, result.target))
            if line is None:  # the rule left the file with a reload while it was being evaluated
                return None
            previous, line.latest = line.latest, result
            line.durations.observe(result.duration_seconds)
            line.history.append(Evaluation(result.status, result.value, result.evaluated_at))
            if result.status == "error":
                line.errors += 1
            else:
                line.last_ran = result
        self.changed.set()
        return previous

    def target(self, name: str, up: bool) -> bool | None:
        """Keep whether `name` answered; returns what was known before (None: nothing yet)."""
        with self._lock:
            previous, self._targets[name] = self._targets.get(name), up
        self.changed.set()
        return previous

    def skipped(self, rule: str, target: str) -> None:
        with self._lock:
            line = self._rules.get((rule, target))
            if line is not None:
                line.skipped += 1
        self.changed.set()

    def batch_split(self, target: str) -> None:
        """A batch query of `target` failed and was split into its rules' own probes."""
        with self._lock:
            self._splits[target] = self._splits.get(target, 0) + 1
        self.changed.set()

    def notified(self, notifier: str, result: str) -> None:
        with self._lock:
            key = (notifier, result)
            self._notifications[key] = self._notifications.get(key, 0) + 1
        self.changed.set()

    def state_failed(self) -> None:
        """A write to (or read of) the state file failed."""
        with self._lock:
            self._state_errors += 1
        self.changed.set()

    def silenced(self, rules: Iterable[tuple[str, str]]) -> None:
        """The (rule, target) pairs a silence quiets now (the runtime's tick says)."""
        with self._lock:
            self._silenced = frozenset(rules)
        self.changed.set()

    def results(self) -> list[Result]:
        """The latest result of every rule evaluated so far."""
        with self._lock:
            return [line.latest for line in self._rules.values() if line.latest is not None]

    def history(self, rule: str, target: str) -> tuple[Evaluation, ...]:
        """The last HISTORY evaluations of `rule` on `target`, oldest first (not in snapshot(): a
        scrape has no use for it)."""
        with self._lock:
            line = self._rules.get((rule, target))
            return tuple(line.history) if line else ()

    def snapshot(self) -> Snapshot:
        with self._lock:
            lines = tuple(RuleLine(line.rule, line.latest, line.last_ran, line.errors, line.skipped,
                                   Histogram(list(line.durations.counts), line.durations.total))
                          for line in self._rules.values())
            return Snapshot(lines, dict(self._targets), dict(self._notifications), dict(self._splits), self._state_errors,
                            self._silenced, self._reload)

"""The alert lifecycle of `watchdog run`: pending -> firing -> resolved, per (alertname, rule, target).

Pure bookkeeping, so it can be tested with fake clocks: it is told what happened and when, and
answers with what changed and which notifications to send; the caller persists and delivers.
Times shown (`since`, `sent`, a resolve's end) are wall-clock; how long an alert has lasted and
when it repeats are measured on the monotonic clock, so a step of the wall clock (NTP, a VM
resumed) neither delays nor hastens `for` and repeats. Changes are reported only when something
a restart needs changes (a new alert, firing, an error, a repeat sent), not at every evaluation:
the evidence of an alert is written when it changes state, and kept in memory in between.

- A rule's own alert (alertname = the rule): violated -> pending; violated for `for` -> firing;
  holds -> resolved (a pending alert just ends). A probe that could not run changes nothing: it
  neither fires nor resolves the alert.
- `probe_failing`: the rule's probe failed `error_threshold` times in a row. Failures because
  the target is unreachable do not count; `target_down` covers those, so one outage pages once.
- `target_down`: that many connection attempts to the target failed in a row (threshold: the
  lowest `error_threshold` of its rules).
- `rule_stale`: the rule has not been evaluated for 2 of its intervals (a probe that hangs, a
  scheduler that fell behind): nobody is checking it.
- `state_unwritable`: the state file cannot be written; alerts and notifications are kept in
  memory meanwhile, and are lost if the process ends before it can be written again.

A firing alert is re-sent to each notifier every `repeat_interval`, or more often where the
notifier needs it (Alertmanager's resend interval). An acknowledged alert (watchdog.runtime.acks)
is not repeated until its ack expires (then repeats resume and the ack is dropped) or it resolves;
only the resends a notifier needs to keep the alert alive (Alertmanager's) go on, carrying the ack.

Silences (the `quiet` predicate, asked at each send with the rule file of the moment): a silenced
alert goes pending and firing as usual and is kept in the state, but no firing page and no repeat
goes out. The first tick after its silence ends, a still-firing alert pages once (a firing page,
not a repeat) and then repeats on its interval. An alert that fired inside a silence and resolves
before anyone was paged sends no resolved either; one paged before its silence began does, so the
receiver's incident is closed.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from watchdog.config.model import Rule
from watchdog.notify.message import fingerprint_of
from watchdog.results.model import Result
from watchdog.runtime.acks import Ack

PROBE_FAILING = "probe_failing"
TARGET_DOWN = "target_down"
RULE_STALE = "rule_stale"
STATE_UNWRITABLE = "state_unwritable"
STALE_INTERVALS = 2
SEVERITY_ORDER = ("info", "warning", "critical")


def _monotonic() -> float:
    return time.monotonic()  # looked up at each call, so freezegun's clock moves it in tests


@dataclass(frozen=True)
class Alert:
    """One alert's state. `evidence` is the latest result behind it (for notifications and restarts)."""

    alertname: str
    rule: str
    target: str
    state: str
    since: datetime
    evidence: Result | None = None
    error: str | None = None
    sent: Mapping[str, datetime] = field(default_factory=dict)
    ack: Ack | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.alertname, self.rule, self.target)

    @property
    def firing(self) -> bool:
        return self.state == "firing"


# Whether a silence quiets an alert at an instant; asked at each send, so the rule file of the moment decides.
Quiet = Callable[[Alert, datetime], bool]


def _never(alert: Alert, now: datetime) -> bool:
    return False


@dataclass(frozen=True)
class Outgoing:
    """A notification to send: `alert` as it stands, `status` firing or resolved, to `notifiers`."""

    alert: Alert
    status: str
    at: datetime
    notifiers: tuple[str, ...]
    repeat: bool = False


@dataclass
class Changes:
    """What one call changed: alerts to save, fingerprints to forget, notifications to send, and
    alerts that fired but whose page a silence held back (to be logged: quiet is not silent)."""

    saved: list[Alert] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)
    held: list[Alert] = field(default_factory=list)

    def extend(self, other: Changes) -> None:
        self.saved += other.saved
        self.deleted += other.deleted
        self.outgoing += other.outgoing
        self.held += other.held


@dataclass(frozen=True)
class Policy:
    """How one alert behaves: how long before firing, how often to repeat, how loud."""

    for_seconds: float
    repeat_interval: float
    severity: str


class AlertBook:
    """Every alert of one `watchdog run`, keyed by fingerprint. Not thread-safe: the caller locks.

    `alerts` come from the state file; `now` is the wall-clock time they are loaded at, which
    places their start and last sends on the monotonic clock."""

    def __init__(self, rules: Iterable[Rule], resend: Mapping[str, float | None],
                 alerts: Iterable[Alert] = (), now: datetime | None = None,
                 monotonic: Callable[[], float] = _monotonic, quiet: Quiet = _never) -> None:
        self._rules = {(r.name, r.target): r for r in rules}
        self._resend = dict(resend)
        self._monotonic = monotonic
        self._quiet = quiet
        self._alerts: dict[str, Alert] = {}
        self._began: dict[str, float] = {}  # fingerprint -> when it began, monotonic
        self._sent: dict[str, dict[str, float]] = {}  # fingerprint -> notifier -> last sent, monotonic
        mono = monotonic()

        def ago(at: datetime) -> float:
            return 0.0 if now is None else max(0.0, (now - at).total_seconds())

        for alert in alerts:
            self._alerts[alert.fingerprint] = alert
            self._began[alert.fingerprint] = mono - ago(alert.since)
            self._sent[alert.fingerprint] = {name: mono - ago(at) for name, at in alert.sent.items()}
        # Firing alerts nobody was paged about (they fired inside a silence): no resolved without a firing.
        self._unpaged = {a.fingerprint for a in alerts if a.firing and not a.sent and self._resend}
        self._owed = set(self._unpaged)  # firing alerts a silence held back: they page once when it ends
        self._errors: dict[tuple[str, str], int] = {}
        self._connect_failures: dict[str, int] = {}
        self._evaluated = {key: mono for key in self._rules}  # (rule, target) -> last evaluation, monotonic

    def begin(self) -> None:
        """Evaluations start now: staleness counts from here."""
        mono = self._monotonic()
        self._evaluated = {key: mono for key in self._rules}

    @property
    def alerts(self) -> list[Alert]:
        return list(self._alerts.values())

    def get(self, alertname: str, rule: str, target: str) -> Alert | None:
        return self._alerts.get(fingerprint_of(alertname, rule, target))

    def acknowledge(self, rule: str, target: str | None, ack: Ack) -> Changes:
        """Acknowledge the firing alerts of `rule` (on `target`, or on every target): saved, with no
        notification; nothing saved means there was no firing alert to acknowledge."""
        changes = Changes()
        for alert in list(self._alerts.values()):
            if alert.firing and alert.rule == rule and target in (None, alert.target):
                self._alerts[alert.fingerprint] = replace(alert, ack=ack)
                changes.saved.append(self._alerts[alert.fingerprint])
        return changes

    def observe(self, result: Result, unreachable: bool = False) -> Changes:
        """A rule was evaluated at `result.evaluated_at`; `unreachable`: it failed because its target is."""
        now, key = result.evaluated_at, (result.rule, result.target)
        self._evaluated[key] = self._monotonic()
        if result.status == "error" and unreachable:
            # An attempt came back (the scheduler lives; target_down speaks for the target), but the
            # invariant was not checked: an active rule_stale stays until a probe runs again, so a
            # frozen database that hangs probe after probe pages rule_stale once, not on every hang.
            return Changes()
        changes = self._clear(RULE_STALE, result.rule, result.target, now)
        if result.status == "error":
            self._errors[key] = self._errors.get(key, 0) + 1
            if self._errors[key] >= self._rules[key].error_threshold:
                changes.extend(self._raise(PROBE_FAILING, result.rule, result.target, now, result, result.error))
            return changes
        self._errors.pop(key, None)
        changes.extend(self._clear(PROBE_FAILING, result.rule, result.target, now))
        if result.status == "violated":
            changes.extend(self._raise(result.rule, result.rule, result.target, now, result, None))
        else:
            changes.extend(self._clear(result.rule, result.rule, result.target, now))
        return changes

    def connection(self, target: str, ok: bool, now: datetime, error: str | None = None) -> Changes:
        """A connection attempt to `target` succeeded or failed."""
        if ok:
            self._connect_failures.pop(target, None)
            return self._clear(TARGET_DOWN, "", target, now)
        self._connect_failures[target] = self._connect_failures.get(target, 0) + 1
        threshold = min((r.error_threshold for r in self._rules.values() if r.target == target), default=3)
        if self._connect_failures[target] < threshold:
            return Changes()
        return self._raise(TARGET_DOWN, "", target, now, None, error)

    def repeats(self, now: datetime) -> Changes:
        """Firing alerts due again at some notifier (repeat_interval, or the notifier's resend interval)."""
        changes, mono = Changes(), self._monotonic()
        for alert in list(self._alerts.values()):
            if not alert.firing:
                continue
            if alert.ack is not None and not alert.ack.active(now):
                alert = self._alerts[alert.fingerprint] = replace(alert, ack=None)  # repeats resume
                changes.saved.append(alert)
            if self._quiet(alert, now):
                self._owed.add(alert.fingerprint)
                continue
            if alert.fingerprint in self._owed:
                changes.extend(self._page(alert, now))
                continue
            every = math.inf if alert.ack is not None else self._policy(alert).repeat_interval
            sent = self._sent.setdefault(alert.fingerprint, {})
            began = self._began.get(alert.fingerprint, mono)
            due = tuple(name for name, resend in self._resend.items()
                        if mono - sent.get(name, began) >= min(every, resend or math.inf))
            if due:
                sent.update((name, mono) for name in due)
                updated = replace(alert, sent={**alert.sent, **{name: now for name in due}})
                self._alerts[alert.fingerprint] = updated
                changes.saved.append(updated)
                changes.outgoing.append(Outgoing(updated, "firing", now, due, repeat=True))
        return changes

    def stale(self, now: datetime) -> Changes:
        """Raise `rule_stale` for rules not evaluated for STALE_INTERVALS of their interval."""
        changes, mono = Changes(), self._monotonic()
        for (name, target), rule in self._rules.items():
            if mono - self._evaluated.get((name, target), mono) >= STALE_INTERVALS * rule.interval:
                error = f"not evaluated for more than {STALE_INTERVALS} intervals of {rule.interval:g}s"
                changes.extend(self._raise(RULE_STALE, name, target, now, None, error))
        return changes

    def state_file(self, failing: str | None, path: str, now: datetime) -> Changes:
        """Raise `state_unwritable` while the state file cannot be written (`failing` says why); clear it after."""
        if failing is None:
            return self._clear(STATE_UNWRITABLE, "", path, now)
        return self._raise(STATE_UNWRITABLE, "", path, now, None, failing)

    def stale_rules(self) -> list[str]:
        """Rules with a `rule_stale` alert, for /-/healthy."""
        return sorted(f"{a.rule} on {a.target}" for a in self._alerts.values() if a.alertname == RULE_STALE)

    def retire(self, now: datetime) -> Changes:
        """Resolve and forget alerts whose rule or target is no longer in the rule file."""
        targets = {target for _, target in self._rules}
        changes = Changes()
        for alert in list(self._alerts.values()):
            known = (alert.target in targets if alert.alertname == TARGET_DOWN else
                     alert.alertname != STATE_UNWRITABLE and (alert.rule, alert.target) in self._rules)
            if not known:
                changes.extend(self._end(alert, now))
        return changes

    def reconfigure(self, rules: Iterable[Rule], resend: Mapping[str, float | None], changed_targets: Iterable[str]) -> None:
        """A reload: the alerts of rules still in the file keep their state, `for` and repeat timers
        (a changed rule's next evaluation, at once, decides about its alert); a new rule counts as
        evaluated now for `rule_stale`; a target whose settings changed counts its connection
        failures afresh. The alerts of removed rules and targets are retire()d by the caller."""
        self._rules = {(r.name, r.target): r for r in rules}
        self._resend = dict(resend)
        mono = self._monotonic()
        self._evaluated = {key: self._evaluated.get(key, mono) for key in self._rules}
        self._errors = {key: count for key, count in self._errors.items() if key in self._rules}
        targets = {target for _, target in self._rules}
        self._connect_failures = {name: count for name, count in self._connect_failures.items()
                                  if name in targets and name not in changed_targets}

    def _raise(self, alertname: str, rule: str, target: str, now: datetime,
               evidence: Result | None, error: str | None) -> Changes:
        changes, mono = Changes(), self._monotonic()
        current = self.get(alertname, rule, target)
        alert = Alert(alertname, rule, target, "pending", now) if current is None else current
        changed = current is None or error != current.error
        alert = replace(alert, evidence=evidence or alert.evidence, error=error)
        fingerprint = alert.fingerprint
        began = self._began.setdefault(fingerprint, mono)
        if not alert.firing and mono - began >= self._policy(alert).for_seconds:
            if self._quiet(alert, now):
                alert = replace(alert, state="firing", sent={})
                self._sent[fingerprint] = {}
                self._unpaged.add(fingerprint)
                self._owed.add(fingerprint)
                changes.held.append(alert)
            else:
                self._alerts[fingerprint] = alert
                return self._page(alert, now)
            changed = True
        self._alerts[fingerprint] = alert
        if changed:
            changes.saved.append(alert)
        return changes

    def _page(self, alert: Alert, now: datetime) -> Changes:
        """Fire `alert` at every notifier now: it fires, or a silence that held its page back ended."""
        fingerprint = alert.fingerprint
        alert = replace(alert, state="firing", sent={name: now for name in self._resend})
        self._sent[fingerprint] = {name: self._monotonic() for name in self._resend}
        self._unpaged.discard(fingerprint)
        self._owed.discard(fingerprint)
        self._alerts[fingerprint] = alert
        return Changes(saved=[alert], outgoing=[Outgoing(alert, "firing", now, tuple(self._resend))])

    def _clear(self, alertname: str, rule: str, target: str, now: datetime) -> Changes:
        alert = self.get(alertname, rule, target)
        return Changes() if alert is None else self._end(alert, now)

    def _end(self, alert: Alert, now: datetime) -> Changes:
        del self._alerts[alert.fingerprint]
        self._began.pop(alert.fingerprint, None)
        self._sent.pop(alert.fingerprint, None)
        self._owed.discard(alert.fingerprint)
        changes = Changes(deleted=[alert.fingerprint])
        if alert.fingerprint in self._unpaged:
            self._unpaged.discard(alert.fingerprint)
        elif alert.firing:
            changes.outgoing.append(Outgoing(alert, "resolved", now, tuple(self._resend)))
        return changes

    def _policy(self, alert: Alert) -> Policy:
        """A rule alert follows its rule; probe_failing fires at once; target_down takes the
        loudest severity and the shortest repeat of the target's rules."""
        if alert.alertname in (TARGET_DOWN, STATE_UNWRITABLE):
            rules = [r for r in self._rules.values() if alert.alertname == STATE_UNWRITABLE or r.target == alert.target]
            severity = max((r.severity for r in rules), key=SEVERITY_ORDER.index, default="critical")
            return Policy(0.0, min((r.repeat_interval for r in rules), default=4 * 3600.0), severity)
        rule = self._rules.get((alert.rule, alert.target))
        if rule is None:  # retired: the rule left the file while its alert was active
            return Policy(0.0, 4 * 3600.0, alert.evidence.severity if alert.evidence else "warning")
        own = alert.alertname not in (PROBE_FAILING, RULE_STALE)
        return Policy(rule.for_seconds if own else 0.0, rule.repeat_interval, rule.severity)

    def severity(self, alert: Alert) -> str:
        return self._policy(alert).severity

"""The alert lifecycle of `watchdog run`: pending -> firing -> resolved, per (alertname, rule, target).

Pure bookkeeping, so it can be tested with frozen time: it is told what happened and when, and
answers with what changed and which notifications to send; the caller persists and delivers.

- A rule's own alert (alertname = the rule): violated -> pending; violated for `for` -> firing;
  holds -> resolved (a pending alert just ends). A probe that could not run changes nothing: it
  neither fires nor resolves the alert.
- `probe_failing`: the rule's probe failed `error_threshold` times in a row. Failures because
  the target is unreachable do not count; `target_down` covers those, so one outage pages once.
- `target_down`: that many connection attempts to the target failed in a row (threshold: the
  lowest `error_threshold` of its rules).

A firing alert is re-sent to each notifier every `repeat_interval`, or more often where the
notifier needs it (Alertmanager's resend interval).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from watchdog.config.model import Rule
from watchdog.notify.message import fingerprint_of
from watchdog.results.model import Result

PROBE_FAILING = "probe_failing"
TARGET_DOWN = "target_down"
SEVERITY_ORDER = ("info", "warning", "critical")


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

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.alertname, self.rule, self.target)

    @property
    def firing(self) -> bool:
        return self.state == "firing"


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
    """What one call changed: alerts to save, fingerprints to forget, notifications to send."""

    saved: list[Alert] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)

    def extend(self, other: Changes) -> None:
        self.saved += other.saved
        self.deleted += other.deleted
        self.outgoing += other.outgoing


@dataclass(frozen=True)
class Policy:
    """How one alert behaves: how long before firing, how often to repeat, how loud."""

    for_seconds: float
    repeat_interval: float
    severity: str


class AlertBook:
    """Every alert of one `watchdog run`, keyed by fingerprint. Not thread-safe: the caller locks."""

    def __init__(self, rules: Iterable[Rule], resend: Mapping[str, float | None],
                 alerts: Iterable[Alert] = ()) -> None:
        self._rules = {(r.name, r.target): r for r in rules}
        self._resend = dict(resend)
        self._alerts = {a.fingerprint: a for a in alerts}
        self._errors: dict[tuple[str, str], int] = {}
        self._connect_failures: dict[str, int] = {}

    @property
    def alerts(self) -> list[Alert]:
        return list(self._alerts.values())

    def get(self, alertname: str, rule: str, target: str) -> Alert | None:
        return self._alerts.get(fingerprint_of(alertname, rule, target))

    def observe(self, result: Result, unreachable: bool = False) -> Changes:
        """A rule was evaluated at `result.evaluated_at`; `unreachable`: it failed because its target is."""
        now, key = result.evaluated_at, (result.rule, result.target)
        changes = Changes()
        if result.status == "error":
            if unreachable:
                return changes
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
        changes = Changes()
        for alert in list(self._alerts.values()):
            if not alert.firing:
                continue
            every = self._policy(alert).repeat_interval
            due = tuple(name for name, resend in self._resend.items()
                        if now - alert.sent.get(name, alert.since) >= timedelta(seconds=min(every, resend or math.inf)))
            if due:
                updated = replace(alert, sent={**alert.sent, **{name: now for name in due}})
                self._alerts[alert.fingerprint] = updated
                changes.saved.append(updated)
                changes.outgoing.append(Outgoing(updated, "firing", now, due, repeat=True))
        return changes

    def retire(self, now: datetime) -> Changes:
        """Resolve and forget alerts whose rule or target is no longer in the rule file."""
        targets = {target for _, target in self._rules}
        changes = Changes()
        for alert in list(self._alerts.values()):
            known = alert.target in targets if alert.alertname == TARGET_DOWN else (alert.rule, alert.target) in self._rules
            if not known:
                changes.extend(self._end(alert, now))
        return changes

    def _raise(self, alertname: str, rule: str, target: str, now: datetime,
               evidence: Result | None, error: str | None) -> Changes:
        changes = Changes()
        current = self.get(alertname, rule, target)
        alert = Alert(alertname, rule, target, "pending", now) if current is None else current
        alert = replace(alert, evidence=evidence or alert.evidence, error=error)
        policy = self._policy(alert)
        if not alert.firing and now - alert.since >= timedelta(seconds=policy.for_seconds):
            alert = replace(alert, state="firing", sent={name: now for name in self._resend})
            changes.outgoing.append(Outgoing(alert, "firing", now, tuple(self._resend)))
        self._alerts[alert.fingerprint] = alert
        changes.saved.append(alert)
        return changes

    def _clear(self, alertname: str, rule: str, target: str, now: datetime) -> Changes:
        alert = self.get(alertname, rule, target)
        return Changes() if alert is None else self._end(alert, now)

    def _end(self, alert: Alert, now: datetime) -> Changes:
        del self._alerts[alert.fingerprint]
        changes = Changes(deleted=[alert.fingerprint])
        if alert.firing:
            changes.outgoing.append(Outgoing(alert, "resolved", now, tuple(self._resend)))
        return changes

    def _policy(self, alert: Alert) -> Policy:
        """A rule alert follows its rule; probe_failing fires at once; target_down takes the
        loudest severity and the shortest repeat of the target's rules."""
        if alert.alertname == TARGET_DOWN:
            rules = [r for r in self._rules.values() if r.target == alert.target]
            severity = max((r.severity for r in rules), key=SEVERITY_ORDER.index, default="critical")
            return Policy(0.0, min((r.repeat_interval for r in rules), default=4 * 3600.0), severity)
        rule = self._rules.get((alert.rule, alert.target))
        if rule is None:  # retired: the rule left the file while its alert was active
            return Policy(0.0, 4 * 3600.0, alert.evidence.severity if alert.evidence else "warning")
        return Policy(0.0 if alert.alertname == PROBE_FAILING else rule.for_seconds, rule.repeat_interval, rule.severity)

    def severity(self, alert: Alert) -> str:
        return self._policy(alert).severity

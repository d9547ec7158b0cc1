"""What the status page and /api/v1/status show: every rule's state, the active alerts, the targets.

Built from what the runtime already keeps (the ledger's results and history, the alert book), never
by running SQL; typed all the way to the template and the JSON, which share this one model. Every
text that could echo a secret (errors, SQL) is scrubbed here, before anything renders it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from watchdog.config.model import Rule, RuleFile
from watchdog.model.silences import OneOff, Recurring
from watchdog.model.values import Duration
from watchdog.output.listing import probe_listing
from watchdog.plan import Plan
from watchdog.probing.dsn import scrub
from watchdog.results.model import Result, jsonable, utc_iso
from watchdog.runtime.acks import Ack
from watchdog.runtime.alerts import RULE_STALE, Alert, Outgoing
from watchdog.runtime.compose import compose
from watchdog.runtime.ledger import Evaluation, Ledger
from watchdog.schedules.calendar import Interval
from watchdog.silences.active import silences_of

STATES = ("firing", "pending", "silenced", "error", "stale", "unknown", "ok")  # the page's order: worst first


@dataclass(frozen=True)
class SilenceView:
    """One silence as the rule page lists it."""

    name: str
    active: bool
    window: str
    comment: str | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "active": self.active, "window": self.window, "comment": self.comment}


def rule_silences(rule_file: RuleFile, rule: Rule, now: datetime) -> list[SilenceView]:
    """The silences of the rule file that match `rule`, active at `now` or not: the one place the
    status page learns about silences (its `silenced` state and each rule page's list)."""
    return [SilenceView(state.silence.name, state.active, _window_text(state.silence.window, state.window),
                        state.silence.comment)
            for state in silences_of(rule_file.silences, rule, now)]


def _window_text(window: Recurring | OneOff, holding: Interval | None) -> str:
    """How the page says when a silence holds: its rule, and the end of the window holding now."""
    if isinstance(window, Recurring):
        text = f"{window.cron} ({window.timezone}) for {Duration(window.duration)}"
    else:
        text = f"{_utc(window.start)} to {_utc(window.end)}"
    return f"{text}; now, until {_utc(holding.end)}" if holding is not None else text


def _utc(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class AlertView:
    alertname: str
    rule: str
    target: str
    state: str
    severity: str
    since: datetime
    summary: str
    runbook_url: str | None
    violations: int
    value: float | None
    samples: tuple[dict[str, Any], ...]
    error: str | None
    ack: Ack | None
    fingerprint: str

    @property
    def columns(self) -> list[str]:
        """The sample table's header: every key of every row, in the order first seen."""
        return list(dict.fromkeys(key for row in self.samples for key in row))

    def to_json(self) -> dict[str, Any]:
        return {"alertname": self.alertname, "rule": self.rule, "target": self.target, "state": self.state,
                "severity": self.severity, "since": utc_iso(self.since), "summary": self.summary,
                "runbook_url": self.runbook_url, "violations": self.violations, "value": jsonable(self.value),
                "samples": [jsonable(s) for s in self.samples], "error": self.error,
                "ack": self.ack.to_document() if self.ack else None, "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class RuleStatus:
    rule: str
    target: str
    check: str
    severity: str
    state: str
    violations: int | None
    value: float | None
    evaluated_at: datetime | None
    duration_seconds: float | None
    error: str | None
    runbook_url: str | None
    alerts: tuple[AlertView, ...]
    silences: tuple[SilenceView, ...]

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "target": self.target, "check": self.check, "severity": self.severity,
                "state": self.state, "violations": self.violations, "value": jsonable(self.value),
                "last_evaluation": utc_iso(self.evaluated_at) if self.evaluated_at else None,
                "duration_seconds": None if self.duration_seconds is None else round(self.duration_seconds, 6),
                "error": self.error, "runbook_url": self.runbook_url,
                "alerts": [a.fingerprint for a in self.alerts], "silences": [s.to_json() for s in self.silences]}


@dataclass(frozen=True)
class TargetStatus:
    name: str
    state: str  # up | down | unknown (not tried yet)

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "state": self.state}


@dataclass(frozen=True)
class StatusReport:
    generated_at: datetime
    rules: tuple[RuleStatus, ...]
    alerts: tuple[AlertView, ...]  # firing first, then pending; the longest-running first
    targets: tuple[TargetStatus, ...]

    def counts(self) -> dict[str, int]:
        return {state: sum(1 for r in self.rules if r.state == state) for state in STATES}

    def to_json(self) -> dict[str, Any]:
        return {"generated_at": utc_iso(self.generated_at), "counts": self.counts(),
                "alerts": [a.to_json() for a in self.alerts], "rules": [r.to_json() for r in self.rules],
                "targets": [t.to_json() for t in self.targets]}


@dataclass(frozen=True)
class RulePage:
    """One rule on every target it runs on: its SQL, history and status per target."""

    name: str
    statuses: tuple[RuleStatus, ...]
    sql: tuple[str, ...]
    history: Mapping[str, tuple[Evaluation, ...]]  # target -> last evaluations, oldest first


def _alert_view(alert: Alert, severity: str, rules: Mapping[tuple[str, str], Rule], now: datetime,
                secrets: frozenset[str]) -> AlertView:
    summary = compose(Outgoing(alert, "firing", now, ()), rules, severity).summary
    evidence = alert.evidence if alert.alertname == alert.rule else None
    rule = rules.get((alert.rule, alert.target))
    error = alert.error or (alert.evidence.error if alert.evidence else None)
    return AlertView(alert.alertname, alert.rule, alert.target, alert.state, severity, alert.since,
                     scrub(summary, secrets), rule.runbook_url if rule else None,
                     evidence.violations if evidence else 0, evidence.value if evidence else None,
                     evidence.samples if evidence else (), scrub(error, secrets) if error else None,
                     alert.ack, alert.fingerprint)


def _state(latest: Result | None, alerts: Iterable[AlertView], silenced: bool) -> str:
    own = [a for a in alerts if a.alertname == a.rule]
    if any(a.alertname == RULE_STALE for a in alerts):
        return "stale"
    if latest is None:
        return "unknown"
    if latest.status == "error":
        return "error"
    if latest.status == "violated":
        if silenced:
            return "silenced"
        return "firing" if any(a.state == "firing" for a in own) else "pending"
    return "ok"


def build_report(plan: Plan, ledger: Ledger, alerts: Iterable[tuple[Alert, str]], now: datetime,
                 secrets: frozenset[str]) -> StatusReport:
    """`alerts`: the alert book's active alerts, each with its severity."""
    rules = {(r.name, r.target): r for r in plan.rules}
    views = sorted((_alert_view(a, severity, rules, now, secrets) for a, severity in alerts),
                   key=lambda v: (v.state != "firing", v.since))
    snapshot = ledger.snapshot()
    statuses = []
    for line in snapshot.rules:
        rule, latest = line.rule, line.latest
        mine = tuple(v for v in views if v.rule == rule.name and v.target == rule.target)
        silences = tuple(rule_silences(plan.rule_file, rule, now))
        ran = line.last_ran
        statuses.append(RuleStatus(
            rule.name, rule.target, rule.check, rule.severity, _state(latest, mine, any(s.active for s in silences)),
            ran.violations if ran else None, ran.value if ran else None,
            latest.evaluated_at if latest else None, latest.duration_seconds if latest else None,
            scrub(latest.error, secrets) if latest and latest.error else None, rule.runbook_url, mine, silences))
    statuses.sort(key=lambda s: (STATES.index(s.state), s.rule, s.target))
    targets = tuple(TargetStatus(name, {True: "up", False: "down", None: "unknown"}[snapshot.targets.get(name)])
                    for name in sorted(plan.targets))
    return StatusReport(now, tuple(statuses), tuple(views), targets)


def rule_page(report: StatusReport, plan: Plan, ledger: Ledger, name: str, secrets: frozenset[str]) -> RulePage | None:
    """None when no rule of that name runs here."""
    statuses = tuple(s for s in report.rules if s.rule == name)
    if not statuses:
        return None
    expanded = plan.rule_file.expanded
    sql = tuple(scrub(probe_listing(p, expanded), secrets) for p in plan.probes if p.rule.name == name)
    history = {s.target: ledger.history(name, s.target) for s in statuses}
    return RulePage(name, statuses, sql, history)

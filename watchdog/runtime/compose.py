"""From an alert's state change to the Notification every notifier renders.

Summary and description are the rule's own jinja2 templates when it has them (only for the rule's
own alert), else the defaults of watchdog.notify.templates; they see the rule and its result
(capped already) and their output is capped too (watchdog.runtime.limits).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchdog.config.model import Rule
from watchdog.notify.message import Notification
from watchdog.notify.templates import default_templates, render_text
from watchdog.runtime.alerts import Alert, Outgoing
from watchdog.runtime.limits import cap_text


def context(alert: Alert, status: str, rule: Rule | None, severity: str) -> dict[str, Any]:
    """What a summary or description template may use."""
    evidence = alert.evidence
    return {
        "status": status, "alertname": alert.alertname, "rule": alert.rule, "target": alert.target,
        "check": evidence.check if evidence else (rule.check if rule else ""), "severity": severity,
        "violations": evidence.violations if evidence else 0, "value": evidence.value if evidence else None,
        "samples": list(evidence.samples) if evidence else [], "error": alert.error or (evidence.error if evidence else None),
        "labels": dict(rule.labels) if rule else {}, "since": alert.since, "table": rule.table if rule else None,
        "params": dict(rule.params) if rule else {},
    }


def compose(outgoing: Outgoing, rules: Mapping[tuple[str, str], Rule], severity: str) -> Notification:
    alert, status = outgoing.alert, outgoing.status
    rule = rules.get((alert.rule, alert.target))
    own = rule is not None and alert.alertname == rule.name
    ctx = context(alert, status, rule, severity)
    summary_default, description_default = default_templates(alert.alertname, status, alert.rule, retired=rule is None)
    resolved = status == "resolved"
    evidence = alert.evidence if alert.alertname == alert.rule else None
    return Notification(
        status=status, rule=alert.rule, target=alert.target, check=ctx["check"], severity=severity,
        violations=0 if resolved or evidence is None else evidence.violations,
        value=None if resolved or evidence is None else evidence.value,
        samples=() if resolved or evidence is None else evidence.samples,
        summary=cap_text(render_text(rule.summary if own and rule and not resolved else None, summary_default, ctx)),
        description=cap_text(render_text(rule.description if own and rule and not resolved else None, description_default, ctx)),
        runbook_url=rule.runbook_url if rule else None,
        labels=dict(rule.labels) if rule and alert.alertname != "target_down" else {},
        fingerprint=alert.fingerprint, starts_at=alert.since, ends_at=outgoing.at if resolved else None,
        alertname=alert.alertname, ack=alert.ack.to_document() if alert.ack else None,
    )

"""What the reports add to a result from its rule: the rendered `summary`, and which sample
columns lead (the rule's key and the columns the probe computed), so a reader sees first what
identifies a row and why it is in breach."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchdog.config.model import Rule
from watchdog.notify.templates import render_text
from watchdog.results.model import Result

Rules = Mapping[str, Rule]

#: Columns the catalogue's templates and judges compute beside the table's own.
COMPUTED = ("copies", "min_gap_seconds", "age_seconds", "heartbeat_age_seconds", "failed", "total", "ratio",
            "problem", "fire_utc", "fire_local", "detail")


def summary(result: Result, rules: Rules | None) -> str | None:
    """The rule's `summary` rendered for a violated result (what a page would say); else None."""
    rule = rules.get(result.rule) if rules else None
    if rule is None or not rule.summary or result.status != "violated":
        return None
    context: dict[str, Any] = {
        "status": "firing", "alertname": rule.name, "rule": rule.name, "target": result.target, "check": result.check,
        "severity": result.severity, "violations": result.violations, "value": result.value,
        "samples": list(result.samples), "error": result.error, "labels": dict(rule.labels), "since": result.evaluated_at,
        "table": rule.table, "params": dict(rule.params),
    }
    return render_text(rule.summary, "", context) or None


def leading_columns(result: Result, rules: Rules | None) -> tuple[str, ...]:
    """Sample columns to show first: the rule's key or groups, then the computed ones."""
    rule = rules.get(result.rule) if rules else None
    named: list[str] = []
    if rule is not None:
        for key in ("key", "group_by"):
            value = rule.params.get(key) if key in rule.params else getattr(rule, key, None)
            named += [value] if isinstance(value, str) else list(value or ())
    return tuple(dict.fromkeys([*named, "job", "name", *COMPUTED]))

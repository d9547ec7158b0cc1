"""Silences as `watchdog run` applies them: which silences quiet an alert, which rules are silenced
now, and a log line when a rule's silence starts or ends.

Every function takes the rule file of the moment (the plan's, which a reload swaps), never a copy
made at start.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from watchdog.config.model import Rule, RuleFile
from watchdog.model.silences import Silence
from watchdog.runtime.alerts import STATE_UNWRITABLE, TARGET_DOWN, Alert
from watchdog.silences.active import active_silences, matches, target_silences
from watchdog.silences.windows import window_at

log = logging.getLogger("watchdog.run")

RuleKey = tuple[str, str]


def alert_silences(rule_file: RuleFile, alert: Alert, now: datetime) -> list[Silence]:
    """The silences quieting `alert` at `now`: a rule's own alert, its probe_failing and rule_stale
    follow the rule; target_down only silences whose match is the target alone; state_unwritable none."""
    if alert.alertname == STATE_UNWRITABLE:
        return []
    if alert.alertname == TARGET_DOWN:
        return target_silences(rule_file.silences, alert.target, now)
    rule = rule_file.rule(alert.rule)
    if rule is None or rule.target != alert.target:
        return []
    return active_silences(rule_file.silences, rule, now)


def silenced_rules(rule_file: RuleFile, rules: Iterable[Rule], now: datetime) -> dict[RuleKey, tuple[str, ...]]:
    """(rule, target) -> names of the silences quieting it at `now`, for the rules silenced then.
    Each silence's window is placed once, not once per rule: this runs at every tick."""
    holding = [s for s in rule_file.silences if window_at(s, now) is not None]
    out = {}
    for rule in rules:
        names = tuple(s.name for s in holding if matches(s, rule))
        if names:
            out[(rule.name, rule.target)] = names
    return out


class SilenceLog:
    """Remembers which rules were silenced, to log when a rule's silence starts and when it ends."""

    def __init__(self) -> None:
        self._was: dict[RuleKey, tuple[str, ...]] = {}

    def update(self, now_silenced: dict[RuleKey, tuple[str, ...]]) -> None:
        for (rule, target), names in sorted(now_silenced.items()):
            if (rule, target) not in self._was:
                log.info("rule %s on %s: silenced by %s: pages are held back", rule, target, ", ".join(names))
        for (rule, target), names in sorted(self._was.items()):
            if (rule, target) not in now_silenced:
                log.info("rule %s on %s: silence %s ended: pages resume", rule, target, ", ".join(names))
        self._was = dict(now_silenced)

"""Alert text from the rule's `summary` / `description` jinja2 templates, never failing an alert.

Templates are user input: they run in jinja2's sandbox, and a broken one (syntax error, a
filter that raises) yields the default text plus a note saying so, so the alert still goes out.
Missing variables render empty rather than failing.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

log = logging.getLogger(__name__)

_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)

RULE_SUMMARY = {
    "firing": "{{ rule }} on {{ target }}: {{ violations }} violation{{ '' if violations == 1 else 's' }}",
    "resolved": "{{ rule }} on {{ target }} holds again",
}
RULE_DESCRIPTION = {
    "firing": "The {{ check }} check of rule {{ rule }} on target {{ target }} found {{ violations }} "
              "violation{{ '' if violations == 1 else 's' }}{% if value is not none %} (value {{ value }}){% endif %}.",
    "resolved": "The {{ check }} check of rule {{ rule }} on target {{ target }} finds no violation any more.",
}
#: The resolve of an alert whose rule (or target) left the rule file: nobody knows whether it holds.
RETIRED = ("{{ rule }} on {{ target }} is no longer checked: the rule left the rule file",
           "Rule {{ rule }} on target {{ target }} was removed from the rule file (or its target was), so its "
           "alert is closed; whether the invariant holds is no longer checked.")
SYNTHETIC_SUMMARY = {
    "probe_failing": {"firing": "the probe of {{ rule }} on {{ target }} keeps failing: {{ error }}",
                      "resolved": "the probe of {{ rule }} on {{ target }} runs again"},
    "target_down": {"firing": "target {{ target }} is unreachable: {{ error }}",
                    "resolved": "target {{ target }} is reachable again"},
    "rule_stale": {"firing": "{{ rule }} on {{ target }} is not being evaluated: {{ error }}",
                   "resolved": "{{ rule }} on {{ target }} is evaluated again"},
    "state_unwritable": {"firing": "the state file {{ target }} cannot be written: {{ error }}",
                         "resolved": "the state file {{ target }} is written again"},
}
SYNTHETIC_DESCRIPTION = {
    "probe_failing": {"firing": "While the probe fails, the invariant of {{ rule }} is not being checked.",
                      "resolved": "The invariant of {{ rule }} is checked again."},
    "target_down": {"firing": "No rule on {{ target }} is being checked while it is down.",
                    "resolved": "Rules on {{ target }} are checked again."},
    "rule_stale": {"firing": "Its probe hangs or the scheduler fell behind: the invariant of {{ rule }} is not being checked.",
                   "resolved": "The invariant of {{ rule }} is checked again."},
    "state_unwritable": {"firing": "Alert state and notifications are kept in memory until it can be written; "
                                   "a restart meanwhile forgets them.",
                         "resolved": "What was kept in memory is in the state file."},
}


def default_templates(alertname: str, status: str, rule: str = "", retired: bool = False) -> tuple[str, str]:
    """(summary, description) templates for an alert: a rule's own, or `probe_failing` / `target_down`;
    `retired`: its rule is no longer in the rule file."""
    if retired and status == "resolved" and rule:
        return RETIRED
    if alertname in SYNTHETIC_SUMMARY and alertname != rule:
        return SYNTHETIC_SUMMARY[alertname][status], SYNTHETIC_DESCRIPTION[alertname][status]
    return RULE_SUMMARY[status], RULE_DESCRIPTION[status]


@lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    """A template compiled once per source: every notification and report renders the same few,
    and compiling one costs more than rendering it (a broken one raises again on each use)."""
    return _ENV.from_string(source)


def render_text(template: str | None, default: str, context: Mapping[str, Any]) -> str:
    """`template` rendered with `context`, else `default`; never raises."""
    if template:
        try:
            return _compiled(template).render(context).strip()
        except Exception as exc:  # user templates may raise anything from a filter or a call
            reason = f"{type(exc).__name__}: {exc}"[:120] if isinstance(exc, TemplateError) else type(exc).__name__
            log.warning("alert template failed (%s), using the default text", reason)
            return _render_default(default, context) + f" (template failed: {reason})"
    return _render_default(default, context)


def _render_default(default: str, context: Mapping[str, Any]) -> str:
    try:
        return _compiled(default).render(context).strip()
    except Exception:  # the default is ours, but the context is not: fall back to the raw text
        return default

"""A rule's jinja2 `summary` / `description` as a Prometheus alert template (Go text/template).

Only what has a faithful equivalent is translated: the names `violations` (the alert's `$value`),
`value` (a query of the rule's watchdog_rule_value), `rule`, `target`, `check`, `severity`
(static text), each optionally through the `int`, `round(n)` or `float` filter. Anything else
(arithmetic, conditions, other filters) makes `translate` return None and the caller use its
default text, so a generated alert never says something the rule file does not mean.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

from jinja2 import Environment, nodes

from watchdog.config.model import Rule

_ENV = Environment(autoescape=False)


def translate(template: str, rule: Rule) -> str | None:
    """The Prometheus template saying what `template` says about `rule`, or None."""
    parts: list[str] = []
    for node in _ENV.parse(template).body:  # the loader checked the syntax
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            part = _literal(child.data) if isinstance(child, nodes.TemplateData) else _expression(child, rule)
            if part is None:
                return None
            parts.append(part)
    return "".join(parts).strip()


def _literal(text: str) -> str:
    return text.replace("{{", '{{ "{{" }}')


def _expression(node: nodes.Node, rule: Rule) -> str | None:
    fmt: str | None = ""
    if isinstance(node, nodes.Filter):
        fmt = _format(node)
        if fmt is None or node.node is None:
            return None
        node = node.node
    if not isinstance(node, nodes.Name):
        return None
    static: Mapping[str, str] = {"rule": rule.name, "target": rule.target, "check": rule.check, "severity": rule.severity}
    if node.name in static:
        return _literal(static[node.name])
    if node.name == "violations":
        return f"{{{{ $value{fmt} }}}}"
    if node.name == "value":
        return f"{{{{ with query {json.dumps(value_selector(rule))} }}}}{{{{ . | first | value{fmt} }}}}{{{{ end }}}}"
    return None


def _format(node: nodes.Filter) -> str | None:
    """The Go pipeline suffix of a jinja number filter: `| printf "%.Nf"`, or None if unknown."""
    if node.name == "float" and not node.args:
        return ""
    if node.name == "int" and not node.args:
        return ' | printf "%.0f"'
    if node.name == "round" and len(node.args) <= 1 and not node.kwargs:
        digits = node.args[0].value if node.args and isinstance(node.args[0], nodes.Const) else 0
        return f' | printf "%.{digits}f"' if isinstance(digits, int) and 0 <= digits <= 9 else None
    return None


def value_selector(rule: Rule) -> str:
    return f"watchdog_rule_value{_matchers(rule)}"


def violations_selector(rule: Rule) -> str:
    return f"watchdog_rule_violations{_matchers(rule)}"


def _matchers(rule: Rule) -> str:
    return f"{{rule={json.dumps(rule.name)},target={json.dumps(rule.target)}}}"

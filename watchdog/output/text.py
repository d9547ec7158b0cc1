"""The default `watchdog check` output: a table a human reads in a CI log."""
from __future__ import annotations

import json
from collections.abc import Sequence

from watchdog.output.presented import Rules, leading_columns, summary as rendered_summary
from watchdog.results.model import Result, jsonable, summarize

_MARK = {"ok": "ok", "violated": "VIOLATED", "error": "ERROR"}


def _value(result: Result) -> str:
    if result.value is None:
        return "-"
    return f"{result.value:g}" if result.value != int(result.value) else str(int(result.value))


def _elapsed(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.1f}ms" if ms < 10 else f"{ms:.0f}ms"


def _field(name: str, value: object) -> str:
    """name=value; text as it is, structured values (jsonb, arrays) as JSON."""
    plain = jsonable(value)
    shown = plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)
    return f"{name}={shown}"


def _sample(sample: dict[str, object], leading: Sequence[str] = (), width: int = 110) -> str:
    """The row on one line: the leading columns first and whole, then the rest while they fit."""
    first = [name for name in leading if name in sample]
    fields = [_field(name, sample[name]) for name in first]
    text = ", ".join(fields)
    for name in (n for n in sample if n not in first):
        part = _field(name, sample[name])
        if len(text) + len(part) + 2 > width:
            return f"{text}, …" if text else part[: width - 1] + "…"
        text = f"{text}, {part}" if text else part
    return text


def _violated(r: Result, shown_samples: int, rules: Rules | None) -> list[str]:
    """The rule's rendered summary (if it has one) and its first sample rows."""
    said = rendered_summary(r, rules)
    head = f"{r.rule} [{r.target}]: " + (said or f"{r.violations} violation(s)")
    if not r.samples:
        return [head] if said else []
    leading = leading_columns(r, rules)
    return [f"{head}{' - ' if said else ', '}first {min(len(r.samples), shown_samples)}:",
            *(f"    {_sample(s, leading)}" for s in r.samples[:shown_samples])]


def render(results: Sequence[Result], shown_samples: int = 3, rules: Rules | None = None) -> str:
    if not results:
        return "no rules selected\n"
    rows = [("RULE", "TARGET", "CHECK", "STATUS", "VIOLATIONS", "VALUE", "TIME")]
    for r in results:
        rows.append((r.rule, r.target, r.check, _MARK[r.status], str(r.violations), _value(r), _elapsed(r.duration_seconds)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    details = []
    for r in results:
        if r.status == "error":
            details.append(f"{r.rule} [{r.target}]: {r.error}")
        elif r.status == "violated":
            details.extend(_violated(r, shown_samples, rules))
    counts = summarize(results)
    summary = f"{counts['ok']} ok, {counts['violated']} violated, {counts['error']} error"
    return "\n".join(lines + ([""] + details if details else []) + ["", summary]) + "\n"

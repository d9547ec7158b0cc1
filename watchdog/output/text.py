"""The default `watchdog check` output: a table a human reads in a CI log."""
from __future__ import annotations

import json
from collections.abc import Sequence

from watchdog.results.model import Result, jsonable, summarize

_MARK = {"ok": "ok", "violated": "VIOLATED", "error": "ERROR"}


def _value(result: Result) -> str:
    if result.value is None:
        return "-"
    return f"{result.value:g}" if result.value != int(result.value) else str(int(result.value))


def _elapsed(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.1f}ms" if ms < 10 else f"{ms:.0f}ms"


def _sample(sample: dict[str, object], width: int = 110) -> str:
    text = json.dumps(jsonable(sample), ensure_ascii=False, separators=(", ", "="))[1:-1].replace('"', "")
    return text if len(text) <= width else text[: width - 1] + "…"


def render(results: Sequence[Result], shown_samples: int = 3) -> str:
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
        elif r.status == "violated" and r.samples:
            details.append(f"{r.rule} [{r.target}]: {r.violations} violation(s), first {min(len(r.samples), shown_samples)}:")
            details.extend(f"    {_sample(s)}" for s in r.samples[:shown_samples])
    counts = summarize(results)
    summary = f"{counts['ok']} ok, {counts['violated']} violated, {counts['error']} error"
    return "\n".join(lines + ([""] + details if details else []) + ["", summary]) + "\n"

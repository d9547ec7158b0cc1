"""Slack incoming webhook: a Block Kit message, one look for firing and a distinct one for resolved.

Stays inside Slack's limits whatever the rule returns: header 150 characters, section text 3000,
field 2000 (at most 10), button label 75 and URL 3000, at most 50 blocks (we send at most 8).
User text is escaped (`&`, `<`, `>`), so a summary cannot inject links or mentions.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from watchdog.notify.http import HttpNotifier
from watchdog.notify.message import Notification, acknowledged
from watchdog.results.model import jsonable, utc_iso

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
BUTTON_URL_MAX = 3000
CELL_MAX = 24
ROW_MAX = 80
SEVERITY_ICONS = {"critical": "🔴", "warning": "🟠", "info": "🔵"}
RESOLVED_ICON = "✅"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(raw: str, limit: int) -> str:
    """`raw` escaped and cut (with …) so that the escaped text stays within `limit`."""
    text = escape(raw)
    while len(text) > limit:
        raw = raw[: max(0, len(raw) - (len(text) - limit) - 1)]
        text = escape(raw) + "…"
    return text


def show(value: Any) -> str:
    """A value as a person reads it: whole floats without .0, others to four significant digits."""
    value = jsonable(value)
    if value is None:
        return "—"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.4g}"
    return str(value)


def table(samples: Sequence[Mapping[str, Any]]) -> list[str]:
    """Sample rows as aligned monospace lines (header first), cells and rows clipped."""
    columns = list(dict.fromkeys(key for row in samples for key in row))
    cells = [[clip(show(row.get(col)), CELL_MAX) for col in columns] for row in samples]
    widths = [max(len(clip(col, CELL_MAX)), *(len(row[i]) for row in cells)) for i, col in enumerate(columns)]
    lines = [[clip(col, CELL_MAX) for col in columns], *cells]
    return [clip("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip(), ROW_MAX) for line in lines]


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def field(label: str, value: str) -> dict[str, str]:
    return mrkdwn(f"*{label}*\n" + fit(value, FIELD_MAX - len(label) - 3))


def samples_block(n: Notification, rows: int) -> dict[str, Any] | None:
    """The sample rows in a code block: as many whole rows as fit in one section."""
    if rows <= 0 or not n.samples:
        return None
    lines = [escape(line) for line in table(n.samples[:rows])]
    total = max(n.violations, len(n.samples))
    while True:
        text = f"*Samples* ({len(lines) - 1} of {total})\n```\n" + "\n".join(lines) + "\n```"
        if len(text) <= SECTION_MAX:
            return section(text)
        lines.pop()


def buttons(n: Notification) -> dict[str, Any] | None:
    links = [("Runbook", n.runbook_url), ("Source", n.generator_url)]
    elements = [
        {"type": "button", "text": {"type": "plain_text", "text": label}, "url": url}
        for label, url in links if url and len(url) <= BUTTON_URL_MAX
    ]
    return {"type": "actions", "elements": elements} if elements else None


def icon(n: Notification) -> str:
    return SEVERITY_ICONS.get(n.severity, "⚪") if n.firing else RESOLVED_ICON


def blocks(n: Notification, rows: int) -> list[dict[str, Any]]:
    state = n.severity.upper() if n.firing else "RESOLVED"
    facts = [("Target", n.target)] + ([("Check", n.check)] if n.check else [])
    if n.rule and n.alertname != n.rule:
        facts.insert(0, ("Rule", n.rule))
    if n.firing and n.alertname == n.rule:  # watchdog's own alerts (probe_failing, target_down) count nothing
        facts += [("Violations", str(n.violations)), ("Value", show(n.value))]
    if n.firing:
        facts += [("Since", utc_iso(n.starts_at))]
    else:
        facts += [("Since", utc_iso(n.starts_at)), ("Resolved", utc_iso(n.ends_at) if n.ends_at else "now")]
    labels = ", ".join(f"{k}={v}" for k, v in sorted(n.labels.items()))
    context = f"watchdog · fingerprint {n.fingerprint}" + (f" · {labels}" if labels else "")
    parts: list[dict[str, Any] | None] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(f"{icon(n)} {state} · {n.alertname}", HEADER_MAX), "emoji": True}},
        section(fit(n.summary or n.alertname, SECTION_MAX)),
        {"type": "section", "fields": [field(label, value) for label, value in facts]},
        section(fit(n.description, SECTION_MAX)) if n.description else None,
        section(fit(acknowledged(n) or "", SECTION_MAX)) if n.ack else None,
        samples_block(n, rows) if n.firing else None,
        buttons(n) if n.firing else None,
        {"type": "context", "elements": [mrkdwn(fit(context, SECTION_MAX))]},
    ]
    return [part for part in parts if part is not None]


def fallback(n: Notification) -> str:
    """The plain `text` Slack shows in notifications and where blocks cannot be displayed."""
    tag = f"[{n.severity}]" if n.firing else "[resolved]"
    return fit(f"{icon(n)} {tag} {n.alertname} on {n.target}: {n.summary}", SECTION_MAX)


class SlackNotifier(HttpNotifier):
    name = "slack"

    def __init__(self, webhook_url: str, samples: int = 5, timeout: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(webhook_url, timeout, clock=clock)
        self.samples = samples

    def payload(self, notification: Notification) -> Any:
        return {"text": fallback(notification), "blocks": blocks(notification, self.samples),
                "unfurl_links": False, "unfurl_media": False}

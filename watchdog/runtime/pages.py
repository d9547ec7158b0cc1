"""The status page's HTML: jinja2 templates shipped in the package (watchdog/runtime/templates),
autoescaped, rendered on the server from the typed status model. No script anywhere: the page
works offline and under a Content-Security-Policy that allows nothing but its own stylesheet."""
from __future__ import annotations

from datetime import datetime
from importlib.resources import files

import jinja2

from watchdog.model.durations import format_duration
from watchdog.notify.slack import show
from watchdog.results.model import utc_iso
from watchdog.runtime.sparkline import spark
from watchdog.runtime.status import RulePage, StatusReport

STYLESHEET = files("watchdog.runtime").joinpath("static/style.css").read_bytes()

# What an ack submitted from the page came to, by the code the redirect carries: fixed texts, so
# nothing a visitor puts in the address is echoed as a message.
NOTICES = {
    "done": ("ok", "Acknowledged."),
    "token": ("bad", "Not acknowledged: the token is wrong."),
    "off": ("bad", "Not acknowledged: the write API is off (no api.token in the rule file or $WATCHDOG_API_TOKEN)."),
    "bad": ("bad", "Not acknowledged: 'for' must be a duration such as 30m or 4h (at most 30d), and a comment is needed."),
    "gone": ("bad", "Not acknowledged: the alert is no longer firing."),
    "unknown": ("bad", "Not acknowledged: no such rule or target."),
    "standby": ("bad", "Not acknowledged: this watchdog stands by; acknowledge on the one that leads."),
}


def _when(moment: datetime | None) -> str:
    return "—" if moment is None else utc_iso(moment.replace(microsecond=0))


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.1f}ms" if value < 1 else f"{value:.2f}s"


def _age(moment: datetime, now: datetime) -> str:
    """How long ago, to the second: `3h20m` rather than a date."""
    seconds = max(0, int((now - moment).total_seconds()))
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    shown = [f"{n}{unit}" for n, unit in parts if n][:2]
    return "".join(shown) or "0s"


def _linkable(url: str | None) -> bool:
    """Only http(s) URLs become links: a `javascript:` runbook_url stays text."""
    return bool(url) and str(url).lower().startswith(("http://", "https://"))


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("watchdog.runtime", "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)
_ENV.filters.update(when=_when, seconds=_seconds, show=show, duration=format_duration)
_ENV.globals.update(age=_age, spark=spark, linkable=_linkable)


def index(report: StatusReport, notice: str | None) -> bytes:
    return _ENV.get_template("index.html").render(report=report, notice=NOTICES.get(notice or "")).encode()


def rule(page: RulePage, report: StatusReport, notice: str | None) -> bytes:
    return _ENV.get_template("rule.html").render(page=page, report=report, notice=NOTICES.get(notice or "")).encode()


def missing(report: StatusReport, what: str) -> bytes:
    return _ENV.get_template("missing.html").render(report=report, what=what, notice=None).encode()

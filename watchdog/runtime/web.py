"""The operator's surface of `watchdog run`, beside /metrics: the status page (`/`, `/rules/NAME`),
its JSON (`/api/v1/status`), acknowledgements (`POST /api/v1/acks`, and the page's form) and
`POST /-/reload` (re-read the rule file).

Reads need no token, as /metrics never did. Writes need the API token (watchdog.runtime.auth): as a
Bearer header for the JSON API, as a form field for the page (a page without script cannot set a
header). Every HTML answer carries a Content-Security-Policy that allows the page's own stylesheet
and nothing else: no script, no external resource, forms only to this origin.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, unquote

from watchdog.runtime import pages
from watchdog.runtime.acks import AckRefused, AckRequest, BadAck, parse_request
from watchdog.runtime.alerts import Alert
from watchdog.runtime.auth import bearer, check_token
from watchdog.runtime.status import RulePage, StatusReport

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
HTML = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
JSON = {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
TEXT = {"Content-Type": "text/plain; charset=utf-8"}
MAX_BODY = 64 * 1024
RULES = "/rules/"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class Source(Protocol):
    """What the site reads and writes: the running Watchdog."""

    @property
    def api_token(self) -> str | None: ...

    def status(self) -> StatusReport: ...

    def rule_page(self, report: StatusReport, name: str) -> RulePage | None: ...

    def acknowledge(self, request: AckRequest) -> list[Alert]: ...

    def reload_request(self) -> tuple[int, str]:
        """Re-read the rule file: the HTTP status and a short text saying what changed or why not."""


def _json(status: int, document: Any) -> Reply:
    return Reply(status, (json.dumps(document, sort_keys=True) + "\n").encode(), JSON)


def _problem(status: int, message: str) -> Reply:
    return _json(status, {"error": message})


class Site:
    def __init__(self, source: Source) -> None:
        self._source = source

    def get(self, target: str) -> Reply | None:
        """The answer to GET `target` (path and query), None for a path that is not the site's."""
        path, _, query = target.partition("?")
        notice = parse_qs(query).get("ack", [None])[0]
        if path == "/":
            return Reply(200, pages.index(self._source.status(), notice), HTML)
        if path == "/api/v1/status":
            return _json(200, self._source.status().to_json())
        if path == "/static/style.css":
            return Reply(200, pages.STYLESHEET, {"Content-Type": "text/css; charset=utf-8", "Cache-Control": "max-age=300"})
        if path.startswith(RULES) and "/" not in path[len(RULES):]:
            report = self._source.status()
            page = self._source.rule_page(report, unquote(path[len(RULES):]))
            if page is None:
                return Reply(404, pages.missing(report, "such rule"), HTML)
            return Reply(200, pages.rule(page, report, notice), HTML)
        return None

    def post(self, path: str, headers: Mapping[str, str], body: bytes) -> Reply | None:
        if path == "/-/reload":
            return self._reload(headers)
        if path == "/api/v1/acks":
            return self._api_ack(headers, body)
        if path.startswith(RULES) and path.endswith("/ack"):
            return self._form_ack(unquote(path[len(RULES):-len("/ack")]), body)
        return None

    def _reload(self, headers: Mapping[str, str]) -> Reply:
        refused = check_token(self._source.api_token, bearer(headers))
        if refused:
            status, reason = refused
            return Reply(status, f"{reason}\n".encode(), {**TEXT, **({"WWW-Authenticate": "Bearer"} if status == 401 else {})})
        status, text = self._source.reload_request()
        return Reply(status, text.encode(), TEXT)

    def _api_ack(self, headers: Mapping[str, str], body: bytes) -> Reply:
        refused = check_token(self._source.api_token, bearer(headers))
        if refused:
            return _problem(*refused)
        try:
            request = parse_request(json.loads(body or b"null"), default_by="api")
        except (ValueError, UnicodeDecodeError) as exc:  # BadAck is a ValueError, as is bad JSON
            return _problem(400, str(exc) if isinstance(exc, BadAck) else f"the body is not JSON: {exc}")
        try:
            alerts = self._source.acknowledge(request)
        except AckRefused as exc:
            return _problem(exc.status, str(exc))
        ack = alerts[0].ack
        return _json(201, {"ack": ack.to_document() if ack else None,
                           "alerts": [{"alertname": a.alertname, "rule": a.rule, "target": a.target,
                                       "fingerprint": a.fingerprint} for a in alerts]})

    def _form_ack(self, rule: str, body: bytes) -> Reply:
        """The page's form: the result travels back as a fixed code in the redirect (pages.NOTICES)."""
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        back = "/" if form.get("back") == "/" else RULES + quote(rule)
        refused = check_token(self._source.api_token, form.get("token"))
        if refused:
            return _back(back, "off" if refused[0] == 403 else "token")
        fields = {key: form[key] for key in ("target", "for", "comment", "by") if form.get(key)}
        try:
            request = parse_request({"rule": rule, **fields}, default_by="status page")
            self._source.acknowledge(request)
        except BadAck:
            return _back(back, "bad")
        except AckRefused as exc:
            return _back(back, {404: "unknown", 409: "gone"}.get(exc.status, "standby"))
        return _back(back, "done")


def _back(path: str, code: str) -> Reply:
    return Reply(303, b"", {"Location": f"{path}?ack={code}", "Cache-Control": "no-store"})

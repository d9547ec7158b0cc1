"""`watchdog ack`: acknowledge a firing alert of the running daemon, through its HTTP API.

Exit codes: 0 acknowledged; 2 bad usage, or the daemon refused (bad request, token, unknown rule, no
firing alert), with the daemon's reason; 3 the daemon could not be reached or did not take it
(a standby replica, an internal error). The token is never printed.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from watchdog.commands.common import add_config, duration_arg
from watchdog.commands.run import DEFAULT_LISTEN
from watchdog.config.loader import API_TOKEN_ENV, load
from watchdog.errors import ExitCode, UsageError
from watchdog.plan import config_path
from watchdog.probing.dsn import scrub

TIMEOUT = 10.0
REFUSED = {400, 401, 403, 404, 409}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("ack", help="acknowledge a firing alert of the running `watchdog run`",
                            description="Acknowledge a firing alert: no repeat notifications until the ack expires "
                                        "or the alert resolves. Talks to the running daemon's HTTP API.")
    parser.add_argument("rule", metavar="RULE", help="the rule whose alert to acknowledge")
    parser.add_argument("--target", metavar="NAME", help="only its alert on this target (default: every target)")
    parser.add_argument("--for", dest="span", required=True, metavar="DURATION", type=_span,
                        help="how long the ack lasts (e.g. 30m, 4h; at most 30d)")
    parser.add_argument("--comment", required=True, help="why, for whoever looks next")
    parser.add_argument("--by", help="who acknowledges (default: your user name)")
    parser.add_argument("--url", default=f"http://{DEFAULT_LISTEN}", help=f"the daemon (default http://{DEFAULT_LISTEN})")
    parser.add_argument("--token", help=f"the API token (default: ${API_TOKEN_ENV}, then api.token of the rule file)")
    add_config(parser)
    parser.set_defaults(handler=handle)


def _span(text: str) -> str:
    duration_arg(text)  # refused here with the accepted forms; the daemon checks it again
    return text


def _token(args: argparse.Namespace) -> str:
    token = args.token or os.environ.get(API_TOKEN_ENV)
    if token:
        return str(token)
    path = config_path(args.config)
    if path.exists():
        token = load(path).rule_file.api_token
    if not token:
        raise UsageError(f"no API token: give --token, set ${API_TOKEN_ENV}, or api.token in the rule file ({path})")
    return str(token)


def handle(args: argparse.Namespace) -> int:
    import requests  # only this command needs it at start

    token = _token(args)
    body = {"rule": args.rule, "for": args.span, "comment": args.comment, "by": args.by or _user()}
    if args.target:
        body["target"] = args.target
    url = args.url.rstrip("/") + "/api/v1/acks"
    try:
        response = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        return _fail(ExitCode.PROBE_ERROR, f"cannot reach watchdog at {args.url}: {type(exc).__name__}", token)
    document = _document(response)
    if response.status_code == 201 and document is not None:
        ack, alerts = document.get("ack") or {}, document.get("alerts") or []
        targets = ", ".join(sorted({str(a.get("target")) for a in alerts}))
        print(scrub(f"acknowledged {args.rule} on {targets} until {ack.get('until')} by {ack.get('by')}: "
                    f"{ack.get('comment')}", [token]))
        return ExitCode.OK
    reason = str((document or {}).get("error") or f"HTTP {response.status_code}")
    code = ExitCode.USAGE if response.status_code in REFUSED else ExitCode.PROBE_ERROR
    return _fail(code, f"not acknowledged ({response.status_code}): {reason}", token)


def _document(response: Any) -> dict[str, Any] | None:
    try:
        document = response.json()
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "watchdog ack"


def _fail(code: ExitCode, message: str, token: str) -> int:
    print(f"watchdog: error: {scrub(message, [token])}", file=sys.stderr)
    return code

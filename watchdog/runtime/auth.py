"""Who may write through `watchdog run`'s HTTP API (acknowledgements, reload): whoever carries the token.

The token is `api.token` in the rule file, else $WATCHDOG_API_TOKEN. Without one the write API is
off (403): a daemon listening on 0.0.0.0 must not take acknowledgements from anyone who can reach it.
Reads (/, /metrics, /api/v1/status) need no token, as /metrics never did.
"""
from __future__ import annotations

import hmac
from collections.abc import Mapping


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header, if any."""
    scheme, _, value = (headers.get("Authorization") or "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def check_token(expected: str | None, given: str | None) -> tuple[int, str] | None:
    """None when `given` may write; else the HTTP status and the reason to answer with."""
    if not expected:
        return 403, "the write API is off: set api.token in the rule file or $WATCHDOG_API_TOKEN"
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        return 401, "a valid token is needed (Authorization: Bearer TOKEN)"
    return None

"""The one HTTP path every notifier takes: build a JSON payload, POST it, classify the outcome.

Classification (the dispatcher acts on it): connection errors, timeouts, 408, 429 and 5xx are
worth retrying (429/503 with their Retry-After); any other non-2xx answer is permanent. No
message ever carries the URL, its path or a secret: Slack webhook URLs are credentials.
"""
from __future__ import annotations

import json
import re
import time
from abc import abstractmethod
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from watchdog import __version__
from watchdog.notify.base import DeliveryError, Notifier
from watchdog.notify.message import Notification
from watchdog.probing.dsn import scrub, secrets_of

RETRYABLE_STATUSES = frozenset({408, 429})
EXCERPT_CHARS = 200
TOKEN_MIN = 16


def encode(payload: Any) -> bytes:
    """Compact, key-sorted JSON: the exact bytes the webhook signature covers."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def url_secrets(url: str) -> set[str]:
    """What of a URL must never be shown: all of it, its password, its path and any long path
    segment or query value (Slack's token, a key in ?token=...)."""
    parts = urlsplit(url)
    found = {url, *secrets_of(url)}
    if len(parts.path) > 1:
        found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
        found.add(parts.path)
    pieces = parts.path.split("/") + [value for _, _, value in (p.partition("=") for p in parts.query.split("&"))]
    return found | {piece for piece in pieces if len(piece) >= TOKEN_MIN}


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from now; it may be a number of seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def post(session: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float,
         secrets: Iterable[str], clock: Callable[[], float] = time.time) -> None:
    """POST `body`; return on 2xx, else raise DeliveryError saying whether a retry may help."""
    try:
        response = session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        raise DeliveryError(f"no answer within {timeout:g}s", permanent=False) from None
    except requests.ConnectionError as exc:
        raise DeliveryError(f"cannot connect ({type(exc).__name__})", permanent=False) from None
    except requests.RequestException as exc:
        raise DeliveryError(f"request not sent ({type(exc).__name__})", permanent=True) from None
    status = response.status_code
    if 200 <= status < 300:
        return
    excerpt = re.sub(r"\s+", " ", response.text[:EXCERPT_CHARS]).strip()
    message = scrub(f"HTTP {status}" + (f": {excerpt}" if excerpt else ""), secrets)
    if status in RETRYABLE_STATUSES or status >= 500:
        wait = parse_retry_after(response.headers.get("Retry-After"), clock())
        raise DeliveryError(message, permanent=False, retry_after=wait)
    raise DeliveryError(message, permanent=True)


class HttpNotifier(Notifier):
    """A notifier is a payload and a URL (the healthchecks model): `payload()`, then `post()`."""

    def __init__(self, url: str, timeout: float = 10.0, secrets: Iterable[str] = (),
                 clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.timeout = timeout
        self.clock = clock
        self.secrets = url_secrets(url) | {s for s in secrets if s}
        self.session = requests.Session()

    @abstractmethod
    def payload(self, notification: Notification) -> Any:
        """The JSON document to send."""

    def endpoint(self) -> str:
        return self.url

    def headers(self, body: bytes) -> dict[str, str]:
        """Extra headers for this body (the webhook signs it)."""
        return {}

    def send(self, notification: Notification) -> None:
        body = encode(self.payload(notification))
        headers = {**self.headers(body), "Content-Type": "application/json", "User-Agent": f"watchdog/{__version__}"}
        post(self.session, self.endpoint(), body, headers, self.timeout, self.secrets, self.clock)

"""Alert delivery for `watchdog run`: notifiers (Slack, webhook, Alertmanager) behind a durable outbox.

Nothing is imported here up front: `watchdog check` renders alert texts (`watchdog.notify.templates`)
and must not pay for `requests` and the notifiers at start-up; the names below come on first use.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "DeliveryError": "base", "Notifier": "base", "build_notifiers": "factory", "Notification": "message",
    "fingerprint_of": "message", "Dispatcher": "outbox", "Outbox": "outbox",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"watchdog.notify.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'watchdog.notify' has no attribute {name!r}")

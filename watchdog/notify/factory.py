"""Notifiers from the rule file's validated `notify` section."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from watchdog.notify.alertmanager import AlertmanagerNotifier
from watchdog.notify.base import Notifier
from watchdog.notify.slack import SlackNotifier
from watchdog.notify.webhook import WebhookNotifier

log = logging.getLogger(__name__)

URL_KEYS = {"slack": "webhook_url", "webhook": "url", "alertmanager": "url"}


def build_notifiers(notify_config: Mapping[str, Mapping[str, Any]]) -> dict[str, Notifier]:
    """One notifier per configured section whose URL is not empty (`${SLACK_WEBHOOK_URL:-}`)."""
    notifiers: dict[str, Notifier] = {}
    for name, key in URL_KEYS.items():
        section = notify_config.get(name)
        if section is None:
            continue
        if not section.get(key):
            log.info("notifier '%s' disabled: its %s is empty", name, key)
            continue
        notifiers[name] = _build(name, section)
    return notifiers


def _build(name: str, section: Mapping[str, Any]) -> Notifier:
    timeout = float(section.get("timeout") or 10.0)
    if name == "slack":
        return SlackNotifier(section["webhook_url"], samples=int(section.get("samples", 5)), timeout=timeout)
    if name == "webhook":
        return WebhookNotifier(section["url"], secret=section.get("secret"), headers=section.get("headers"), timeout=timeout)
    return AlertmanagerNotifier(section["url"], generator_url=section.get("generator_url"), timeout=timeout)

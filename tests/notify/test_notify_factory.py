"""Notifiers from the validated `notify` section; an empty URL disables one."""
from __future__ import annotations

import logging

import pytest

from watchdog.notify.alertmanager import AlertmanagerNotifier
from watchdog.notify.factory import build_notifiers
from watchdog.notify.slack import SlackNotifier
from watchdog.notify.webhook import WebhookNotifier


def test_every_configured_notifier_is_built_with_its_settings() -> None:
    notifiers = build_notifiers({
        "slack": {"webhook_url": "https://hooks.slack.com/services/T0/B0/x", "samples": 3, "timeout": 4.0},
        "webhook": {"url": "https://example.org/hook", "secret": "s3cret", "headers": {"X-Team": "sched"}, "timeout": 10.0},
        "alertmanager": {"url": "http://127.0.0.1:9093", "generator_url": "http://wd:9108/", "timeout": 2.5},
    })
    assert list(notifiers) == ["slack", "webhook", "alertmanager"]
    slack, webhook, am = notifiers["slack"], notifiers["webhook"], notifiers["alertmanager"]
    assert isinstance(slack, SlackNotifier) and slack.samples == 3 and slack.timeout == 4.0
    assert isinstance(webhook, WebhookNotifier) and webhook.secret == "s3cret" and webhook.extra_headers == {"X-Team": "sched"}
    assert isinstance(am, AlertmanagerNotifier) and am.generator_url == "http://wd:9108/" and am.resend_interval == 60.0
    assert [n.name for n in notifiers.values()] == list(notifiers)


def test_an_empty_url_disables_the_notifier_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="watchdog.notify.factory")
    notifiers = build_notifiers({"slack": {"webhook_url": "", "samples": 5, "timeout": 10.0},
                                 "alertmanager": {"url": "http://127.0.0.1:9093"}})
    assert list(notifiers) == ["alertmanager"]
    assert [r.getMessage() for r in caplog.records] == ["notifier 'slack' disabled: its webhook_url is empty"]


def test_nothing_configured_means_no_notifiers() -> None:
    assert build_notifiers({}) == {}

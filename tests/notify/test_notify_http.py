"""The shared HTTP path, against a real server: what is retried, what is given up, what is shown."""
from __future__ import annotations

import time
from email.utils import format_datetime
from datetime import datetime, timezone

import pytest
from notify_helpers import Reply, Server, free_port, notification

from watchdog.notify.base import DeliveryError
from watchdog.notify.http import parse_retry_after, url_secrets
from watchdog.notify.slack import SlackNotifier
from watchdog.notify.webhook import WebhookNotifier

NOW = 1_770_224_700.0


def failure(notifier: SlackNotifier | WebhookNotifier) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        notifier.send(notification())
    return caught.value


def slack(server: Server, **kwargs: float) -> SlackNotifier:
    return SlackNotifier(f"{server.url}/services/T0001/B0001/XXXXXXXXsecretTOKEN", clock=lambda: NOW, **kwargs)


def test_2xx_is_delivered(server: Server) -> None:
    slack(server).send(notification())
    assert [r.path for r in server.requests] == ["/services/T0001/B0001/XXXXXXXXsecretTOKEN"]
    assert server.requests[0].headers["Content-Type"] == "application/json"
    assert server.requests[0].headers["User-Agent"].startswith("watchdog/")


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_server_errors_are_retryable(server: Server, status: int) -> None:
    server.reply(Reply(status, "upstream broke"))
    error = failure(slack(server))
    assert not error.permanent and error.retry_after is None
    assert error.message == f"HTTP {status}: upstream broke"


def test_429_honours_retry_after_in_seconds(server: Server) -> None:
    server.reply(Reply(429, "rate_limited", {"Retry-After": "30"}))
    error = failure(slack(server))
    assert (error.permanent, error.retry_after) == (False, 30.0)


def test_429_honours_retry_after_as_an_http_date(server: Server) -> None:
    when = format_datetime(datetime.fromtimestamp(NOW + 90, timezone.utc), usegmt=True)
    server.reply(Reply(429, "", {"Retry-After": when}))
    assert failure(slack(server)).retry_after == 90.0


@pytest.mark.parametrize("status", [400, 403, 404, 410, 301])
def test_other_answers_are_permanent(server: Server, status: int) -> None:
    server.reply(Reply(status, "invalid_payload"))
    error = failure(slack(server))
    assert error.permanent and error.message == f"HTTP {status}: invalid_payload"


def test_a_server_that_does_not_answer_in_time_is_retryable(server: Server) -> None:
    server.reply(Reply(200, delay=1.0))
    started = time.monotonic()
    error = failure(slack(server, timeout=0.2))
    assert time.monotonic() - started < 0.9
    assert not error.permanent and error.message == "no answer within 0.2s"


def test_a_refused_connection_is_retryable_and_hides_the_url() -> None:
    notifier = SlackNotifier(f"http://127.0.0.1:{free_port()}/services/T0001/B0001/XXXXXXXXsecretTOKEN", timeout=1.0)
    error = failure(notifier)
    assert not error.permanent and error.message == "cannot connect (ConnectionError)"


def test_errors_never_echo_the_url_or_secrets(server: Server) -> None:
    url = f"{server.url}/hooks/XXXXXXXXsecretTOKEN"
    server.reply(Reply(400, f"bad request to {url} (token XXXXXXXXsecretTOKEN, secret hunter22, auth Bearer-abc123)"))
    error = failure(WebhookNotifier(url, secret="hunter22", headers={"Authorization": "Bearer-abc123"}))
    for secret in ("XXXXXXXXsecretTOKEN", "hunter22", "Bearer-abc123", url):
        assert secret not in error.message
    assert error.message.startswith("HTTP 400: bad request to ***")


def test_url_secrets_cover_the_url_its_path_and_password() -> None:
    assert url_secrets("https://u:pw@hooks.example/services/T/B/tok?x=1") == {
        "https://u:pw@hooks.example/services/T/B/tok?x=1", "pw", "/services/T/B/tok?x=1", "/services/T/B/tok"}
    assert {"XXXXXXXXXXXXsecretTOKEN", "abcdefghijklmnopq"} <= url_secrets("https://h/s/T0/B0/XXXXXXXXXXXXsecretTOKEN?token=abcdefghijklmnopq")
    assert url_secrets("http://127.0.0.1:9093") == {"http://127.0.0.1:9093"}


def test_retry_after_parsing() -> None:
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after(" 12 ", NOW) == 12.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == 0.0

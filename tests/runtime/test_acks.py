"""Acknowledgements with frozen time: an ack stops repeats until it expires or the alert resolves,
Alertmanager's resends go on carrying it, and requests are checked before anything is acked."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from runtime_helpers import result, rule

from watchdog.evaluation.execute import utc_now
from watchdog.runtime.acks import Ack, BadAck, parse_request
from watchdog.runtime.alerts import AlertBook, Changes

T0 = datetime(2026, 2, 4, 17, 5, tzinfo=timezone.utc)
HOUR = 3600


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(T0) as frozen:
        yield frozen


def ack_for(seconds: float) -> Ack:
    now = utc_now()
    return Ack("ana", "worker restarted, draining", now, now + timedelta(seconds=seconds))


def repeated(changes: Changes) -> list[tuple[str, tuple[str, ...]]]:
    return [(o.status, o.notifiers) for o in changes.outgoing]


def firing_book(notifiers: dict[str, float | None]) -> AlertBook:
    book = AlertBook([rule(repeat_interval=HOUR)], notifiers)
    assert repeated(book.observe(result("violated"))) == [("firing", tuple(notifiers))]
    return book


def test_an_acked_alert_stops_repeating_until_the_ack_expires_then_repeats_resume(clock: FrozenDateTimeFactory) -> None:
    book = firing_book({"webhook": None})
    changes = book.acknowledge("jobs_stuck", None, ack_for(4 * HOUR))
    assert [a.ack.by for a in changes.saved if a.ack] == ["ana"] and changes.outgoing == []
    for _ in range(3):  # 3 hours: each would have repeated without the ack
        clock.tick(HOUR)
        assert repeated(book.repeats(utc_now())) == []
    clock.tick(HOUR)  # 4h: the ack expires, the repeat is due at once, and no longer carries the ack
    changes = book.repeats(utc_now())
    assert repeated(changes) == [("firing", ("webhook",))]
    assert changes.outgoing[0].alert.ack is None and book.get("jobs_stuck", "jobs_stuck", "main").ack is None
    clock.tick(HOUR)
    assert repeated(book.repeats(utc_now())) == [("firing", ("webhook",))]


def test_without_an_ack_the_same_alert_repeats_every_repeat_interval(clock: FrozenDateTimeFactory) -> None:
    # The control of the test above: what the ack suppresses does happen without it.
    book = firing_book({"webhook": None})
    clock.tick(HOUR)
    assert repeated(book.repeats(utc_now())) == [("firing", ("webhook",))]


def test_the_ack_is_cleared_when_the_alert_resolves_and_shown_in_the_resolve(clock: FrozenDateTimeFactory) -> None:
    book = firing_book({"webhook": None})
    book.acknowledge("jobs_stuck", "main", ack_for(4 * HOUR))
    clock.tick(60)
    changes = book.observe(result("ok"))
    [resolved] = changes.outgoing
    assert resolved.status == "resolved" and resolved.alert.ack is not None and resolved.alert.ack.by == "ana"
    assert book.alerts == []
    clock.tick(60)
    book.observe(result("violated"))  # a new incident: a new alert, not acknowledged, paging again
    assert book.get("jobs_stuck", "jobs_stuck", "main").ack is None
    clock.tick(HOUR)
    assert repeated(book.repeats(utc_now())) == [("firing", ("webhook",))]


def test_alertmanager_resends_go_on_while_acked_so_it_does_not_resolve_the_alert(clock: FrozenDateTimeFactory) -> None:
    book = firing_book({"webhook": None, "alertmanager": 60.0})
    book.acknowledge("jobs_stuck", None, ack_for(4 * HOUR))
    clock.tick(60)
    changes = book.repeats(utc_now())
    assert repeated(changes) == [("firing", ("alertmanager",))]
    assert changes.outgoing[0].alert.ack is not None  # the resend carries the ack
    clock.tick(HOUR - 60)
    assert repeated(book.repeats(utc_now())) == [("firing", ("alertmanager",))]  # the webhook's repeat is held back


def test_only_a_firing_alert_can_be_acknowledged(clock: FrozenDateTimeFactory) -> None:
    book = AlertBook([rule(for_seconds=600)], {"webhook": None})
    book.observe(result("violated"))  # pending
    assert book.acknowledge("jobs_stuck", None, ack_for(HOUR)).saved == []
    assert book.acknowledge("other_rule", None, ack_for(HOUR)).saved == []
    clock.tick(600)
    book.observe(result("violated"))
    assert book.acknowledge("jobs_stuck", "elsewhere", ack_for(HOUR)).saved == []
    assert len(book.acknowledge("jobs_stuck", "main", ack_for(HOUR)).saved) == 1


def test_an_ack_survives_a_restart_of_the_book(clock: FrozenDateTimeFactory) -> None:
    book = firing_book({"webhook": None})
    book.acknowledge("jobs_stuck", None, ack_for(4 * HOUR))
    clock.tick(HOUR)
    reloaded = AlertBook([rule(repeat_interval=HOUR)], {"webhook": None}, book.alerts, now=utc_now())
    clock.tick(HOUR)
    assert repeated(reloaded.repeats(utc_now())) == []
    clock.tick(2 * HOUR)
    assert repeated(reloaded.repeats(utc_now())) == [("firing", ("webhook",))]


@pytest.mark.parametrize(("body", "complaint"), [
    ([], "JSON object"),
    ({"for": "4h", "comment": "x"}, "'rule' is required"),
    ({"rule": "r", "comment": "x"}, "'for' is required"),
    ({"rule": "r", "for": "4h"}, "'comment' is required"),
    ({"rule": "r", "for": "4h", "comment": "   "}, "'comment' is required"),
    ({"rule": "r", "for": "four hours", "comment": "x"}, "bad duration"),
    ({"rule": "r", "for": "0s", "comment": "x"}, "longer than 0s"),
    ({"rule": "r", "for": "31d", "comment": "x"}, "at most 30d"),
    ({"rule": "r", "for": 4, "comment": "x"}, "'for' must be a string"),
    ({"rule": "r", "for": "4h", "comment": "x" * 1001}, "longer than 1000"),
    ({"rule": "r", "for": "4h", "comment": "x", "token": "t"}, "unknown field(s): token"),
])
def test_a_bad_request_names_what_is_wrong(body: object, complaint: str) -> None:
    with pytest.raises(BadAck, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        parse_request(body, default_by="api")


def test_a_good_request_takes_defaults() -> None:
    request = parse_request({"rule": "r", "for": "1h30m", "comment": " draining "}, default_by="api")
    assert (request.rule, request.target, request.seconds, request.comment, request.by) == ("r", None, 5400.0, "draining", "api")

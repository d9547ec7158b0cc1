"""The alert lifecycle with frozen time: `for`, resolve, repeat, error threshold, target down, retire."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from runtime_helpers import Monotonic, result, rule

from watchdog.evaluation.execute import utc_now
from watchdog.runtime.alerts import PROBE_FAILING, RULE_STALE, TARGET_DOWN, Alert, AlertBook, Changes

T0 = datetime(2026, 2, 4, 17, 5, tzinfo=timezone.utc)
NOTIFIERS = {"webhook": None, "alertmanager": 60.0}


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(T0) as frozen:
        yield frozen


def sent(changes: Changes) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(o.alert.alertname, o.status, o.notifiers) for o in changes.outgoing]


def test_a_violation_fires_only_once_it_has_lasted_for(clock: FrozenDateTimeFactory) -> None:
    book = AlertBook([rule(for_seconds=120)], NOTIFIERS)
    assert sent(book.observe(result("violated"))) == []
    assert book.get("jobs_stuck", "jobs_stuck", "main").state == "pending"
    clock.tick(119)
    assert sent(book.observe(result("violated"))) == []
    clock.tick(1)
    changes = book.observe(result("violated"))
    assert sent(changes) == [("jobs_stuck", "firing", ("webhook", "alertmanager"))]
    assert changes.outgoing[0].alert.since == T0
    clock.tick(60)
    assert sent(book.observe(result("violated"))) == []


def test_for_zero_fires_on_the_first_violation(clock: FrozenDateTimeFactory) -> None:
    book = AlertBook([rule()], NOTIFIERS)
    assert sent(book.observe(result("violated"))) == [("jobs_stuck", "firing", ("webhook", "alertmanager"))]


def test_a_pending_alert_that_recovers_sends_nothing(clock: FrozenDateTimeFactory) -> None:
    book = AlertBook([rule(for_seconds=300)], NOTIFIERS)
    book.observe(result("violated"))
    clock.tick(60)
    changes = book.observe(result("ok"))
    assert sent(changes) == [] and len(changes.deleted) == 1 and book.alerts == []


def test_a_firing_alert_resolves_once_when_the_rule_holds(clock: FrozenDateTimeFactory) -> None:
    book = AlertBook([rule()], NOTIFIERS)
    book.observe(result("violated"))
    clock.tick(90)
    changes = book.observe(result("ok"))
    assert sent(changes) == [("jobs_stuck", "resolved", ("webhook", "alertmanager"))]
    assert changes.outgoing[0].at == T0 + timedelta(seconds=90)
    assert sent(book.observe(result("ok"))) == []


def test_a_probe_error_neither_fires_nor_resolves_the_rule_alert(clock: FrozenDateTimeFactory) -> None:
    book = AlertBook([rule(for_seconds=60)], NOTIFIERS)
    book.observe(result("violated"))
    clock.tick(120)
    assert sent(book.observe(result("error", error="timeout"))) == []
    assert book.get("jobs_stuck", "jobs_stuck", "main").state == "pending"
    assert sent(book.observe(result("violated"))) == [("jobs_stuck", "firing", ("webhook", "alertmanager"))]
    assert sent(book.observe(result("error", error="timeout"))) == []
    assert book.get("jobs_stuck", "jobs_stuck", "main").firing


def test_probe_failing_fires_after_error_threshold_failures_in_a_row_and_resolves_when_it_runs(clock: FrozenDateTimeFactory) -> None:
    book = AlertBook([rule(error_threshold=3)], NOTIFIERS)
    assert sent(book.observe(result("error", error="SQL error: no such column"))) == []
    assert sent(book.observe(result("ok"))) == []  # a success in between starts the count again
    for _ in range(2):
        assert sent(book.observe(result("error", error="SQL error: no such column"))) == []
    changes = book.observe(result("error", error="SQL error: no such column"))
    assert sent(changes) == [(PROBE_FAILING, "firing", ("webhook", "alertmanager"))]
    assert changes.outgoing[0].alert.error == "SQL error: no such column"
    assert sent(book.observe(result("error", error="SQL error: no such column"))) == []
    assert sent(book.observe(result("ok"))) == [(PROBE_FAILING, "resolved", ("webhook", "alertmanager"))]


def test_failures_of_an_unreachable_target_page_once_as_target_down(clock: FrozenDateTimeFactory) -> None:
    book = AlertBook([rule(error_threshold=2), rule("other", severity="info", error_threshold=5)], NOTIFIERS)
    for _ in range(3):
        assert sent(book.observe(result("error", error="unreachable"), unreachable=True)) == []
    assert sent(book.connection("main", False, utc_now(), "refused")) == []
    changes = book.connection("main", False, utc_now(), "refused")
    assert sent(changes) == [(TARGET_DOWN, "firing", ("webhook", "alertmanager"))]
    down = changes.outgoing[0].alert
    assert (down.rule, down.target, down.error, book.severity(down)) == ("", "main", "refused", "critical")
    assert book.get(PROBE_FAILING, "jobs_stuck", "main") is None
    assert sent(book.connection("main", True, utc_now())) == [(TARGET_DOWN, "resolved", ("webhook", "alertmanager"))]


def test_firing_alerts_repeat_per_notifier_at_repeat_interval_or_the_notifiers_resend_interval(clock: FrozenDateTimeFactory) -> None:
    book = AlertBook([rule(repeat_interval=3600)], NOTIFIERS)
    book.observe(result("violated"))
    clock.tick(59)
    assert sent(book.repeats(utc_now())) == []
    clock.tick(1)
    assert sent(book.repeats(utc_now())) == [("jobs_stuck", "firing", ("alertmanager",))]
    clock.tick(3540)
    assert sent(book.repeats(utc_now())) == [("jobs_stuck", "firing", ("webhook", "alertmanager"))]
    clock.tick(7200)
    later = book.repeats(utc_now()).outgoing
    assert [(o.alert.alertname, o.notifiers, o.repeat) for o in later] == [("jobs_stuck", ("webhook", "alertmanager"), True)]


def test_alerts_of_rules_removed_from_the_file_are_resolved_and_forgotten(clock: FrozenDateTimeFactory) -> None:
    before = AlertBook([rule(), rule("gone")], NOTIFIERS)
    before.observe(result("violated"))
    before.observe(result("violated", rule_name="gone"))
    before.connection("main", False, utc_now(), "refused")
    before.connection("main", False, utc_now(), "refused")
    before.connection("main", False, utc_now(), "refused")
    after = AlertBook([rule()], NOTIFIERS, before.alerts)
    changes = after.retire(utc_now())
    assert sent(changes) == [("gone", "resolved", ("webhook", "alertmanager"))]
    assert {a.alertname for a in after.alerts} == {"jobs_stuck", TARGET_DOWN}


def test_a_wall_clock_step_back_delays_neither_for_nor_repeats(clock: FrozenDateTimeFactory) -> None:
    # Fails before: `for` and repeats were measured on the wall clock, so a step back of 1 h delayed both by 1 h.
    mono = Monotonic()
    book = AlertBook([rule(for_seconds=120, repeat_interval=600)], {"webhook": None}, monotonic=mono)
    assert sent(book.observe(result("violated"))) == []
    clock.move_to(T0 - timedelta(hours=1))  # NTP steps the wall clock back an hour
    mono.now += 120
    assert sent(book.observe(result("violated"))) == [("jobs_stuck", "firing", ("webhook",))]
    mono.now += 600
    assert sent(book.repeats(utc_now())) == [("jobs_stuck", "firing", ("webhook",))]


def test_a_rule_not_evaluated_for_two_intervals_raises_rule_stale_until_it_is(clock: FrozenDateTimeFactory) -> None:
    mono = Monotonic()
    book = AlertBook([rule(interval=60)], {"webhook": None}, monotonic=mono)
    book.observe(result("ok"))
    mono.now += 119
    assert sent(book.stale(utc_now())) == []
    mono.now += 1
    assert sent(book.stale(utc_now())) == [(RULE_STALE, "firing", ("webhook",))]
    assert book.stale_rules() == ["jobs_stuck on main"]
    assert book.stale(utc_now()).saved == []  # still stale: nothing new to write
    assert sent(book.observe(result("ok"))) == [(RULE_STALE, "resolved", ("webhook",))]
    assert book.stale_rules() == []


def test_a_frozen_target_pages_rule_stale_once_not_on_every_hung_probe(clock: FrozenDateTimeFactory) -> None:
    """bench/soak.py's frozen database: each hung probe comes back as an unreachable-target error after
    its deadline; that must neither resolve rule_stale nor let it fire again (one page, not one per hang)."""
    mono = Monotonic()
    book = AlertBook([rule(interval=60)], {"webhook": None}, monotonic=mono)
    book.observe(result("ok"))
    pages = []
    for _ in range(5):  # a probe hangs for three intervals, is given up on, the next one hangs again
        mono.now += 180
        pages += sent(book.stale(utc_now()))
        pages += sent(book.observe(result("error"), unreachable=True))
    assert pages == [(RULE_STALE, "firing", ("webhook",))]
    assert sent(book.observe(result("ok"))) == [(RULE_STALE, "resolved", ("webhook",))]  # once it answers


def test_an_alert_is_written_when_it_changes_not_at_every_evaluation(clock: FrozenDateTimeFactory) -> None:
    # Fails before: every evaluation of a firing alert saved it again, with its samples.
    book = AlertBook([rule(for_seconds=60)], NOTIFIERS)
    assert len(book.observe(result("violated")).saved) == 1  # pending
    clock.tick(30)
    assert book.observe(result("violated")).saved == []
    clock.tick(30)
    assert len(book.observe(result("violated")).saved) == 1  # firing
    for _ in range(3):
        clock.tick(30)
        assert book.observe(result("violated", violations=2)).saved == []
    assert book.get("jobs_stuck", "jobs_stuck", "main").evidence.violations == 2  # the latest, in memory


def test_a_repeat_interval_of_centuries_never_overflows(clock: FrozenDateTimeFactory) -> None:
    # Fails before: timedelta(seconds=...) of 99999999999 days raised OverflowError in the scheduler's tick.
    book = AlertBook([rule(repeat_interval=99999999999 * 86400.0)], {"webhook": None})
    book.observe(result("violated"))
    clock.tick(3600)
    assert sent(book.repeats(utc_now())) == []


class Quiet:
    """A silence the test switches on and off: which alertnames it quiets."""

    def __init__(self, *alertnames: str) -> None:
        self.alertnames = set(alertnames)

    def __call__(self, alert: Alert, now: datetime) -> bool:
        return alert.alertname in self.alertnames


def test_a_silenced_alert_fires_in_the_state_and_pages_once_at_the_tick_after_its_silence(clock: FrozenDateTimeFactory) -> None:
    quiet = Quiet("jobs_stuck", PROBE_FAILING)
    book = AlertBook([rule(repeat_interval=600.0, error_threshold=1)], {"webhook": None}, quiet=quiet)
    changes = book.observe(result("violated"))
    assert sent(changes) == [] and [a.state for a in changes.saved] == ["firing"]
    assert changes.saved[0].sent == {}
    clock.tick(3600)
    assert sent(book.repeats(utc_now())) == []  # no repeat while silenced
    quiet.alertnames.clear()
    [page] = book.repeats(utc_now()).outgoing
    assert (page.status, page.repeat, page.alert.since) == ("firing", False, T0)
    clock.tick(599)
    assert sent(book.repeats(utc_now())) == []
    clock.tick(1)
    assert sent(book.repeats(utc_now())) == [("jobs_stuck", "firing", ("webhook",))]


def test_a_silenced_alert_that_resolves_unpaged_sends_no_resolved_but_one_paged_before_does(clock: FrozenDateTimeFactory) -> None:
    quiet = Quiet("jobs_stuck")
    book = AlertBook([rule()], {"webhook": None}, quiet=quiet)
    book.observe(result("violated"))
    assert sent(book.observe(result("ok"))) == []
    quiet.alertnames.clear()
    assert sent(book.observe(result("violated"))) == [("jobs_stuck", "firing", ("webhook",))]
    quiet.alertnames.add("jobs_stuck")  # paged, then silenced: its end closes the receiver's incident
    assert sent(book.repeats(utc_now())) == []
    assert sent(book.observe(result("ok"))) == [("jobs_stuck", "resolved", ("webhook",))]


def test_an_unpaged_firing_alert_loaded_from_the_state_pages_when_no_silence_holds(clock: FrozenDateTimeFactory) -> None:
    quiet = Quiet("jobs_stuck")
    first = AlertBook([rule()], {"webhook": None}, quiet=quiet)
    [alert] = first.observe(result("violated")).saved
    again = AlertBook([rule()], {"webhook": None}, [alert], now=utc_now(), quiet=quiet)  # a restart inside the silence
    assert sent(again.repeats(utc_now())) == []
    quiet.alertnames.clear()
    assert [(o.status, o.repeat) for o in again.repeats(utc_now()).outgoing] == [("firing", False)]


def test_a_reload_keeps_staleness_of_kept_rules_starts_new_ones_afresh_and_retires_removed_ones(
        clock: FrozenDateTimeFactory) -> None:
    mono = Monotonic()
    book = AlertBook([rule(interval=60), rule("old_rule", interval=60)], {"webhook": None}, monotonic=mono)
    book.observe(result("ok"))
    mono.now += 120
    assert len(sent(book.stale(utc_now()))) == 2  # both stale
    book.observe(result("ok"))  # jobs_stuck evaluated again; old_rule still stale
    mono.now += 90
    book.reconfigure([rule(interval=60), rule("new_rule", interval=60)], {"webhook": None}, changed_targets=())
    assert sent(book.retire(utc_now())) == [(RULE_STALE, "resolved", ("webhook",))]  # old_rule's: the rule is gone
    mono.now += 30  # jobs_stuck: 120s since its evaluation; new_rule: 30s since the reload
    assert [(o.alert.rule, o.status) for o in book.stale(utc_now()).outgoing] == [("jobs_stuck", "firing")]
    assert book.stale_rules() == ["jobs_stuck on main"]

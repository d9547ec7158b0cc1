"""Silence windows across Europe/Berlin's daylight saving changes of 2026 (29 March, 25 October).

Berlin is UTC+1 in winter (CET) and UTC+2 in summer (CEST): on 29 March the clock jumps from
02:00 to 03:00, on 25 October it goes back from 03:00 to 02:00, so 02:00-03:00 happens twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from watchdog.evaluation.execute import utc_now
from watchdog.model.silences import Match, OneOff, Recurring, Silence
from watchdog.schedules.calendar import Interval
from watchdog.silences.windows import window_at

UTC = timezone.utc


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def recurring(cron: str, duration: timedelta, tz: str = "Europe/Berlin") -> Silence:
    return Silence("s", Match(target=("main",)), Recurring(cron, duration.total_seconds(), tz))


NIGHTLY = recurring("0 2 * * *", timedelta(hours=1))


def test_a_nightly_window_opens_at_two_local_time_on_an_ordinary_day() -> None:
    # 2026-03-28 is still winter: 02:00 CET is 01:00 UTC.
    assert window_at(NIGHTLY, utc(2026, 3, 28, 0, 59, 59)) is None
    assert window_at(NIGHTLY, utc(2026, 3, 28, 1, 0)) == Interval(utc(2026, 3, 28, 1), utc(2026, 3, 28, 2))
    assert window_at(NIGHTLY, utc(2026, 3, 28, 1, 59, 59)) == Interval(utc(2026, 3, 28, 1), utc(2026, 3, 28, 2))
    assert window_at(NIGHTLY, utc(2026, 3, 28, 2, 0)) is None  # the end is not in the window
    # 2026-03-30 is summer: 02:00 CEST is 00:00 UTC.
    assert window_at(NIGHTLY, utc(2026, 3, 30, 0, 30)) == Interval(utc(2026, 3, 30, 0), utc(2026, 3, 30, 1))


def test_on_the_spring_change_a_window_at_a_skipped_time_opens_when_the_clock_jumps_past_it() -> None:
    # 02:00 does not exist on 29 March: the window opens at 03:00 CEST (01:00 UTC), as cron would
    # start a 02:00 job, and still lasts an hour. Neither 00:00 UTC (what 02:00 CEST would be) nor
    # 01:00 UTC read as CET's 02:00 leaves the night without its window.
    assert window_at(NIGHTLY, utc(2026, 3, 29, 0, 30)) is None
    assert window_at(NIGHTLY, utc(2026, 3, 29, 1, 0)) == Interval(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
    assert window_at(NIGHTLY, utc(2026, 3, 29, 1, 59)) is not None
    assert window_at(NIGHTLY, utc(2026, 3, 29, 2, 0)) is None


def test_on_the_autumn_change_a_window_opens_once_and_lasts_one_real_hour() -> None:
    # 02:00 happens twice on 25 October: the window opens at the first (CEST, 00:00 UTC) and closes
    # an hour later (01:00 UTC), when the clock reads 02:00 again; the repeated 02:00 opens nothing.
    window = Interval(utc(2026, 10, 25, 0), utc(2026, 10, 25, 1))
    assert window_at(NIGHTLY, utc(2026, 10, 24, 23, 59)) is None
    assert window_at(NIGHTLY, utc(2026, 10, 25, 0, 0)) == window
    assert window_at(NIGHTLY, utc(2026, 10, 25, 0, 59, 59)) == window
    assert window_at(NIGHTLY, utc(2026, 10, 25, 1, 0)) is None
    assert window_at(NIGHTLY, utc(2026, 10, 25, 1, 30)) is None
    # The next night is winter time: 02:00 CET is 01:00 UTC.
    assert window_at(NIGHTLY, utc(2026, 10, 26, 1, 30)) == Interval(utc(2026, 10, 26, 1), utc(2026, 10, 26, 2))


def test_an_hourly_window_opens_in_both_runs_of_the_repeated_hour() -> None:
    # `0 * * * *` is not a fixed-time schedule: each real instant the clock reads hh:00 opens a window,
    # so the repeated 02:00 opens two, at 00:00 and 01:00 UTC.
    hourly = recurring("0 * * * *", timedelta(minutes=30))
    assert window_at(hourly, utc(2026, 10, 25, 0, 10)) == Interval(utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30))
    assert window_at(hourly, utc(2026, 10, 25, 0, 40)) is None
    assert window_at(hourly, utc(2026, 10, 25, 1, 10)) == Interval(utc(2026, 10, 25, 1), utc(2026, 10, 25, 1, 30))


def test_a_window_over_the_spring_gap_lasts_its_duration_in_real_time() -> None:
    # 01:30 CET (00:30 UTC) + 2h = 03:30 CEST (02:30 UTC): the wall clock shows three hours passing.
    overnight = recurring("30 1 * * *", timedelta(hours=2))
    assert window_at(overnight, utc(2026, 3, 29, 2, 29)) == Interval(utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 2, 30))
    assert window_at(overnight, utc(2026, 3, 29, 2, 30)) is None


def test_a_window_longer_than_a_day_is_found_from_a_fire_days_back() -> None:
    weekly = recurring("0 22 * * 5", timedelta(days=2, hours=8), tz="UTC")  # Friday 22:00 to Monday 06:00
    assert window_at(weekly, utc(2026, 11, 30, 5, 59)) == Interval(utc(2026, 11, 27, 22), utc(2026, 11, 30, 6))
    assert window_at(weekly, utc(2026, 11, 30, 6, 0)) is None
    assert window_at(weekly, utc(2026, 11, 27, 21, 59)) is None


def test_a_minutely_schedule_with_a_long_window_is_cheap_and_always_open() -> None:
    minutely = recurring("* * * * *", timedelta(days=30), tz="UTC")
    now = utc(2026, 10, 25, 0, 30, 15)
    assert window_at(minutely, now) == Interval(utc(2026, 10, 25, 0, 30), utc(2026, 11, 24, 0, 30))


@pytest.mark.parametrize(("at", "active"), [
    (utc(2026, 12, 3, 7, 59, 59), False), (utc(2026, 12, 3, 8), True), (utc(2026, 12, 3, 11, 59), True),
    (utc(2026, 12, 3, 12), False),
])
def test_a_one_off_window_holds_from_its_start_until_its_end(at: datetime, active: bool) -> None:
    once = Silence("migration", Match(tag=("seed-004",)), OneOff(utc(2026, 12, 3, 8), utc(2026, 12, 3, 12)))
    assert (window_at(once, at) is not None) is active


def test_with_a_frozen_clock_the_window_follows_the_clock() -> None:
    with freeze_time("2026-03-29T01:30:00Z") as frozen:
        assert window_at(NIGHTLY, utc_now()) == Interval(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
        frozen.tick(timedelta(minutes=30))
        assert window_at(NIGHTLY, utc_now()) is None

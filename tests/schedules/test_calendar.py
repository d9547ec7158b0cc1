"""Local windows and calendar buckets as UTC intervals, across both daylight saving changes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from watchdog.schedules.calendar import Interval, buckets, local_window
from watchdog.schedules.cron import fires, parse

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local_day(tz: ZoneInfo, year: int, month: int, day: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, day, tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def lengths(intervals: list[Interval]) -> list[timedelta]:
    return [i.end - i.start for i in intervals]


# --- local windows -----------------------------------------------------------------------------

def test_three_to_six_new_york_is_three_hours_on_both_change_days() -> None:
    assert local_window("03:00", "06:00", NY, *local_day(NY, 2026, 3, 8)) == [
        Interval(utc(2026, 3, 8, 7), utc(2026, 3, 8, 10))]
    assert local_window("03:00", "06:00", NY, *local_day(NY, 2026, 11, 1)) == [
        Interval(utc(2026, 11, 1, 8), utc(2026, 11, 1, 11))]


@pytest.mark.parametrize("tz,window,spring,autumn", [
    (NY, ("01:00", "04:00"), (2026, 3, 8), (2026, 11, 1)),
    (LONDON, ("00:00", "03:00"), (2026, 3, 29), (2026, 10, 25)),
])
def test_a_window_over_the_change_is_as_long_as_the_clock_says(tz: ZoneInfo, window: tuple[str, str],
                                                               spring: tuple[int, int, int],
                                                               autumn: tuple[int, int, int]) -> None:
    assert lengths(local_window(*window, tz, *local_day(tz, *spring))) == [timedelta(hours=2)]
    assert lengths(local_window(*window, tz, *local_day(tz, *autumn))) == [timedelta(hours=4)]


def test_a_window_inside_the_repeated_hour_holds_both_stretches() -> None:
    got = local_window("01:30", "01:45", NY, *local_day(NY, 2026, 11, 1))
    assert got == [Interval(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 5, 45)),
                   Interval(utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 6, 45))]


def test_a_window_spanning_midnight_and_the_range_clips_it() -> None:
    got = local_window("22:00", "02:00", LONDON, utc(2026, 1, 5, 23), utc(2026, 1, 7, 12))
    assert got == [Interval(utc(2026, 1, 5, 23), utc(2026, 1, 6, 2)),
                   Interval(utc(2026, 1, 6, 22), utc(2026, 1, 7, 2))]


def test_a_window_spanning_the_spring_change_ends_when_the_clock_jumps() -> None:
    got = local_window("22:00", "02:30", NY, utc(2026, 3, 7, 12), utc(2026, 3, 8, 12))
    assert got == [Interval(utc(2026, 3, 8, 3), utc(2026, 3, 8, 7))]  # 22:00 EST to 03:00 EDT


def test_window_errors_are_one_line() -> None:
    with pytest.raises(ValueError) as caught:
        local_window("3am", "06:00", NY, utc(2026, 1, 1), utc(2026, 1, 2))
    assert str(caught.value) == "bad time of day '3am' (use HH:MM on a 24-hour clock, e.g. 03:00)"
    with pytest.raises(ValueError) as caught:
        local_window("03:00", "03:00", NY, utc(2026, 1, 1), utc(2026, 1, 2))
    assert str(caught.value) == "local window 03:00-03:00 is empty: its start and end are equal"


# --- buckets -----------------------------------------------------------------------------------

def test_new_york_days_are_23_and_25_hours_on_change_days() -> None:
    spring = buckets("day", NY, utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))
    assert [(b.label, b.end - b.start) for b in spring] == [
        ("2026-03-07", timedelta(hours=24)), ("2026-03-08", timedelta(hours=23)), ("2026-03-09", timedelta(hours=24))]
    autumn = buckets("day", NY, utc(2026, 11, 1, 12), utc(2026, 11, 1, 13))
    assert [(b.label, b.start, b.end) for b in autumn] == [("2026-11-01", utc(2026, 11, 1, 4), utc(2026, 11, 2, 5))]


def test_buckets_are_whole_and_contiguous() -> None:
    days = buckets("day", LONDON, utc(2026, 3, 27, 15), utc(2026, 3, 31, 1))
    assert days[0].start == utc(2026, 3, 27) and days[-1].end == utc(2026, 3, 31, 23)
    assert all(a.end == b.start for a, b in zip(days, days[1:]))
    assert [b.label for b in days] == ["2026-03-27", "2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31"]


def test_weeks_start_on_monday_and_carry_iso_labels() -> None:
    weeks = buckets("week", NY, utc(2026, 11, 1, 12), utc(2026, 11, 4))  # a Sunday to a Wednesday
    assert [(b.label, b.start, b.end) for b in weeks] == [
        ("2026-W44", utc(2026, 10, 26, 4), utc(2026, 11, 2, 5)), ("2026-W45", utc(2026, 11, 2, 5), utc(2026, 11, 9, 5))]


def test_hours_are_real_hours_and_the_repeated_one_is_two_buckets() -> None:
    autumn = buckets("hour", NY, utc(2026, 11, 1, 5), utc(2026, 11, 1, 7))
    assert [(b.label, b.start) for b in autumn] == [
        ("2026-11-01T01:00-04:00", utc(2026, 11, 1, 5)), ("2026-11-01T01:00-05:00", utc(2026, 11, 1, 6))]
    spring = buckets("hour", NY, utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 8))
    assert [b.label for b in spring] == ["2026-03-08T01:00-05:00", "2026-03-08T03:00-04:00"]
    assert {b.end - b.start for b in autumn + spring} == {timedelta(hours=1)}


def test_after_a_half_hour_change_the_hour_buckets_stay_on_local_hours() -> None:
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # 02:00 +10:30 -> 02:30 +11:00
    got = buckets("hour", lord_howe, utc(2026, 10, 3, 14, 30), utc(2026, 10, 3, 17))
    assert [(b.label, b.end - b.start) for b in got] == [
        ("2026-10-04T01:00+10:30", timedelta(hours=1)), ("2026-10-04T02:30+11:00", timedelta(minutes=30)),
        ("2026-10-04T03:00+11:00", timedelta(hours=1))]


def test_bad_period() -> None:
    with pytest.raises(ValueError) as caught:
        buckets("month", NY, utc(2026, 1, 1), utc(2026, 1, 2))
    assert str(caught.value) == "bad period 'month' (use one of hour, day, week)"


# --- seed 003: once per New York date, inside 03:00-06:00 ET -----------------------------------

def test_seed_003_runs_counted_per_new_york_date_inside_the_window() -> None:
    """Runs logged by the `0 7 * * *` and `0 8 * * *` UTC entries (minus the one that never
    happened on 3 November), counted per New York date inside 03:00-06:00 ET: both entries fall
    in the window on 31 October (EDT), only the 08:00 one after the change, none on 3 November."""
    start, end = utc(2026, 10, 31, 4), utc(2026, 11, 4, 5)
    entries = fires(parse("0 7 * * *"), UTC, start, end, limit=10) + fires(parse("0 8 * * *"), UTC, start, end, limit=10)
    runs = [f.utc for f in entries if f.utc != utc(2026, 11, 3, 8)]
    window = local_window("03:00", "06:00", NY, start, end)
    counts = {b.label: sum(1 for t in runs if b.start <= t < b.end and any(w.start <= t < w.end for w in window))
              for b in buckets("day", NY, start, end)}
    assert counts == {"2026-10-31": 2, "2026-11-01": 1, "2026-11-02": 1, "2026-11-03": 0}
    assert len(runs) == 7  # the 07:00 UTC runs at 02:00 EST are outside the window, not missing

"""Parsing schedules, their canonical form, and expected fire times across daylight saving."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim

from watchdog.schedules.cron import ALIASES, FireLimitExceeded, fires, normalize, parse

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local_times(expr: str, tz: ZoneInfo, start: datetime, end: datetime) -> list[str]:
    return [fire.local.isoformat() for fire in fires(parse(expr), tz, start, end, limit=10_000)]


def in_local_day(expr: str, tz: ZoneInfo, year: int, month: int, day: int) -> list[datetime]:
    """The fires of one whole local date, as local times."""
    start = datetime(year, month, day, tzinfo=tz).astimezone(UTC)
    end = (datetime(year, month, day, tzinfo=tz) + timedelta(days=1)).astimezone(UTC)
    return [fire.local for fire in fires(parse(expr), tz, start, end, limit=10_000)]


# --- parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_aliases_expand_as_vixie_cron_defines_them(alias: str) -> None:
    expected = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
                "@hourly": "0 * * * *"}
    assert parse(alias).cron == expected[alias]
    assert parse(alias.upper()).cron == expected[alias]


def test_names_ranges_steps_and_lists_select_the_right_instants() -> None:
    got = local_times("5,35 9-10/1 * JAN mon-WED", UTC, utc(2026, 1, 5), utc(2026, 1, 12))
    assert len(got) == 3 * 4  # Monday to Wednesday, 09:05 09:35 10:05 10:35
    assert got[:4] == ["2026-01-05T09:05:00+00:00", "2026-01-05T09:35:00+00:00",
                       "2026-01-05T10:05:00+00:00", "2026-01-05T10:35:00+00:00"]
    assert got[-1] == "2026-01-07T10:35:00+00:00"
    assert local_times("0 0 * FEB *", UTC, utc(2026, 1, 1), utc(2026, 3, 1))[0] == "2026-02-01T00:00:00+00:00"


def test_dollar_is_the_last_day_of_each_month() -> None:
    got = local_times("0 4 $ * *", UTC, utc(2028, 1, 1), utc(2028, 5, 1))
    assert got == ["2028-01-31T04:00:00+00:00", "2028-02-29T04:00:00+00:00",
                   "2028-03-31T04:00:00+00:00", "2028-04-30T04:00:00+00:00"]


@pytest.mark.parametrize("text,seconds", [("30 seconds", 30), ("1 second", 1), ("59 Seconds", 59),
                                           (" 5  seconds ", 5)])
def test_pg_cron_interval_schedules(text: str, seconds: int) -> None:
    schedule = parse(text)
    assert schedule.every_seconds == seconds and schedule.cron is None


def test_interval_fires_every_n_seconds_from_the_epoch_whatever_the_zone() -> None:
    got = fires(parse("20 seconds"), NY, utc(2026, 3, 8, 6, 59, 5), utc(2026, 3, 8, 7, 0, 5), limit=10)
    assert [f.utc for f in got] == [utc(2026, 3, 8, 6, 59, 20), utc(2026, 3, 8, 6, 59, 40),
                                    utc(2026, 3, 8, 7, 0, 0)]
    assert got[-1].local.isoformat() == "2026-03-08T03:00:00-04:00"


@pytest.mark.parametrize("text,message", [
    ("", "empty schedule (use five cron fields, an @alias or 'N seconds')"),
    ("* * * *", "'* * * *' has 4 fields; a cron schedule has five: minute hour day-of-month month day-of-week"),
    ("0 0 * * * *", "'0 0 * * * *' has 6 fields; a cron schedule has five: minute hour day-of-month month day-of-week"),
    ("61 * * * *", "'61 * * * *': bad minute field '61'"),
    ("0 24 * * *", "'0 24 * * *': bad hour field '24'"),
    ("0 $ * * *", "'0 $ * * *': bad hour field '$'"),
    ("0 0 31 2 *", "'0 0 31 2 *': bad day-of-month field '31'"),
    ("0 0 * FOO *", "'0 0 * FOO *': bad month field 'FOO'"),
    ("0 0 * * MONDAY", "'0 0 * * MONDAY': bad day-of-week field 'MONDAY'"),
    ("*/0 * * * *", "'*/0 * * * *': bad minute field '*/0'"),
    ("60 seconds", "'60 seconds': an interval schedule takes 1 to 59 seconds"),
    ("0 seconds", "'0 seconds': an interval schedule takes 1 to 59 seconds"),
    ("@reboot", "'@reboot' runs at start-up only, so it has no fire times to check"),
    ("@fortnightly", "unknown schedule '@fortnightly' (use one of @yearly, @annually, @monthly, "
                     "@weekly, @daily, @midnight, @hourly)"),
])
def test_bad_schedules_get_a_one_line_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse(text)
    assert str(caught.value) == message


# --- canonical form --------------------------------------------------------------------------

SAME = [
    ("* * * * *", "*/1 * * * *"),
    ("0 */1 * * *", "0 * * * *"),
    ("0 3 * JAN-MAR MON-FRI", "0 3 * 1,2,3 1-5"),
    ("0 0 * * SUN", "0 0 * * 7"),
    ("0 0 $ * *", "0 0 L * *"),
    ("@daily", "0 0 * * *"),
    ("@hourly", "0 */1 * * *"),
    ("0 0 1-31 * 1", "0 0 * * *"),  # day fields ORed: every day
    ("0 0 * * 0-6", "0 0 * * *"),
    ("*/15 */2 * * *", "*/15 0-22/2 * * *"),
    ("30 seconds", "30 SECONDS"),
]
DIFFERENT = [
    ("0 0-23 * * *", "0 * * * *"),  # fixed-time versus every real hour: they differ on DST days
    ("0 0 1-31 * 1", "0 0 * * 1"),  # ORed (every day) versus ANDed (Mondays)
    ("0 0 */2 * 1", "0 0 1-31/2 * 1"),  # ANDed versus ORed
    ("0 7 * * *", "0 8 * * *"),
    ("*/15 */2 * * *", "0-59/15 0-22/2 * * *"),  # every real instant versus fixed times
]


@pytest.mark.parametrize("left,right", SAME)
def test_same_fire_times_have_the_same_canonical_form(left: str, right: str) -> None:
    assert normalize(left) == normalize(right)
    # and it is a schedule with the same fires, across both New York changes
    for start in (utc(2026, 3, 7), utc(2026, 10, 31)):
        end = start + timedelta(days=3)
        canonical = local_times(normalize(left), NY, start, end)
        assert canonical == local_times(left, NY, start, end) == local_times(right, NY, start, end)


@pytest.mark.parametrize("left,right", DIFFERENT)
def test_different_fire_times_have_different_canonical_forms(left: str, right: str) -> None:
    assert normalize(left) != normalize(right)
    starts = (utc(2026, 3, 7), utc(2026, 10, 31))
    assert any(local_times(left, NY, s, s + timedelta(days=3)) != local_times(right, NY, s, s + timedelta(days=3))
               for s in starts)


def test_canonical_form_spells_numbers() -> None:
    assert normalize("0 3 * JAN-MAR MON-FRI") == "0 3 * 1-3 1-5"
    assert normalize("0 */1 * * *") == "0 * * * *"


# --- the daylight saving rule ------------------------------------------------------------------

def test_fixed_time_in_the_skipped_hour_fires_once_right_after_it_new_york() -> None:
    got = local_times("30 2 * * *", NY, utc(2026, 3, 7), utc(2026, 3, 10))
    assert got == ["2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]


def test_fixed_time_in_the_repeated_hour_fires_once_at_its_first_occurrence_new_york() -> None:
    got = fires(parse("30 1 * * *"), NY, utc(2026, 10, 31), utc(2026, 11, 3), limit=10)
    assert [f.utc for f in got] == [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]
    assert got[1].local.isoformat() == "2026-11-01T01:30:00-04:00"  # EDT, the first 01:30


def test_fixed_times_in_london_both_directions() -> None:
    spring = local_times("30 1 * * *", LONDON, utc(2026, 3, 28), utc(2026, 3, 31))
    assert spring == ["2026-03-28T01:30:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"]
    autumn = local_times("30 1 * * *", LONDON, utc(2026, 10, 24), utc(2026, 10, 27))
    assert autumn == ["2026-10-24T01:30:00+01:00", "2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"]
    # 02:30 is not in London's gap (01:00-02:00): nothing moves
    assert local_times("30 2 * * *", LONDON, utc(2026, 3, 29), utc(2026, 3, 30)) == ["2026-03-29T02:30:00+01:00"]


def test_two_fixed_times_in_the_gap_fire_once() -> None:
    assert [t.isoformat() for t in in_local_day("15,45 2 * * *", NY, 2026, 3, 8)] == ["2026-03-08T03:00:00-04:00"]


@pytest.mark.parametrize("tz,spring,autumn", [(NY, (2026, 3, 8), (2026, 11, 1)),
                                               (LONDON, (2026, 3, 29), (2026, 10, 25))])
def test_every_15_minutes_fires_on_every_real_quarter_hour(tz: ZoneInfo, spring: tuple[int, int, int],
                                                           autumn: tuple[int, int, int]) -> None:
    short_day = in_local_day("*/15 * * * *", tz, *spring)
    long_day = in_local_day("*/15 * * * *", tz, *autumn)
    assert len(short_day) == 23 * 4 and len(long_day) == 25 * 4
    skipped_hour = 2 if tz is NY else 1
    assert not [t for t in short_day if t.hour == skipped_hour]
    repeated = [t.isoformat() for t in long_day if t.hour == 1]
    assert len(repeated) == 8 and len(set(repeated)) == 8  # four on each side of the change
    gaps = {b.astimezone(UTC) - a.astimezone(UTC) for a, b in zip(long_day, long_day[1:])}
    assert gaps == {timedelta(minutes=15)}


def test_hourly_fires_twice_in_the_repeated_hour_and_not_in_the_skipped_one() -> None:
    autumn = [t.isoformat() for t in in_local_day("0 * * * *", NY, 2026, 11, 1)]
    assert len(autumn) == 25
    assert autumn[1:3] == ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"]
    spring = [t.isoformat() for t in in_local_day("@hourly", NY, 2026, 3, 8)]
    assert len(spring) == 23 and spring[1:3] == ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"]


def test_weekdays_at_three_keep_local_time_across_the_change() -> None:
    got = fires(parse("0 3 * * 1-5"), NY, utc(2026, 3, 2), utc(2026, 3, 16), limit=100)
    assert [f.local.strftime("%a %d %H:%M") for f in got] == [
        "Mon 02 03:00", "Tue 03 03:00", "Wed 04 03:00", "Thu 05 03:00", "Fri 06 03:00",
        "Mon 09 03:00", "Tue 10 03:00", "Wed 11 03:00", "Thu 12 03:00", "Fri 13 03:00"]
    assert {f.utc.hour for f in got[:5]} == {8} and {f.utc.hour for f in got[5:]} == {7}


def test_daily_is_local_midnight_on_both_sides_of_the_change() -> None:
    got = fires(parse("@daily"), NY, utc(2026, 10, 31), utc(2026, 11, 3), limit=10)
    assert [f.utc for f in got] == [utc(2026, 10, 31, 4), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)]
    assert {f.local.hour for f in got} == {0}


def test_last_day_of_month_in_a_zone() -> None:
    got = fires(parse("0 0 $ * *"), LONDON, utc(2026, 3, 1), utc(2026, 5, 1), limit=10)
    assert [f.local.isoformat() for f in got] == ["2026-03-31T00:00:00+01:00", "2026-04-30T00:00:00+01:00"]


@pytest.mark.parametrize("expr", ["30 2 * * *", "30 1 * * *", "15,45 2 * * *", "0 1-3 * * *", "*/15 * * * *",
                                  "0 * * * *", "*/45 * * * *", "*/20 1 * * *", "0 3 * * 1-5", "@daily",
                                  "0 0 $ * *", "0 0 */2 * MON"])
@pytest.mark.parametrize("tz", [NY, LONDON], ids=["new_york", "london"])
def test_fires_agree_with_cronsims_own_iterator_around_every_change(expr: str, tz: ZoneInfo) -> None:
    for start in (utc(2026, 3, 6), utc(2026, 3, 27), utc(2026, 10, 23), utc(2026, 10, 30)):
        end = start + timedelta(days=4)
        ours = [f.utc for f in fires(parse(expr), tz, start, end, limit=1000)]
        theirs = []
        for local in CronSim(parse(expr).cron or "", (start - timedelta(seconds=1)).astimezone(tz)):
            if local.astimezone(UTC) >= end:
                break
            theirs.append(local.astimezone(UTC))
        assert ours == [t for t in theirs if t >= start]


# --- the range and the bound -------------------------------------------------------------------

def test_range_includes_its_start_and_excludes_its_end() -> None:
    got = fires(parse("0 * * * *"), UTC, utc(2026, 1, 1, 1), utc(2026, 1, 1, 3), limit=10)
    assert [f.utc for f in got] == [utc(2026, 1, 1, 1), utc(2026, 1, 1, 2)]


def test_a_fire_in_the_repeated_hour_before_the_start_is_not_returned() -> None:
    # start at 01:40 EST, after the only 01:30 of the day (01:30 EDT)
    assert fires(parse("30 1 * * *"), NY, utc(2026, 11, 1, 6, 40), utc(2026, 11, 2), limit=5) == []


def test_the_limit_raises_instead_of_building_a_huge_list() -> None:
    every_minute = parse("* * * * *")
    assert len(fires(every_minute, UTC, utc(2026, 1, 1), utc(2026, 1, 1, 1), limit=60)) == 60
    with pytest.raises(FireLimitExceeded) as caught:
        fires(every_minute, UTC, utc(2026, 1, 1), utc(2026, 1, 31), limit=1000)
    assert str(caught.value) == "schedule '* * * * *' fires more than 1000 times in the range"
    with pytest.raises(FireLimitExceeded):
        fires(parse("1 second"), UTC, utc(2026, 1, 1), utc(2026, 1, 2), limit=1000)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="time-zone-aware"):
        fires(parse("@daily"), NY, datetime(2026, 1, 1), utc(2026, 1, 2), limit=5)


def test_fixed_time_flag_follows_the_minute_and_hour_fields() -> None:
    assert parse("30 2 * * *").fixed_time and parse("@daily").fixed_time
    assert not parse("*/15 3 * * *").fixed_time and not parse("0 * * * *").fixed_time
    assert not parse("30 seconds").fixed_time

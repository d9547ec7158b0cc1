"""Judging runs against fires: missed, overlong and duplicate slots, and seed 003's daily batch."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from watchdog.schedules.cron import Fire, fires, parse
from watchdog.schedules.judge import Breach, BreachKind, Limits, Run, judge

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
GRACE = timedelta(minutes=30)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def daily_at_three(days: int = 3) -> list[Fire]:
    """03:00 New York on 2026-10-30, 31 and 11-01 (the last after the change): 07:00, 07:00, 08:00 UTC."""
    return fires(parse("0 3 * * *"), NY, utc(2026, 10, 30), utc(2026, 10, 30) + timedelta(days=days), limit=10)


def kinds(breaches: list[Breach]) -> list[tuple[str, datetime]]:
    return [(b.kind.value, b.fire.utc) for b in breaches]


LATER = utc(2026, 11, 5)


# --- missed ----------------------------------------------------------------------------------

def test_a_fire_without_a_run_in_its_grace_is_missed() -> None:
    runs = [Run(utc(2026, 10, 30, 7, 1)), Run(utc(2026, 11, 1, 8, 30))]  # the 31st has none
    assert kinds(judge(daily_at_three(), runs, Limits(GRACE), LATER)) == [("missed", utc(2026, 10, 31, 7))]


def test_grace_is_inclusive_and_a_second_later_is_missed() -> None:
    fire = daily_at_three(1)
    assert judge(fire, [Run(utc(2026, 10, 30, 7, 30))], Limits(GRACE), LATER) == []
    late = judge(fire, [Run(utc(2026, 10, 30, 7, 30, 1))], Limits(GRACE), LATER)
    assert kinds(late) == [("missed", utc(2026, 10, 30, 7))]
    assert late[0].reason == "no run started within 30m of the fire"


def test_a_run_before_the_fire_does_not_meet_it() -> None:
    runs = [Run(utc(2026, 10, 30, 6, 59))]
    assert kinds(judge(daily_at_three(1), runs, Limits(GRACE), LATER)) == [("missed", utc(2026, 10, 30, 7))]


def test_a_fire_whose_grace_has_not_elapsed_is_not_judged_yet() -> None:
    fire = daily_at_three(1)
    assert judge(fire, [], Limits(GRACE), utc(2026, 10, 30, 7, 29, 59)) == []
    assert kinds(judge(fire, [], Limits(GRACE), utc(2026, 10, 30, 7, 30))) == [("missed", utc(2026, 10, 30, 7))]


def test_fires_before_the_job_existed_are_not_judged() -> None:
    created = utc(2026, 10, 31, 12)
    got = judge(daily_at_three(), [], Limits(GRACE), LATER, created=created)
    assert kinds(got) == [("missed", utc(2026, 11, 1, 8))]


def test_a_job_that_never_ran_and_has_no_creation_time_is_missed_at_every_fire() -> None:
    got = judge(daily_at_three(), [], Limits(GRACE), LATER)
    assert [b.kind for b in got] == [BreachKind.MISSED] * 3


def test_a_breach_names_its_fire_in_utc_and_local_time() -> None:
    (breach,) = judge(daily_at_three(3)[2:], [], Limits(GRACE), LATER)
    assert breach.fire.utc == utc(2026, 11, 1, 8)
    assert breach.fire.local.isoformat() == "2026-11-01T03:00:00-05:00"


# --- overlong --------------------------------------------------------------------------------

def test_a_finished_run_longer_than_max_runtime_is_overlong() -> None:
    limits = Limits(GRACE, max_runtime=timedelta(hours=1))
    runs = [Run(utc(2026, 10, 30, 7), utc(2026, 10, 30, 8), ident=1),  # exactly 1h: fine
            Run(utc(2026, 10, 31, 7), utc(2026, 10, 31, 8, 20), ident=2)]
    got = judge(daily_at_three(2), runs, limits, LATER)
    assert kinds(got) == [("overlong", utc(2026, 10, 31, 7))]
    assert got[0].runs == (runs[1],)
    assert got[0].reason == "ran 80m, longer than max_runtime 1h"


def test_an_unfinished_run_past_max_runtime_is_overlong_until_then_it_is_not() -> None:
    limits = Limits(GRACE, max_runtime=timedelta(hours=1))
    runs = [Run(utc(2026, 10, 30, 7, 5))]
    assert judge(daily_at_three(1), runs, limits, utc(2026, 10, 30, 8, 5)) == []
    got = judge(daily_at_three(1), runs, limits, utc(2026, 10, 30, 8, 6))
    assert kinds(got) == [("overlong", utc(2026, 10, 30, 7))]
    assert got[0].reason == "still running after 61m, longer than max_runtime 1h"


# --- duplicate and the matching rule ---------------------------------------------------------

def test_more_runs_than_at_most_in_one_slot_is_a_duplicate_naming_the_runs() -> None:
    limits = Limits(GRACE, at_most=1)
    runs = [Run(utc(2026, 10, 30, 7), ident="a"), Run(utc(2026, 10, 31, 7), ident="b"),
            Run(utc(2026, 10, 31, 9), ident="c"), Run(utc(2026, 11, 1, 8), ident="d")]
    got = judge(daily_at_three(), runs, limits, LATER)
    assert kinds(got) == [("duplicate", utc(2026, 10, 31, 7))]
    assert [r.ident for r in got[0].runs] == ["b", "c"]
    assert got[0].reason == "2 runs started for one fire, at most 1 allowed"


def test_a_run_belongs_to_the_latest_fire_at_or_before_its_start() -> None:
    limits = Limits(timedelta(hours=24), at_most=1)
    # 06:59 UTC on the 31st is before that day's fire: it belongs to the 30th's slot
    runs = [Run(utc(2026, 10, 30, 7)), Run(utc(2026, 10, 31, 6, 59)), Run(utc(2026, 10, 31, 7))]
    got = judge(daily_at_three(2), runs, limits, LATER)
    assert kinds(got) == [("duplicate", utc(2026, 10, 30, 7))]
    assert [r.start for r in got[0].runs] == [utc(2026, 10, 30, 7), utc(2026, 10, 31, 6, 59)]


def test_runs_before_the_first_fire_belong_to_no_judged_slot() -> None:
    runs = [Run(utc(2026, 10, 29, 7)), Run(utc(2026, 10, 29, 8)), Run(utc(2026, 10, 30, 7))]
    assert judge(daily_at_three(1), runs, Limits(GRACE, at_most=1), LATER) == []


def test_runs_out_of_order_are_judged_as_if_sorted() -> None:
    runs = [Run(utc(2026, 11, 1, 8, 1)), Run(utc(2026, 10, 30, 7, 1)), Run(utc(2026, 10, 31, 7, 1))]
    assert judge(daily_at_three(), runs, Limits(GRACE, at_most=1), LATER) == []


def test_every_quarter_hour_across_the_autumn_change() -> None:
    """A */15 job over New York's 25-hour day: 100 fires; the repeated hour counts twice."""
    start, end = datetime(2026, 11, 1, tzinfo=NY).astimezone(UTC), datetime(2026, 11, 2, tzinfo=NY).astimezone(UTC)
    quarter = fires(parse("*/15 * * * *"), NY, start, end, limit=200)
    runs = [Run(f.utc + timedelta(seconds=20)) for f in quarter if f.utc != utc(2026, 11, 1, 6, 15)]
    got = judge(quarter, runs, Limits(timedelta(minutes=2), at_most=1), end + timedelta(hours=1))
    assert len(quarter) == 100
    assert kinds(got) == [("missed", utc(2026, 11, 1, 6, 15))]
    assert got[0].fire.local.isoformat() == "2026-11-01T01:15:00-05:00"  # the second 01:15


# --- seed 003: the daily batch -----------------------------------------------------------------

def test_seed_003_two_utc_entries_give_a_duplicate_per_new_york_date_and_a_missed_date() -> None:
    """The batch must run once per New York date in 03:00-06:00 ET. pg_cron runs it from two UTC
    entries, `0 7 * * *` (03:00 EDT) and `0 8 * * *` (03:00 EST); the trigger only works when the
    New York hour is 3, 4 or 5. Before the November change both entries land in the window, so
    the batch runs twice on a date; after it the 07:00 UTC entry falls at 02:00 EST and is
    skipped. On 3 November the 08:00 entry's run never happened."""
    start, end = utc(2026, 10, 31), utc(2026, 11, 4)
    entries = fires(parse("0 7 * * *"), UTC, start, end, limit=10) + fires(parse("0 8 * * *"), UTC, start, end, limit=10)
    in_window = sorted(f.utc for f in entries if 3 <= f.utc.astimezone(NY).hour < 6)
    runs = [Run(t, t + timedelta(minutes=20), ident=t.strftime("%d %H:%M")) for t in in_window
            if t != utc(2026, 11, 3, 8)]
    expected = fires(parse("0 3 * * *"), NY, start, end, limit=10)
    got = judge(expected, runs, Limits(timedelta(hours=3), max_runtime=timedelta(hours=1), at_most=1), LATER)
    assert [(b.kind.value, b.fire.local.date().isoformat()) for b in got] == [
        ("duplicate", "2026-10-31"), ("missed", "2026-11-03")]
    assert [r.ident for r in got[0].runs] == ["31 07:00", "31 08:00"]

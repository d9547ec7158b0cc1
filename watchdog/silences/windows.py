"""When a silence holds: its window around an instant, in UTC.

A recurring silence opens at each fire of its cron schedule on the local clock of its time zone,
as a cron job would start (watchdog.schedules.cron: a fixed-time fire skipped by the spring change
opens at the end of the gap, one repeated by the autumn change opens at its first occurrence), and
lasts `duration` of real time: a 1h window over the autumn change closes one hour later by the
UTC clock, whatever the wall clock reads then.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from watchdog.model.silences import OneOff, Recurring, Silence
from watchdog.schedules.calendar import Interval
from watchdog.schedules.cron import FireLimitExceeded, fires, parse

# Fires looked for at once; a search span is doubled from FIRST_SPAN until the window's duration.
FIRE_LIMIT = 100_000
FIRST_SPAN = timedelta(hours=1)
_TICK = timedelta(microseconds=1)  # fires() takes [start, end): a fire at `now` itself counts


def window_at(silence: Silence, now: datetime) -> Interval | None:
    """The window of `silence` that holds at `now` (start <= now < end), or None."""
    window = silence.window
    if isinstance(window, OneOff):
        return Interval(window.start, window.end) if window.start <= now < window.end else None
    start = last_fire(window, now)
    if start is None:
        return None
    end = start + timedelta(seconds=window.duration)
    return Interval(start, end) if now < end else None


def last_fire(window: Recurring, now: datetime) -> datetime | None:
    """The latest fire of the window's schedule at or before `now`, no further back than its
    duration (an older one has closed). Searched backwards over doubling spans, so a window of a
    minutely schedule costs a few fires, not a day's worth."""
    schedule, tz = parse(window.cron), ZoneInfo(window.timezone)
    longest = timedelta(seconds=window.duration)
    span = min(FIRST_SPAN, longest)
    while True:
        found = fires(schedule, tz, now - span, now + _TICK, FIRE_LIMIT)
        if found:
            return found[-1].utc
        if span >= longest:
            return None
        span = min(span * 2, longest)


def shortest_gap(window: Recurring, start: datetime, span: timedelta) -> timedelta | None:
    """The shortest time between two fires of the schedule in [start, start + span), None with
    fewer than two; more fires than FIRE_LIMIT gives the span shared out among them (a bound)."""
    try:
        found = [f.utc for f in fires(parse(window.cron), ZoneInfo(window.timezone), start, start + span, FIRE_LIMIT)]
    except FireLimitExceeded:
        return span / FIRE_LIMIT
    return min((b - a for a, b in zip(found, found[1:])), default=None)

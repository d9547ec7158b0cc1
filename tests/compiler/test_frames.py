"""A frame's intervals, worked out once a day and cut to each evaluation's range, are the ones the
calendar gives for that range directly, across daylight saving changes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from watchdog.compiler.frames import Frame
from watchdog.schedules.calendar import Bucket, buckets, local_window

# New York's spring (8 March) and autumn (1 November) changes of 2026, and Lord Howe's half hour.
FRAMES = [
    Frame(7 * 86400.0, "America/New_York", opens="03:00", closes="06:00"),
    Frame(2 * 86400.0, "America/New_York", opens="01:00", closes="04:00"),
    Frame(3 * 86400.0, "Europe/London", opens="22:00", closes="02:00"),
    Frame(7 * 86400.0, "America/New_York", period="day"),
    Frame(30 * 86400.0, "Europe/Berlin", period="week"),
    Frame(86400.0, "Australia/Lord_Howe", period="hour"),
]
NOWS = [datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)
        for month, day in ((3, 8), (3, 9), (4, 5), (11, 1), (11, 2), (11, 8)) for hour, minute in ((0, 0), (6, 59), (13, 30))]


def direct(frame: Frame, now: datetime) -> tuple[Bucket, ...]:
    zone, start = ZoneInfo(frame.tz), now - timedelta(seconds=frame.span)
    if frame.period is not None:
        found = buckets(frame.period, zone, start, now)
    else:
        found = [Bucket(i.start, i.end, "") for i in local_window(frame.opens or "", frame.closes or "", zone, start, now)]
    return tuple(found[: frame.slots]) + (Bucket(now, now, ""),) * max(0, frame.slots - len(found))


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f"{f.tz}-{f.period or f.opens}")
def test_intervals_are_those_of_the_range_itself(frame):
    for now in NOWS:
        assert frame.intervals(now) == direct(frame, now), now

"""Between a zone's wall clock and UTC instants, across the gaps and repeats daylight saving makes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


def first_instant_at(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the local clock reads `wall` (naive) or later.

    A repeated wall time gives its first occurrence; a skipped one gives the end of the gap,
    the moment the clock jumps past it.
    """
    earlier = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if exists(wall, tz, earlier):
        return earlier
    # In a gap: fold=1 reads the wall time with the offset after the change, landing before it.
    before = int(wall.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    return instant(first_change(tz, before, int(earlier.timestamp()), offset(tz, instant(before))))


def exists(wall: datetime, tz: ZoneInfo, reading: datetime) -> bool:
    """Whether `reading` (the UTC of `wall` read with fold=0) shows `wall` on the clock again,
    i.e. whether the wall time was not skipped by a change."""
    return reading.astimezone(tz).replace(tzinfo=None) == wall


def first_change(tz: ZoneInfo, before: int, after: int, was: timedelta) -> int:
    """The first second in (before, after] whose UTC offset is not `was` (found by bisection)."""
    while after - before > 1:
        middle = (before + after) // 2
        if offset(tz, instant(middle)) == was:
            before = middle
        else:
            after = middle
    return after


def offset(tz: ZoneInfo, moment: datetime) -> timedelta:
    """The zone's UTC offset at an instant."""
    found = moment.astimezone(tz).utcoffset()
    assert found is not None
    return found


def instant(seconds: int) -> datetime:
    """A Unix time as a UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)

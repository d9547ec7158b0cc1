"""Local-time frames bound at each evaluation: `per` calendar buckets and `local_window` intervals.

A frame turns `now` into UTC intervals (watchdog.schedules.calendar) over the rule's window. The
query holds a fixed number of interval slots, sized at compile time for the longest the window
can need; each evaluation binds the real edges and fills the rest with empty intervals. So the
time column is compared bare with bound instants and its index is used, whatever the time zone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from watchdog.schedules.calendar import Bucket, buckets, local_window

_SPAN = {"hour": 3600.0, "day": 86400.0, "week": 604800.0}


@dataclass(frozen=True)
class Frame:
    """`per` buckets (`period` set) or a local window (`opens`/`closes` set) over the last `span` seconds."""

    span: float
    tz: str
    period: str | None = None
    opens: str | None = None
    closes: str | None = None

    @property
    def slots(self) -> int:
        if self.period is not None:
            return math.ceil(self.span / _SPAN[self.period]) + 3  # a DST day adds an hour bucket
        # a window a day, and at a daylight saving change one more (a window over the repeated hour
        # is two pieces); changes come at most twice a year
        return math.ceil(self.span / 86400.0) + 2 + 2 * math.ceil(self.span / (180 * 86400.0))

    def intervals(self, now: datetime) -> tuple[Bucket, ...]:
        """The frame's intervals at `now`, padded with empty ones to `slots`."""
        return _intervals(self, now)


@lru_cache(maxsize=256)
def _intervals(frame: Frame, now: datetime) -> tuple[Bucket, ...]:
    start = now - timedelta(seconds=frame.span)
    around = _around(frame, math.floor(now.timestamp() / 86400.0))
    if frame.period is not None:  # whole buckets, the first and last may reach outside
        found = [b for b in around if b.end > start and b.start < now]
    else:  # pieces, cut at the frame's ends
        found = [Bucket(max(b.start, start), min(b.end, now), "") for b in around if b.end > start and b.start < now]
    empty = Bucket(now, now, "")
    return tuple(found[: frame.slots]) + (empty,) * max(0, frame.slots - len(found))


@lru_cache(maxsize=64)
def _around(frame: Frame, day: int) -> tuple[Bucket, ...]:
    """The frame's intervals for every `now` of UTC day number `day` (and a day more each side),
    worked out once a day: finding them probes the zone's offset hour by hour over the span, which
    would otherwise be most of a cycle's Python time. Cutting these to [now - span, now) gives what
    working them out for that range gives."""
    zone = ZoneInfo(frame.tz)
    start = datetime.fromtimestamp((day - 1) * 86400.0 - frame.span, timezone.utc)
    end = datetime.fromtimestamp((day + 2) * 86400.0, timezone.utc)
    if frame.period is not None:
        return tuple(buckets(frame.period, zone, start, end))
    return tuple(Bucket(i.start, i.end, "") for i in local_window(frame.opens or "", frame.closes or "", zone, start, end))


@dataclass(frozen=True)
class Edge:
    """One bound value of a frame: the `start` or `end` instant (in the column's unit) or the `label`
    of its interval number `index`."""

    frame: Frame
    index: int
    part: str
    unit: str

    def __str__(self) -> str:
        f = self.frame
        what = f"{f.period} bucket" if f.period else f"local window {f.opens}-{f.closes} piece"
        return f"{what} {self.index} {self.part}, {f.tz}, bound at each evaluation"

    def resolve(self, now: datetime, time_value: Any) -> Any:
        interval = self.frame.intervals(now)[self.index]
        if self.part == "label":
            return interval.label
        return time_value(interval.start if self.part == "start" else interval.end, self.unit)


def per_frame(span: float, period: str, tz: str | None) -> Frame:
    return Frame(float(span), tz or "UTC", period=period)


def window_frame(span: float, spec: Any) -> Frame:
    return Frame(float(span), spec.get("timezone") or "UTC", opens=spec["from"], closes=spec["to"])

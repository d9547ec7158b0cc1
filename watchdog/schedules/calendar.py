"""Local-time windows and local calendar buckets, as UTC intervals.

A probe binds these intervals as UTC instants, so the database compares the bare time column
(and uses its index) instead of converting every row to local time.

- A window `03:00`-`06:00` holds every instant whose local time of day is in [03:00, 06:00),
  so on daylight saving days it is as long as the clock says: a window over the skipped hour is
  an hour shorter, one over the repeated hour an hour longer (01:00-04:00 in New York is 2 h in
  March, 4 h in November). A window whose end is not after its start spans midnight.
- A day (or week, starting Monday as ISO does) runs from the first instant the local clock
  reads its midnight to the next one, so a New York day is 23 or 25 hours on change days.
  An hour runs from one local time on the hour to the next: the repeated 01:00 is two buckets,
  and after a half-hour change (Lord Howe) the hour that starts at xx:30 lasts 30 minutes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from watchdog.schedules.clock import first_change, first_instant_at, instant, offset

UTC = timezone.utc
PERIODS = ("hour", "day", "week")
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Interval:
    """[start, end) in UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Bucket:
    """One local calendar period as [start, end) in UTC, with a label in local terms."""

    start: datetime
    end: datetime
    label: str


def parse_time_of_day(text: str) -> time:
    """`HH:MM` on a 24-hour clock; a ValueError says the accepted form."""
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise ValueError(f"bad time of day '{text}' (use HH:MM on a 24-hour clock, e.g. 03:00)") from None


def local_window(window_from: str, window_to: str, tz: ZoneInfo, start_utc: datetime,
                 end_utc: datetime) -> list[Interval]:
    """The parts of [start_utc, end_utc) whose local time of day is in [window_from, window_to)."""
    opens, closes = parse_time_of_day(window_from), parse_time_of_day(window_to)
    if opens == closes:
        raise ValueError(f"local window {window_from}-{window_to} is empty: its start and end are equal")
    found: list[Interval] = []
    for piece in _steady_offsets(tz, start_utc, end_utc):
        found.extend(_window_in_piece(opens, closes, piece))
    return _merged(found)


@dataclass(frozen=True, slots=True)
class _Piece:
    """A stretch of UTC time over which the zone's offset does not change."""

    start: datetime
    end: datetime
    offset: timedelta


def _window_in_piece(opens: time, closes: time, piece: _Piece) -> list[Interval]:
    wall_start = (piece.start + piece.offset).replace(tzinfo=None)
    wall_end = (piece.end + piece.offset).replace(tzinfo=None)
    found: list[Interval] = []
    day = wall_start.date() - _DAY
    while datetime.combine(day, opens) < wall_end:
        window_start = datetime.combine(day, opens)
        window_end = datetime.combine(day + _DAY if closes <= opens else day, closes)
        low, high = max(window_start, wall_start), min(window_end, wall_end)
        if low < high:
            found.append(Interval((low - piece.offset).replace(tzinfo=UTC),
                                  (high - piece.offset).replace(tzinfo=UTC)))
        day += _DAY
    return found


def _merged(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if merged and interval.start <= merged[-1].end:
            merged[-1] = Interval(merged[-1].start, max(merged[-1].end, interval.end))
        else:
            merged.append(interval)
    return merged


def _steady_offsets(tz: ZoneInfo, start_utc: datetime, end_utc: datetime) -> list[_Piece]:
    """[start_utc, end_utc) cut where the zone's UTC offset changes.

    zoneinfo does not list its transitions, so the offset is probed hourly and each change is
    found to the second by bisection (tzdata has no two changes within an hour).
    """
    pieces: list[_Piece] = []
    piece_start, current = start_utc, offset(tz, start_utc)
    probe = int(start_utc.timestamp())
    while probe < end_utc.timestamp():
        following = probe + 3600
        if offset(tz, instant(following)) == current:
            probe = following
            continue
        change = instant(first_change(tz, probe, following, current))
        if change >= end_utc:
            break
        pieces.append(_Piece(piece_start, change, current))
        piece_start, current = change, offset(tz, change)
        probe = int(change.timestamp())
    pieces.append(_Piece(piece_start, end_utc, current))
    return [piece for piece in pieces if piece.start < piece.end]


def buckets(per: str, tz: ZoneInfo, start_utc: datetime, end_utc: datetime) -> list[Bucket]:
    """Every local hour, day or week that overlaps [start_utc, end_utc), whole (the first and
    last may reach outside the range, so the caller sees which periods are complete)."""
    if per not in PERIODS:
        raise ValueError(f"bad period '{per}' (use one of {', '.join(PERIODS)})")
    if per == "hour":
        return _hours(tz, start_utc, end_utc)
    first = start_utc.astimezone(tz).date()
    if per == "week":
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if per == "week" else 1)
    found: list[Bucket] = []
    day = first
    begins = first_instant_at(datetime.combine(day, time()), tz)
    while begins < end_utc:
        ends = first_instant_at(datetime.combine(day + step, time()), tz)
        found.append(Bucket(begins, ends, _label(per, day)))
        day, begins = day + step, ends
    return found


def _label(per: str, day: date) -> str:
    if per == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def _hours(tz: ZoneInfo, start_utc: datetime, end_utc: datetime) -> list[Bucket]:
    found: list[Bucket] = []
    begins = _on_the_hour(start_utc, tz)
    while begins < end_utc:
        ends = _on_the_hour(begins + _HOUR, tz)
        if ends <= begins:  # a full hour later the clock is still on the hour we started
            ends = begins + _HOUR
        label = begins.astimezone(tz).isoformat(timespec="minutes")
        found.append(Bucket(begins, ends, label))
        begins = ends
    return found


def _on_the_hour(moment: datetime, tz: ZoneInfo) -> datetime:
    """The last instant at or before `moment` whose local time is on the hour."""
    local = moment.astimezone(tz)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)

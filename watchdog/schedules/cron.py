"""Cron schedules as pg_cron and crontab write them, and the instants they are expected to fire.

Fields are parsed and dates matched by cronsim (the evaluator healthchecks.io runs on, tested
against Debian cron); this module adds what cronsim does not read itself: the `@daily`-style
aliases, pg_cron's `$` (last day of the month) and `N seconds` interval schedules, one-line
errors, a canonical form, and bounded fire lists.

Daylight saving (the rule every schedule rule is judged by):

- A *fixed-time* job is one whose minute and hour fields both start with something other than
  `*` (`30 2 * * *`, `0 3 * * 1-5`, `@daily`). Such a job fires once per matching local date:
  a local time that does not exist (spring forward) fires once, at the first valid instant after
  the gap (`30 2 * * *` fires at 03:00 local in New York on the March change); a local time that
  occurs twice (fall back) fires once, at its first occurrence.
- Any other job (`*/15 * * * *`, `0 * * * *`, `@hourly`, `*/5 3 * * *`) fires on every real
  instant whose local time matches: none for the skipped hour, twice in the repeated hour.

This is Debian's (and Vixie cron's) split between fixed-time and wildcard jobs, and what
cronsim's own iterator computes for five-field expressions; the tests pin it in New York and
London and check that these fire lists agree with cronsim's iterator.
`N seconds` schedules fire every N seconds of UTC time, counted from the Unix epoch: time zones
and daylight saving do not touch them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from watchdog.schedules.clock import exists, first_instant_at

UTC = timezone.utc

ALIASES: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_INTERVAL = re.compile(r"(\d+)\s*seconds?", re.IGNORECASE)
_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule: five cron fields for cronsim, or a pg_cron interval in seconds."""

    text: str
    cron: str | None = None
    every_seconds: int | None = None

    @property
    def fixed_time(self) -> bool:
        """Whether the fixed-time half of the daylight saving rule applies (see the module)."""
        if self.cron is None:
            return False
        minute, hour = self.cron.split()[:2]
        return not minute.startswith("*") and not hour.startswith("*")


@dataclass(frozen=True, slots=True)
class Fire:
    """One expected start: the instant in UTC, and the job's zone to show it on the local clock.

    `local` is computed when asked: only the fires in breach are shown, and converting every fire
    of a month of runs would cost more than judging them."""

    utc: datetime
    tz: tzinfo

    @property
    def local(self) -> datetime:
        return self.utc.astimezone(self.tz)


class FireLimitExceeded(ValueError):
    """More fires than the caller allowed: judging them would cost more than it budgeted."""

    def __init__(self, schedule: Schedule, limit: int) -> None:
        super().__init__(f"schedule '{schedule.text}' fires more than {limit} times in the range")
        self.schedule = schedule
        self.limit = limit


def parse(text: str) -> Schedule:
    """Read a schedule, raising ValueError with a one-line reason so the caller can place it."""
    stripped = " ".join(text.split())
    if not stripped:
        raise ValueError("empty schedule (use five cron fields, an @alias or 'N seconds')")
    interval = _INTERVAL.fullmatch(stripped)
    if interval:
        return _interval(text, int(interval.group(1)))
    if stripped.startswith("@"):
        return Schedule(text, cron=_alias(stripped.lower()))
    fields = stripped.split(" ")
    if len(fields) != 5:
        raise ValueError(
            f"'{stripped}' has {len(fields)} fields; a cron schedule has five: {' '.join(FIELDS)}"
        )
    if fields[2] == "$":
        fields[2] = "L"
    cron = " ".join(fields)
    _check(cron, stripped)
    return Schedule(text, cron=cron)


def _interval(text: str, seconds: int) -> Schedule:
    if not 1 <= seconds <= 59:
        raise ValueError(f"'{text.strip()}': an interval schedule takes 1 to 59 seconds")
    return Schedule(text, every_seconds=seconds)


def _alias(word: str) -> str:
    if word in ("@reboot", "@restart"):
        raise ValueError(f"'{word}' runs at start-up only, so it has no fire times to check")
    if word not in ALIASES:
        raise ValueError(f"unknown schedule '{word}' (use one of {', '.join(ALIASES)})")
    return ALIASES[word]


def _check(cron: str, shown: str) -> None:
    """Let cronsim parse the fields now, naming the one it rejects."""
    try:
        CronSim(cron, _EPOCH)
    except CronSimError as error:
        name = str(error).removeprefix("Bad ")
        if name not in FIELDS:
            raise ValueError(f"'{shown}': {error}") from None
        value = shown.split(" ")[FIELDS.index(name)]
        raise ValueError(f"'{shown}': bad {name} field '{value}'") from None


def fires(schedule: Schedule, tz: ZoneInfo, start_utc: datetime, end_utc: datetime,
          limit: int) -> list[Fire]:
    """The expected fires in [start_utc, end_utc), in order, at most `limit` of them.

    Raises FireLimitExceeded past `limit`, so a `* * * * *` job over a month costs what the
    caller budgeted or fails loudly, never a silent truncation or an unbounded list.
    """
    if start_utc.tzinfo is None or end_utc.tzinfo is None:
        raise ValueError("fires() needs time-zone-aware instants")
    if schedule.every_seconds is not None:
        instants = _interval_instants(schedule, start_utc, end_utc, limit)
    else:
        instants = _cron_instants(schedule, tz, start_utc, end_utc, limit)
    return [Fire(utc, tz) for utc in instants]


def _interval_instants(schedule: Schedule, start_utc: datetime, end_utc: datetime,
                       limit: int) -> list[datetime]:
    assert schedule.every_seconds is not None
    step = timedelta(seconds=schedule.every_seconds)
    first = _EPOCH + -(-(start_utc - _EPOCH) // step) * step  # rounded up to a whole step
    count = max(0, -(-(end_utc - first) // step))
    if count > limit:
        raise FireLimitExceeded(schedule, limit)
    return [first + n * step for n in range(count)]


def _cron_instants(schedule: Schedule, tz: ZoneInfo, start_utc: datetime, end_utc: datetime,
                   limit: int) -> list[datetime]:
    """Day by day on the local calendar: cronsim says which dates match, and each matching wall
    time becomes its instants under the daylight saving rule of the module docstring.

    Walking dates instead of cronsim's own iterator (which ticks minute by minute through the
    time zone for `*/45 * * * *`) makes a fire cost an addition on ordinary days; only change
    days convert wall times one by one. Tests check both agree around the changes.
    """
    assert schedule.cron is not None
    sim = CronSim(schedule.cron, _EPOCH)
    walls = sorted(time(hour, minute) for hour in sim.hours for minute in sim.minutes)
    since_midnight = [timedelta(hours=wall.hour, minutes=wall.minute) for wall in walls]
    fixed_time = schedule.fixed_time
    found: list[datetime] = []
    changes = False  # on a change day instants may repeat (two fixed times in one gap) or interleave
    day = start_utc.astimezone(tz).date() - _ONE_DAY
    last = end_utc.astimezone(tz).date() + _ONE_DAY
    while day <= last:
        if day.month in sim.months and sim.match_day(day):
            steady = _steady_offset(day, tz)
            if steady is None:
                changes = True
                moments = [moment for wall in walls
                           for moment in _instants(datetime.combine(day, wall), tz, fixed_time)]
            else:
                midnight = datetime.combine(day, time(), tzinfo=UTC) - steady
                moments = [midnight + after for after in since_midnight]
            if steady is None or (moments and (moments[0] < start_utc or moments[-1] >= end_utc)):
                moments = [moment for moment in moments if start_utc <= moment < end_utc]
            found += moments
            if len(found) > limit and len(set(found)) > limit:
                raise FireLimitExceeded(schedule, limit)
        day += _ONE_DAY
    return sorted(set(found)) if changes else found


def _steady_offset(day: date, tz: ZoneInfo) -> timedelta | None:
    """The zone's UTC offset on `day` if it holds all day, None on a day the clock changes."""
    begins = datetime.combine(day, time(), tzinfo=tz).utcoffset()
    ends = datetime.combine(day + _ONE_DAY, time(), tzinfo=tz).utcoffset()
    return begins if begins == ends else None


def _instants(wall: datetime, tz: ZoneInfo, fixed_time: bool) -> tuple[datetime, ...]:
    """The instants at which a job due at local `wall` fires: none or one after the gap for a
    skipped time, one or both occurrences of a repeated time."""
    earlier = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if not exists(wall, tz, earlier):
        return (first_instant_at(wall, tz),) if fixed_time else ()
    later = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return (earlier,) if fixed_time or later == earlier else (earlier, later)


def normalize(text: str) -> str:
    """A canonical spelling: two schedules with the same fire times (`*/1 * * * *` and
    `* * * * *`, `0 */1 * * *` and `0 * * * *`, `JAN` and `1`, `$` and `L`) get the same one,
    so the same command scheduled twice is seen.

    Whether fields start with `*` is kept where it changes the fire times: in minute/hour it
    decides the daylight saving rule, in day-of-month/day-of-week whether the two are ANDed
    (either starts with `*`) or ORed.
    """
    schedule = parse(text)
    if schedule.every_seconds is not None:
        return f"{schedule.every_seconds} seconds"
    assert schedule.cron is not None
    sim = CronSim(schedule.cron, _EPOCH)
    minute = _Field(frozenset(sim.minutes), range(60))
    hour = _Field(frozenset(sim.hours), range(24))
    dom = _Field(frozenset(sim.days), range(1, 32))
    month = _Field(frozenset(sim.months), range(1, 13))
    dow = _Field(frozenset(_weekday(v) for v in sim.weekdays), range(8), sunday_twice=True)
    if schedule.fixed_time:
        hour_text, minute_text = hour.listed(), minute.listed()
    else:
        hour_text, minute_text = _starred(hour, minute)
    if sim.day_and:
        dom_text, dow_text = _starred(dom, dow)
    elif dom.full or dow.full:
        dom_text, dow_text = "*", "*"
    else:
        dom_text, dow_text = dom.listed(), dow.listed()
    month_text = "*" if month.full else month.listed()
    return " ".join([minute_text, hour_text, dom_text, month_text, dow_text])


_Value = int | tuple[int, int]


def _weekday(value: _Value) -> _Value:
    """Sunday is 0 and 7 alike."""
    if isinstance(value, tuple):
        return (value[0] % 7, value[1])
    return value % 7


@dataclass(frozen=True, slots=True)
class _Field:
    """The values one field matches, and the spellings that match exactly those values."""

    values: frozenset[_Value]
    span: range
    sunday_twice: bool = False

    def _matched(self, spelled: range) -> set[_Value]:
        return {_weekday(v) for v in spelled} if self.sunday_twice else set(spelled)

    @property
    def full(self) -> bool:
        return self.values == self._matched(self.span)

    def step(self) -> int | None:
        """The N of a `*/N` spelling with these values, if there is one."""
        for n in range(1, len(self.span) + 1):
            if self.values == self._matched(self.span[::n]):
                return n
        return None

    def listed(self) -> str:
        """Values and ranges in order, then the special tokens (L, LW, 5L, 1#2)."""
        numbers = sorted(v for v in self.values if isinstance(v, int) and v >= 0)
        parts = [f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in _runs(numbers)]
        for value in sorted(v for v in self.values if not (isinstance(v, int) and v >= 0)):
            parts.append(_token(value))
        return ",".join(parts)


def _runs(numbers: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


def _token(value: _Value) -> str:
    if value == CronSim.LAST:
        return "L"
    if value == CronSim.LAST_WEEKDAY:
        return "LW"
    assert isinstance(value, tuple)
    day, which = value
    return f"{day}L" if which == CronSim.LAST else f"{day}#{which}"


def _starred(first: _Field, second: _Field) -> tuple[str, str]:
    """Spell two fields so that one of them starts with `*`, preferring `*` for a full field,
    then `*/N` on the field with more than one value, the first field on a tie."""
    if first.full or second.full:
        return ("*" if first.full else first.listed(), "*" if second.full else second.listed())
    choices = [(len(f.values) == 1, i, f.step()) for i, f in enumerate((first, second))]
    _, index, step = min(c for c in choices if c[2] is not None)
    texts = [first.listed(), second.listed()]
    texts[index] = f"*/{step}"
    return texts[0], texts[1]

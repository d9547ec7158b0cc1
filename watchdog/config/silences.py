"""`silences:` of the rule file: each item checked with the field framework, then as a whole
(recurring or one-off, never both), and made a typed `Silence`.

Problems are placed like every other (FILE:LINE:COL) and name the silence: `silence 'NAME': ...`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from watchdog.errors import Location, Problem
from watchdog.model.silences import MATCH_KEYS, Match, OneOff, Recurring, Silence
from watchdog.schedules.clock import first_instant_at
from watchdog.validation.fields import (
    CronField, Ctx, Duration, Field, Invalid, Obj, Str, StrList, TimeZoneField, _type_name, check_mapping,
    object_schema,
)
from watchdog.validation.yamlsource import Node

SILENCE_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
# A recurring window shorter than a minute would open and close between two ticks of `watchdog run`.
MIN_DURATION = 60.0


@dataclass
class Instant(Field):
    """A date and time: with an offset (`2026-12-03T08:00:00Z`) it is that instant; without one it
    is read on the silence's `timezone` clock (UTC when none is given)."""

    def convert(self, node: Node, ctx: Ctx) -> datetime:
        value = node.value
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise Invalid(f"'{value}' is not a date and time (write 2026-12-03T08:00:00Z, or a local "
                              "2026-12-03 08:00 read in the silence's timezone)") from None
        if not isinstance(value, datetime):
            got = "a date without a time" if isinstance(value, date) else _type_name(value)
            raise Invalid(f"expected a date and time such as 2026-12-03T08:00:00Z, got {got}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string"}


def _match_fields() -> dict[str, Field]:
    return {key: StrList(doc=f"Alerts whose {key} is this (or any of these)." if key != "tag" else
                         "Rules carrying this tag (or any of these).") for key in MATCH_KEYS}


def silence_fields() -> dict[str, Field]:
    return {
        "name": Str(required=True, pattern=SILENCE_NAME, pattern_hint="is not a valid silence name (letters, digits, _ . -)"),
        "match": Obj(required=True, fields=_match_fields(),
                     doc="Which rules it quiets: rule, target, tag, severity; several keys must all match."),
        "cron": CronField(doc="Recurring: the window opens at each fire, on the `timezone` clock."),
        "duration": Duration(minimum=MIN_DURATION, doc="Recurring: how long each window lasts (real time, 1m to 10 years)."),
        "timezone": TimeZoneField(doc="IANA zone of `cron`, and of a `from`/`until` written without an offset (default UTC)."),
        "from": Instant(doc="One-off: the window's start."),
        "until": Instant(doc="One-off: the window's end (after `from`)."),
        "comment": Str(doc="Why: shown with the silence."),
    }


@dataclass
class SilencesField(Field):
    """The list of silences; names are unique in a file."""

    severities: tuple[str, ...] = field(default_factory=tuple)

    def convert(self, node: Node, ctx: Ctx) -> tuple[Silence, ...]:
        if not node.is_list:
            raise Invalid(f"expected a list of silences, got {_type_name(node.value)}")
        out: list[Silence] = []
        seen: dict[str, Location] = {}
        for item in node.value:
            own = Ctx(settled=ctx.settled)
            silence = self._silence(item, own, seen)
            name = silence.name if silence else _name(item)
            prefix = f"silence '{name}': " if name else ""
            ctx.problems.extend(Problem(p.location, prefix + p.message) for p in own.problems)
            if silence is not None and not own.problems:
                out.append(silence)
        return tuple(out)

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": object_schema(silence_fields())}

    def _silence(self, item: Node, ctx: Ctx, seen: dict[str, Location]) -> Silence | None:
        if not item.is_map:
            ctx.add(item.loc, "each silence must be a mapping with 'name', 'match' and a window (cron + duration, or from + until)")
            return None
        values = check_mapping(item, silence_fields(), ctx)
        name = values.get("name")
        if name is not None:
            if name in seen:
                ctx.add(item.value["name"].loc, f"duplicate silence name (first defined at line {seen[name].line})")
            else:
                seen[name] = item.value["name"].loc
        match = self._match(item, values.get("match"), ctx)
        window = _window(item, values, ctx)
        if name is None or match is None or window is None:
            return None
        return Silence(name, match, window, values.get("comment"), item.loc)

    def _match(self, item: Node, given: Any, ctx: Ctx) -> Match | None:
        if given is None:
            return None
        keys = {key: tuple(values) for key, values in given.items() if values is not None}
        if not keys:  # with keys given, each bad one has been reported
            if item.value["match"].value:
                return None
            ctx.add(item.value["match"].loc, f"'match' needs at least one of {', '.join(MATCH_KEYS)} "
                                             "(a silence of everything would hide every page)")
            return None
        for value in keys.get("severity", ()):
            if value not in self.severities:
                ctx.add(item.value["match"].value["severity"].loc, f"'{value}' is not one of {', '.join(self.severities)}")
                return None
        return Match(**keys)


def _name(item: Node) -> str | None:
    name = item.value.get("name") if item.is_map else None
    return name.value if name is not None and isinstance(name.value, str) else None


def _window(item: Node, values: dict[str, Any], ctx: Ctx) -> Recurring | OneOff | None:
    """Recurring (cron + duration) or one-off (from + until): exactly one of the two, whole."""
    given = set(item.value)
    recurring, one_off = given & {"cron", "duration"}, given & {"from", "until"}
    if recurring and one_off:
        ctx.add(item.value[min(one_off)].key_loc, "give either 'cron' + 'duration' (recurring) or 'from' + 'until' (one-off), not both")
        return None
    if not recurring and not one_off:
        ctx.add(item.loc, "no window: give 'cron' + 'duration' (recurring) or 'from' + 'until' (one-off)")
        return None
    missing = ({"cron", "duration"} if recurring else {"from", "until"}) - given
    for key in sorted(missing):
        ctx.add(item.loc, f"missing '{key}' (a {'recurring' if recurring else 'one-off'} silence needs "
                          f"{'cron and duration' if recurring else 'from and until'})")
    tz = values.get("timezone") or "UTC"
    if missing or any(values.get(key) is None for key in given & {"cron", "duration", "from", "until", "timezone"}):
        return None  # a missing or bad key has been reported
    if recurring:
        return Recurring(values["cron"], float(values["duration"]), tz)
    start, end = (_instant(values[key], ZoneInfo(tz)) for key in ("from", "until"))
    if end <= start:
        ctx.add(item.value["until"].loc, f"'until' ({end:%Y-%m-%dT%H:%M:%SZ}) is not after 'from' ({start:%Y-%m-%dT%H:%M:%SZ})")
        return None
    return OneOff(start, end)


def _instant(value: datetime, tz: ZoneInfo) -> datetime:
    """In UTC; a time without an offset read on `tz`'s clock (in a spring gap: the end of the gap)."""
    if value.tzinfo is None:
        return first_instant_at(value, tz)
    return value.astimezone(timezone.utc)

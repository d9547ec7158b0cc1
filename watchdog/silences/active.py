"""Which silences quiet a rule, or an alert, at an instant.

The runtime asks at every notification it would send and at every tick; the status page asks to
show a rule's silences and whether each holds. Both pass the silences of the plan's current rule
file, so a reload is seen at once.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from watchdog.config.model import Rule
from watchdog.model.silences import Silence
from watchdog.schedules.calendar import Interval
from watchdog.silences.windows import window_at


@dataclass(frozen=True)
class SilenceState:
    """A silence of a rule as seen at one instant: `window` is the one holding then, None if none."""

    silence: Silence
    window: Interval | None

    @property
    def active(self) -> bool:
        return self.window is not None


def matches(silence: Silence, rule: Rule) -> bool:
    """Whether every key of the silence's `match` matches the rule (a tag: any of the rule's tags)."""
    match = silence.match
    return ((not match.rule or rule.name in match.rule) and (not match.target or rule.target in match.target)
            and (not match.tag or bool(set(match.tag) & set(rule.tags)))
            and (not match.severity or rule.severity in match.severity))


def silences_of(silences: Iterable[Silence], rule: Rule, now: datetime) -> list[SilenceState]:
    """Every silence matching `rule`, in file order, each with the window holding at `now` (for the
    status page: a rule's silences and whether each is active)."""
    return [SilenceState(s, window_at(s, now)) for s in silences if matches(s, rule)]


def active_silences(silences: Iterable[Silence], rule: Rule, now: datetime) -> list[Silence]:
    """The silences that quiet `rule` at `now`."""
    return [state.silence for state in silences_of(silences, rule, now) if state.active]


def target_silences(silences: Iterable[Silence], target: str, now: datetime) -> list[Silence]:
    """The silences that quiet the target's own alert (`target_down`) at `now`: those whose match
    names the target and nothing else (a silence of some rules does not hide a whole outage)."""
    return [s for s in silences if s.match.target_only and target in s.match.target and window_at(s, now) is not None]

"""A silence of the rule file, as the loader validated it: what it matches and when it holds.

Plain data, read by the silence logic (watchdog.silences), the runtime and the status page alike;
nothing here knows the clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from watchdog.errors import Location

MATCH_KEYS = ("rule", "target", "tag", "severity")


@dataclass(frozen=True)
class Match:
    """Which alerts a silence quiets: every given key must match (a key given several values
    matches any of them); a key not given matches everything."""

    rule: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()

    @property
    def target_only(self) -> bool:
        """Only `target` given: such a silence also quiets the target's own `target_down`."""
        return bool(self.target) and not (self.rule or self.tag or self.severity)


@dataclass(frozen=True)
class Recurring:
    """A window opening at each fire of `cron` (local to `timezone`) and lasting `duration` seconds."""

    cron: str
    duration: float
    timezone: str = "UTC"


@dataclass(frozen=True)
class OneOff:
    """One window, [start, end) in UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Silence:
    name: str
    match: Match
    window: Recurring | OneOff
    comment: str | None = None
    location: Location | None = None

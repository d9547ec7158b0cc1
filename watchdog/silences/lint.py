"""The silences `watchdog validate` warns about: valid, but most likely not what was meant.

- expired: a one-off silence whose `until` has passed quiets nothing any more;
- matches no rule of the file: a misspelt rule, tag or target, so the pages it was meant to
  quiet will come;
- longer than MAX_WINDOW (7 days): a window that long hides real incidents;
- never ends: a recurring window at least as long as the time between two fires of its schedule
  (looked for over the next 8 days and one window) opens again before it closes.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from watchdog.config.model import RuleFile
from watchdog.errors import Notice
from watchdog.model.durations import format_duration
from watchdog.model.silences import OneOff, Silence
from watchdog.silences.active import matches
from watchdog.silences.windows import shortest_gap

MAX_WINDOW = timedelta(days=7)
GAP_LOOKAHEAD = timedelta(days=8)


def silence_warnings(rule_file: RuleFile, now: datetime) -> list[Notice]:
    """Every warning about the file's silences at `now`, in file order."""
    return [Notice(s.location, f"silence '{s.name}'", message)
            for s in rule_file.silences for message in _messages(s, rule_file, now)]


def _messages(silence: Silence, rule_file: RuleFile, now: datetime) -> list[str]:
    out = []
    window = silence.window
    if isinstance(window, OneOff) and window.end <= now:
        out.append(f"expired at {window.end:%Y-%m-%dT%H:%M:%SZ}: it quiets nothing any more (remove it)")
    if not any(matches(silence, rule) for rule in rule_file.rules):
        out.append("matches no rule of the file (a misspelt rule, tag or target?): the pages it should quiet will come")
    length = window.end - window.start if isinstance(window, OneOff) else timedelta(seconds=window.duration)
    if length > MAX_WINDOW:
        out.append(f"lasts {format_duration(length.total_seconds())}, longer than {format_duration(MAX_WINDOW.total_seconds())}: "
                   "a silence that long hides real incidents")
    elif not isinstance(window, OneOff):
        gap = shortest_gap(window, now, GAP_LOOKAHEAD + length)
        if gap is not None and gap <= length:
            out.append(f"never ends: each window lasts {format_duration(window.duration)} but '{window.cron}' fires again "
                       f"within {format_duration(gap.total_seconds())}")
    return out

"""Durations as operators write them (`30s`, `5m`, `2h`, `1d`, `1h30m`)."""
from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")


def parse_duration(text: str) -> float:
    """Seconds in `text`; raises ValueError with the accepted forms when it is not a duration."""
    cleaned = text.strip()
    if cleaned == "0":
        return 0.0
    if not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"bad duration '{text}' (use a number and a unit: 500ms, 30s, 5m, 2h, 1d, 1w)")
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(cleaned))


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of `seconds`, for messages and generated files."""
    if seconds == 0:
        return "0s"
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    if seconds < 1:
        return f"{int(round(seconds * 1000))}ms"
    return f"{seconds:g}s"

"""Bounds on what one evaluation may put in a page, a log line or the state file.

Sample rows come from the watched tables' own columns: five samples of 10 MB must not make
50 MB webhook bodies, 50 MB log lines and 50 MB state rows. Each result is capped once, as it
enters the runtime; whatever was cut says so ("truncated"), where a reader sees it.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from watchdog.results.model import Result, jsonable

MAX_SAMPLES = 20  # rows per result
MAX_VALUE_CHARS = 1024  # one sample value, as JSON text
MAX_TEXT_CHARS = 4096  # a rendered summary or description, an error message


def cap_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [truncated: {len(text)} characters]"


def cap_value(value: Any) -> Any:
    """A sample value within MAX_VALUE_CHARS: text cut; bytes or a nested value, if too long, as
    its cut JSON text; anything else as it is."""
    if isinstance(value, str):
        return cap_text(value, MAX_VALUE_CHARS)
    if isinstance(value, (bytes, bytearray, memoryview, dict, list, tuple)):
        text = json.dumps(jsonable(value))
        if len(text) > MAX_VALUE_CHARS:
            return cap_text(text, MAX_VALUE_CHARS)
    return value


def cap_samples(samples: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
    rows = tuple({str(k): cap_value(v) for k, v in row.items()} for row in samples[:MAX_SAMPLES])
    if len(samples) > MAX_SAMPLES:
        rows += ({"truncated": f"{len(samples) - MAX_SAMPLES} more rows not shown"},)
    return rows


def cap_result(result: Result) -> Result:
    """`result` with its samples and error message within bounds (the same object if they are)."""
    samples = cap_samples(result.samples) if result.samples else result.samples
    error = cap_text(result.error) if result.error else result.error
    if samples == result.samples and error == result.error:
        return result
    return replace(result, samples=samples, error=error)

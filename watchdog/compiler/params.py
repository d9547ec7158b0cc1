"""Bound parameters of one query: values recorded, placeholders handed out as sentinels."""
from __future__ import annotations

from typing import Any

from watchdog.compiler.probe import TimeRef

SENTINEL = "\x00"


class Params:
    """An equal value of the same type already bound shares its placeholder, so the twenty rules of
    a batch that all say status = 'pending' send it once."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = {} if values is None else values

    def bind(self, value: Any) -> str:
        key = next((k for k, bound in self.values.items() if type(bound) is type(value) and bound == value), None)
        if key is None:
            key = f"p{len(self.values)}"
            self.values[key] = value
        return f"{SENTINEL}{key}{SENTINEL}"

    def cutoff(self, seconds: float, unit: str) -> str:
        """`now - seconds` in `unit`, bound afresh at each evaluation."""
        return self.bind(TimeRef(float(seconds), unit))

"""Typed parameter values: what a rule's keys become once validated, and what later stages read.

A duration is a Duration, a join is a tuple of ColumnPairs, a nested parameter is a Record: no
stage after the loader has to guess what shape a value has, or re-parse it.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from watchdog.model.durations import format_duration


class Duration(float):
    """Seconds, written with a unit (`5m`); a float so arithmetic and comparisons stay plain."""

    @property
    def delta(self) -> timedelta:
        return timedelta(seconds=float(self))

    def __str__(self) -> str:
        return format_duration(float(self))

    def __repr__(self) -> str:
        return f"Duration({format_duration(float(self))})"


@dataclass(frozen=True)
class ColumnPair:
    """One link of a join: `parent` on the rule's table, `child` on the other one."""

    parent: str
    child: str


@dataclass(frozen=True)
class Expectation:
    """`expect: "> 0"`: the comparison a measured value must satisfy to hold."""

    op: str
    number: float

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        return {
            "==": value == self.number, "!=": value != self.number, ">": value > self.number,
            ">=": value >= self.number, "<": value < self.number, "<=": value <= self.number,
        }[self.op]

    def __str__(self) -> str:
        return f"{self.op} {self.number:g}"


class Record(Mapping[str, Any]):
    """A nested parameter (`child: {table, on, where}`): read-only, by key or by attribute."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Record is read-only")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items(), key=lambda kv: kv[0])))

    def __repr__(self) -> str:
        return f"Record({self._values!r})"


@dataclass(frozen=True)
class TableSource:
    """Files read as one table by a duckdb:// target: every file `path` (a glob) matches, in `format`."""

    path: str
    format: str = "jsonl"

"""The validated rule file: what every later stage (compiler, probes, runtime) reads."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from watchdog.validation.fields import Condition
from watchdog.errors import Location


@dataclass(frozen=True)
class Target:
    """A database to probe. `dsn` may hold a password: show `probing.dsn.redact(dsn)` instead."""

    name: str
    dsn: str
    statement_timeout: float = 5.0
    connect_timeout: float = 5.0
    pool_size: int = 2
    location: Location | None = None  # of the dsn in the rule file, where a DSN problem is shown


@dataclass(frozen=True)
class Rule:
    """One invariant. Common keys are attributes; the kind's own parameters are in `params`."""

    name: str
    check: str
    target: str
    params: Mapping[str, Any]
    table: str | None = None
    where: tuple[Condition, ...] = ()
    where_sql: str | None = None
    time_column: str | None = None
    time_unit: str = "timestamp"
    window: float | None = None
    interval: float = 60.0
    for_seconds: float = 0.0
    severity: str = "warning"
    labels: Mapping[str, str] = field(default_factory=dict)
    summary: str | None = None
    description: str | None = None
    runbook_url: str | None = None
    samples: int = 5
    tags: tuple[str, ...] = ()
    enabled: bool = True
    statement_timeout: float | None = None
    repeat_interval: float = 4 * 3600.0
    error_threshold: int = 3
    location: Location | None = None


@dataclass(frozen=True)
class RuleFile:
    path: str
    version: int
    targets: Mapping[str, Target]
    rules: tuple[Rule, ...]
    notify: Mapping[str, Any] = field(default_factory=dict)
    check_paths: tuple[str, ...] = ()
    secrets: frozenset[str] = frozenset()
    expanded: frozenset[str] = frozenset()  # every string a ${VAR} was expanded in, however short

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

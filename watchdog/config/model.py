"""The validated rule file: what every later stage (compiler, probes, runtime) reads."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from watchdog.config.spec import DEFAULTS, TARGET_DEFAULTS
from watchdog.model.conditions import Predicate
from watchdog.model.silences import Silence
from watchdog.model.values import TableSource
from watchdog.errors import Location


@dataclass(frozen=True)
class Target:
    """A database to probe. `dsn` may hold a password: show `probing.dsn.redact(dsn)` instead."""

    name: str
    dsn: str
    statement_timeout: float = TARGET_DEFAULTS["statement_timeout"]
    connect_timeout: float = TARGET_DEFAULTS["connect_timeout"]
    pool_size: int = TARGET_DEFAULTS["pool_size"]
    location: Location | None = None  # of the dsn in the rule file, where a DSN problem is shown
    tables: Mapping[str, TableSource] = field(default_factory=dict)  # duckdb:// targets only


@dataclass(frozen=True)
class Rule:
    """One invariant. Common keys are attributes; the kind's own parameters are in `params`, typed
    by their spec (Duration, tuple of columns, ColumnPairs, predicates, Expectation, Record).
    Defaults come from `watchdog.config.spec`, the one place they are set."""

    name: str
    check: str
    target: str
    params: Mapping[str, Any]
    table: str | None = None
    where: tuple[Predicate, ...] = ()
    where_sql: str | None = None
    time_column: str | None = None
    time_unit: str = DEFAULTS["time_unit"]
    window: float | None = None
    timezone: str | None = None
    group_by: tuple[str, ...] = ()
    expect_groups: tuple[tuple[Any, ...], ...] | None = None
    per: str | None = None
    local_window: Mapping[str, Any] | None = None
    min_population: int | None = None
    interval: float = DEFAULTS["interval"]
    for_seconds: float = DEFAULTS["for"]
    severity: str = DEFAULTS["severity"]
    labels: Mapping[str, str] = field(default_factory=dict)
    summary: str | None = None
    description: str | None = None
    runbook_url: str | None = None
    samples: int = DEFAULTS["samples"]
    tags: tuple[str, ...] = ()
    enabled: bool = DEFAULTS["enabled"]
    statement_timeout: float | None = None
    repeat_interval: float = DEFAULTS["repeat_interval"]
    error_threshold: int = DEFAULTS["error_threshold"]
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
    api_token: str | None = None  # `api.token`, else $WATCHDOG_API_TOKEN: what the daemon's write API requires
    silences: tuple[Silence, ...] = ()

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

"""From a rule file to the probes a command will run: load, select, override, compile, all up front.

Everything that can be wrong with the input is found here, before any SQL runs (exit 2).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from watchdog.catalogue.registry import Registry
from watchdog.compiler.compiler import compile_rule
from watchdog.compiler.context import TemplateFailure
from watchdog.dialects import DIALECTS, Dialect
from watchdog.compiler.probe import Probe
from watchdog.config.loader import Loaded, load
from watchdog.config.model import Rule, RuleFile, Target
from watchdog.errors import ConfigError, Problem, UsageError
from watchdog.probing.dsn import DsnError, dialect_of, secrets_of
from watchdog.validation.envexpand import references
from watchdog.validation.yamlsource import Node, parse


@dataclass(frozen=True)
class Plan:
    rule_file: RuleFile
    registry: Registry
    targets: Mapping[str, Target]
    probes: tuple[Probe, ...]
    secrets: frozenset[str]

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(p.rule for p in self.probes)


def config_path(explicit: str | None, env: Mapping[str, str] | None = None) -> Path:
    """-c, else $WATCHDOG_CONFIG, else ./rules.yaml."""
    env = os.environ if env is None else env
    return Path(explicit or env.get("WATCHDOG_CONFIG") or "rules.yaml")


def _load(path: str | Path, env: Mapping[str, str], dsn: str | None, target: str | None) -> Loaded:
    """The rule file; with `dsn`, a variable that is unset but only used in the DSNs it replaces
    (`dsn: ${DATABASE_URL}`) is no error: --dsn stands in for it."""
    try:
        return load(path, env)
    except ConfigError:
        stand_ins = {} if dsn is None else dict.fromkeys(_replaced_only(path, env, target), dsn)
        if not stand_ins:
            raise
    return load(path, {**env, **stand_ins})


def _replaced_only(path: str | Path, env: Mapping[str, str], target: str | None) -> set[str]:
    """Unset variables that occur in the DSNs --dsn replaces and nowhere else in the file."""
    try:
        root, _ = parse(Path(path).read_text(encoding="utf-8"), str(path), env)
    except (OSError, UnicodeDecodeError):
        return set()
    targets = root.value.get("targets") if root is not None and root.is_map else None
    if targets is None or not targets.is_map:
        return set()
    replaced = [spec.value["dsn"] for name, spec in targets.value.items()
                if (target is None or name == target) and spec.is_map and "dsn" in spec.value]
    inside = {ref for node in replaced if isinstance(node.value, str) for ref in references(node.value)}
    elsewhere = {ref for node in _scalars(root) if all(node is not r for r in replaced) for ref in references(node.value)}
    return {name for name in inside - elsewhere if name not in env}


def _scalars(node: Node) -> list[Node]:
    """Every text value in the tree (a value whose variable was unset keeps its ${...} text)."""
    if node.is_map:
        return [s for child in node.value.values() for s in _scalars(child)]
    if node.is_list:
        return [s for child in node.value for s in _scalars(child)]
    return [node] if isinstance(node.value, str) else []


def build_plan(path: str | Path, *, env: Mapping[str, str] | None = None, dsn: str | None = None,
               target: str | None = None, rules: Sequence[str] = (), tags: Sequence[str] = (),
               dialect: str | None = None) -> Plan:
    """Load and compile; `dsn` replaces the DSN of the selected target (or of every target)."""
    loaded = _load(path, os.environ if env is None else env, dsn, target)
    rule_file = loaded.rule_file
    targets = dict(rule_file.targets)
    if target is not None and target not in targets:
        raise UsageError(f"no target '{target}' in {rule_file.path} (targets: {', '.join(sorted(targets))})")
    if dsn is not None:
        try:
            dialect_of(dsn)
        except DsnError as exc:
            raise UsageError(f"--dsn: {exc}") from None
        for name in ([target] if target else list(targets)):
            targets[name] = replace(targets[name], dsn=dsn)
    unknown = [r for r in rules if rule_file.rule(r) is None]
    if unknown:
        raise UsageError(f"no rule named {', '.join(repr(u) for u in unknown)} in {rule_file.path}")
    selected = [
        r for r in rule_file.rules
        if (r.enabled or r.name in rules) and (not rules or r.name in rules)
        and (not tags or set(tags) & set(r.tags)) and (target is None or r.target == target)
    ]
    dialects: dict[str, Dialect] = {}
    problems: list[Problem] = []
    for name, tgt in targets.items():
        try:
            dialects[name] = dialect_of(tgt.dsn) if dialect is None else DIALECTS[dialect]
        except DsnError as exc:
            problems.append(Problem(tgt.location, f"target '{name}': {exc}"))
    probes: list[Probe] = []
    for rule in selected:
        if rule.target not in dialects:
            continue
        try:
            probes.append(compile_rule(rule, loaded.registry.kinds[rule.check], dialects[rule.target]))
        except TemplateFailure as exc:
            problems.append(Problem(rule.location, str(exc), rule.name))
    if problems:
        raise ConfigError(problems)
    secrets = set(rule_file.secrets)
    for tgt in targets.values():
        secrets |= secrets_of(tgt.dsn)
    return Plan(rule_file, loaded.registry, targets, tuple(probes), frozenset(secrets))

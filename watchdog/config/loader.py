"""Load a rule file: parse, expand variables, validate every key, apply defaults, fail as one.

All problems of a file are collected and raised together as a ConfigError, so an operator fixes
the file in one pass; nothing is compiled or run while any problem remains.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchdog.catalogue.kind import CheckKind
from watchdog.catalogue.registry import Registry, load_registry
from watchdog.config.envexpand import references
from watchdog.config.fields import Ctx, Field, unknown_key_message, check_mapping
from watchdog.config.model import Rule, RuleFile, Target
from watchdog.config.spec import DEFAULTS, common_rule_fields, top_fields
from watchdog.config.yamlsource import Node, parse
from watchdog.errors import ConfigError, Location, Problem

_COMMON_ATTRS = {"table", "where", "where_sql", "time_column", "time_unit", "window"}


@dataclass(frozen=True)
class Loaded:
    rule_file: RuleFile
    registry: Registry


def load(path: str | Path, env: Mapping[str, str] | None = None) -> Loaded:
    """The validated rule file and the catalogue it was checked against, or ConfigError."""
    env = os.environ if env is None else env
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(None, f"{shown}: no such rule file (use -c FILE or set WATCHDOG_CONFIG)")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(None, f"{shown}: cannot read the rule file: {exc}")]) from None
    root, problems = parse(text, shown, env)
    if root is None:
        raise ConfigError(problems)
    ctx = Ctx(problems=list(problems))
    if not root.is_map:
        ctx.add(root.loc, "the rule file must be a mapping with 'version', 'targets' and 'rules'")
        raise ConfigError(ctx.problems)
    top = check_mapping(root, top_fields(), ctx)
    base = Path(path).resolve().parent
    extra = [base / p for p in top.get("check_paths") or ()]
    registry, kind_problems = load_registry(extra, root.value["check_paths"].loc if "check_paths" in root.value else None)
    ctx.problems.extend(kind_problems)
    targets = {name: Target(name=name, **spec) for name, spec in (top.get("targets") or {}).items() if spec}
    if "targets" in top and not targets and not ctx.problems:
        ctx.add(root.value["targets"].loc, "at least one target is needed")
    defaults = {**DEFAULTS, **{k: v for k, v in (top.get("defaults") or {}).items() if v is not None}}
    rules = _rules(root.value.get("rules"), registry, targets, defaults, ctx)
    if ctx.problems:
        raise ConfigError(sorted(ctx.problems, key=lambda p: (p.location or Location("", 0, 0))))
    rule_file = RuleFile(
        path=shown, version=top["version"], targets=targets, rules=tuple(rules),
        notify={k: v for k, v in (top.get("notify") or {}).items() if v},
        check_paths=tuple(top.get("check_paths") or ()), secrets=_secrets(text, env),
    )
    return Loaded(rule_file, registry)


def _secrets(text: str, env: Mapping[str, str]) -> frozenset[str]:
    """Values of the variables the file refers to: never to be echoed in output."""
    return frozenset(v for name in references(text) if len(v := env.get(name, "")) >= 4)


def _rules(node: Node | None, registry: Registry, targets: Mapping[str, Target], defaults: dict[str, Any], ctx: Ctx) -> list[Rule]:
    if node is None:
        return []
    if not node.is_list:
        ctx.add(node.loc, "'rules' must be a list of rules")
        return []
    rules: list[Rule] = []
    seen: dict[str, Location] = {}
    for item in node.value:
        ctx.rule = None
        name_node = item.value.get("name") if item.is_map else None
        if name_node is not None and isinstance(name_node.value, str):
            if name_node.value in seen:
                ctx.rule = name_node.value
                ctx.add(name_node.loc, f"duplicate rule name (first defined at line {seen[name_node.value].line})")
                continue
            seen[name_node.value] = name_node.loc
        rule = _rule(item, registry, targets, defaults, ctx)
        if rule is not None:
            rules.append(rule)
    ctx.rule = None
    return rules


def _rule(item: Node, registry: Registry, targets: Mapping[str, Target], defaults: dict[str, Any], ctx: Ctx) -> Rule | None:
    if not item.is_map:
        ctx.add(item.loc, "each rule must be a mapping with at least 'name' and 'check'")
        return None
    name_node = item.value.get("name")
    if name_node is not None and isinstance(name_node.value, str):
        ctx.rule = name_node.value
    check_node = item.value.get("check")
    kind = registry.get(check_node.value) if check_node is not None and isinstance(check_node.value, str) else None
    if check_node is not None and kind is None:
        ctx.add(check_node.loc, unknown_key_message("check", check_node.value, registry.names()))
        return None
    fields = _fields_for(kind)
    before = len(ctx.problems)
    values = check_mapping(item, fields, ctx)
    if kind is None or len(ctx.problems) > before:
        return None
    merged = {**defaults, **{k: v for k, v in values.items() if v is not None}}
    for key in kind.requires:
        if merged.get(key) is None:
            ctx.add(item.loc, f"check '{kind.name}' needs '{key}'")
    if merged.get("window") is not None and merged.get("time_column") is None:
        ctx.add(item.value["window"].key_loc, "'window' needs 'time_column'")
    target = merged.get("target") or _default_target(targets)
    if target is None:
        ctx.add(item.loc, f"no 'target' given and the file has several: {', '.join(sorted(targets))}")
    elif target not in targets:
        loc = item.value["target"].loc if "target" in item.value else item.loc
        ctx.add(loc, unknown_key_message("target", target, targets))
    if len(ctx.problems) > before or target is None:
        return None
    return Rule(
        name=merged["name"], check=kind.name, target=target,
        params={k: merged.get(k) for k in kind.params},
        table=merged.get("table"), where=tuple(merged.get("where") or ()), where_sql=merged.get("where_sql"),
        time_column=merged.get("time_column"), time_unit=merged.get("time_unit", "timestamp"),
        window=merged.get("window"), interval=merged["interval"], for_seconds=merged["for"],
        severity=merged["severity"], labels=merged.get("labels") or {}, summary=merged.get("summary"),
        description=merged.get("description"), runbook_url=merged.get("runbook_url"),
        samples=merged["samples"], tags=tuple(merged.get("tags") or ()), enabled=merged.get("enabled", True),
        statement_timeout=merged.get("statement_timeout"), repeat_interval=merged["repeat_interval"],
        error_threshold=merged["error_threshold"], location=item.loc,
    )


def _default_target(targets: Mapping[str, Target]) -> str | None:
    if len(targets) == 1:
        return next(iter(targets))
    return "main" if "main" in targets else None


def _fields_for(kind: CheckKind | None) -> dict[str, Field]:
    """Common keys the kind uses, plus its own parameters (all common keys if the kind is unknown)."""
    common = common_rule_fields()
    if kind is None:
        return common
    dropped = _COMMON_ATTRS - set(kind.uses)
    fields = {k: f for k, f in common.items() if k not in dropped}
    fields.update(kind.params)
    return fields


def rule_fields(kind: CheckKind) -> dict[str, Field]:
    """Public for `watchdog schema`: the keys a rule of this kind accepts."""
    return _fields_for(kind)

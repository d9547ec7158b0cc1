"""Load a rule file: parse, expand variables, validate every key, apply defaults, fail as one.

All problems of a file are collected and raised together as a ConfigError, so an operator fixes
the file in one pass; nothing is compiled or run while any problem remains.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from watchdog.catalogue.kind import CheckKind
from watchdog.catalogue.registry import Registry, load_registry
from watchdog.validation.envexpand import references
from watchdog.validation.fields import Ctx, Field, unknown_key_message, check_mapping
from watchdog.config.model import Rule, RuleFile, Target
from watchdog.config.packs import expand_includes
from watchdog.model.values import Record
from watchdog.config.spec import DEFAULTS, common_rule_fields, top_fields
from watchdog.probing.dsn import scrub
from watchdog.validation.yamlsource import Node, Parsed, parse_document
from watchdog.errors import ConfigError, Location, Problem

_ROOT = "a mapping with 'version', 'targets' and 'rules'"
# A rule file of ten thousand rules is under 2 MB; anything larger is refused before it is parsed.
MAX_FILE_BYTES = 4 * 1024 * 1024
API_TOKEN_ENV = "WATCHDOG_API_TOKEN"


@dataclass(frozen=True)
class Loaded:
    rule_file: RuleFile
    registry: Registry


def load(path: str | Path, env: Mapping[str, str] | None = None) -> Loaded:
    """The validated rule file and the catalogue it was checked against, or ConfigError, whose
    messages never show the value of a ${VAR} or ${file:PATH} the file refers to (a bad value is
    quoted in its problem: `severity: ${SEV}`)."""
    env = os.environ if env is None else env
    shown = str(path)
    text = _read(Path(path), shown)
    parsed = parse_document(text, shown, env)
    try:
        return _load(parsed, text, shown, Path(path), env)
    except ConfigError as exc:
        secrets = referenced_secrets(text, env) | {v for v in parsed.file_secrets if len(v) >= 4}
        raise ConfigError([replace(p, message=scrub(p.message, secrets)) for p in exc.problems]) from None


def _load(parsed: Parsed, text: str, shown: str, path: Path, env: Mapping[str, str]) -> Loaded:
    root, problems = parsed.root, parsed.problems
    if root is None:
        raise ConfigError(problems)
    if not root.is_map:
        message = f"the file is empty (expected {_ROOT})" if root.value is None else f"the rule file must be {_ROOT}"
        raise ConfigError([*problems, Problem(root.loc, message)])
    ctx = Ctx(problems=_named(problems, root.value.get("rules")), settled=frozenset(p.location for p in problems if p.location))
    top = check_mapping(root, top_fields(), ctx)
    base = path.resolve().parent
    extra = [base / p for p in top.get("check_paths") or ()]
    registry, kind_problems = load_registry(extra, root.value["check_paths"].loc if "check_paths" in root.value else None)
    ctx.problems.extend(kind_problems)
    targets = {
        name: Target(name=name, location=root.value["targets"].value[name].value["dsn"].loc,
                     **{key: value for key, value in spec.items() if value is not None})
        for name, spec in (top.get("targets") or {}).items() if spec and spec.get("dsn") is not None
    }
    if "targets" in top and not targets and not ctx.problems:
        ctx.add(root.value["targets"].loc, "at least one target is needed")
    defaults = {**DEFAULTS, **{k: v for k, v in (top.get("defaults") or {}).items() if v is not None}}
    included = expand_includes(root.value.get("include"), ctx)
    rules = _rules(root.value.get("rules"), included, registry, targets, defaults, ctx)
    if ctx.problems:
        raise ConfigError(sorted(ctx.reported(), key=lambda p: (p.location or Location("", 0, 0))))
    token = (top.get("api") or {}).get("token") or env.get(API_TOKEN_ENV) or None
    rule_file = RuleFile(
        path=shown, version=top["version"], targets=targets, rules=tuple(rules),
        notify={k: v for k, v in (top.get("notify") or {}).items() if v},
        check_paths=tuple(top.get("check_paths") or ()),
        secrets=referenced_secrets(text, env) | {v for v in parsed.file_secrets if len(v) >= 4} | ({token} if token else set()),
        expanded=parsed.expanded, api_token=token, silences=top.get("silences") or (),
    )
    return Loaded(rule_file, registry)


def _read(path: Path, shown: str) -> str:
    """The file's text; a file that cannot be read, or is too large, is a problem placed like any
    other (at 1:1). At most MAX_FILE_BYTES + 1 bytes are read, so /dev/zero cannot fill memory."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        message = "no such rule file (use -c FILE or set WATCHDOG_CONFIG)"
    except IsADirectoryError:
        message = "is a directory, not a rule file (use -c FILE)"
    except OSError as exc:
        message = f"cannot read the rule file: {exc.strerror}"
    else:
        if len(data) > MAX_FILE_BYTES:
            message = f"the rule file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: refused (split it, or remove what is not rules)"
            raise ConfigError([Problem(Location(shown, 1, 1), message)])
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = data[:exc.start].decode("utf-8")
            where = Location(shown, before.count("\n") + 1, len(before) - before.rfind("\n"))
            raise ConfigError([Problem(where, f"not UTF-8 text (byte 0x{data[exc.start]:02x})")]) from None
    raise ConfigError([Problem(Location(shown, 1, 1), message)])


def _named(problems: list[Problem], rules: Node | None) -> list[Problem]:
    """Problems met while parsing (unset variables, duplicate keys) named after the rule they are in."""
    if not problems or rules is None or not rules.is_list:
        return list(problems)
    owner: dict[Location, str] = {}
    for item in rules.value:
        name = item.value.get("name") if item.is_map else None
        if name is not None and isinstance(name.value, str):
            owner.update(dict.fromkeys(_places(item), name.value))
    return [replace(p, rule=owner.get(p.location, p.rule)) if p.location else p for p in problems]


def _places(node: Node) -> Iterator[Location]:
    """Every location inside `node`: its keys and values, all the way down."""
    yield node.loc
    if node.key_loc:
        yield node.key_loc
    for child in node.value.values() if node.is_map else node.value if node.is_list else ():
        yield from _places(child)


def referenced_secrets(text: str, env: Mapping[str, str]) -> frozenset[str]:
    """Values of the variables the file refers to: never to be echoed in output (the shortest
    are left out: replacing '1' everywhere would hide nothing and garble every message)."""
    return frozenset(v for name in references(text) if len(v := env.get(name, "")) >= 4)


def _rules(node: Node | None, included: list[Node], registry: Registry, targets: Mapping[str, Target],
           defaults: dict[str, Any], ctx: Ctx) -> list[Rule]:
    """The packs' rules (`included`, already expanded) and then the file's own."""
    if node is not None and not node.is_list:
        ctx.add(node.loc, "'rules' must be a list of rules")
        node = None
    rules: list[Rule] = []
    seen: dict[str, Location] = {}
    fields: dict[str, dict[str, Field]] = {}  # per kind, for every rule of the file
    for item in [*included, *(node.value if node is not None else ())]:
        ctx.rule = None
        name_node = item.value.get("name") if item.is_map else None
        if name_node is not None and isinstance(name_node.value, str):
            if name_node.value in seen:
                ctx.rule = name_node.value
                ctx.add(name_node.loc, f"duplicate rule name (first defined at line {seen[name_node.value].line})")
            else:
                seen[name_node.value] = name_node.loc
        rule = _rule(item, registry, targets, defaults, ctx, fields)  # a duplicate's own problems are reported too
        if rule is not None:
            rules.append(rule)
    ctx.rule = None
    return rules


def _rule(item: Node, registry: Registry, targets: Mapping[str, Target], defaults: dict[str, Any], ctx: Ctx,
          fields_cache: dict[str, dict[str, Field]] | None = None) -> Rule | None:
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
    fields = _fields_for(kind, fields_cache)
    before = len(ctx.problems)
    values = check_mapping(_without_unused(item, kind, ctx), fields, ctx)
    if kind is None:
        return None
    # A key given with a bad value has been reported already; only keys not given at all count as missing.
    merged = {**defaults, **{k: v for k, v in values.items() if v is not None}}
    for key in kind.requires:
        if merged.get(key) is None and key not in item.value:
            ctx.add(item.loc, f"check '{kind.name}' needs '{key}'")
    if "window" in item.value and "time_column" not in item.value and merged.get("time_column") is None:
        ctx.add(item.value["window"].key_loc, "'window' needs 'time_column'")
    for key in ("per", "local_window"):  # both cut the window into local-time pieces
        if key in item.value and merged.get("window") is None:
            ctx.add(item.value[key].key_loc, f"'{key}' needs 'window' (and 'time_column')")
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
        params=Record({k: merged.get(k) for k in kind.params}),
        table=merged.get("table"), where=tuple(merged.get("where") or ()), where_sql=merged.get("where_sql"),
        time_column=merged.get("time_column"), time_unit=merged["time_unit"],
        window=merged.get("window"), timezone=merged.get("timezone"), group_by=tuple(merged.get("group_by") or ()),
        expect_groups=merged.get("expect_groups"), per=merged.get("per"), local_window=merged.get("local_window"),
        min_population=merged.get("min_population"),
        interval=merged["interval"], for_seconds=merged["for"],
        severity=merged["severity"], labels=merged.get("labels") or {}, summary=merged.get("summary"),
        description=merged.get("description"), runbook_url=merged.get("runbook_url"),
        samples=merged["samples"], tags=tuple(merged.get("tags") or ()), enabled=merged["enabled"],
        statement_timeout=merged.get("statement_timeout"), repeat_interval=merged["repeat_interval"],
        error_threshold=merged["error_threshold"], location=item.loc,
    )


def _without_unused(item: Node, kind: CheckKind | None, ctx: Ctx) -> Node:
    """`item` less the common keys its kind has no use for, each reported as such, not as unknown."""
    if kind is None:
        return item
    unused = kind.unused_keys
    for key in unused.intersection(item.value):
        ctx.add(item.value[key].key_loc, f"check '{kind.name}' does not use '{key}'")
    return Node({k: v for k, v in item.value.items() if k not in unused}, item.loc, item.key_loc)


def _default_target(targets: Mapping[str, Target]) -> str | None:
    if len(targets) == 1:
        return next(iter(targets))
    return "main" if "main" in targets else None


def _fields_for(kind: CheckKind | None, cache: dict[str, dict[str, Field]] | None = None) -> dict[str, Field]:
    """Common keys the kind uses, plus its own parameters (all common keys if the kind is unknown).
    Fields are stateless validators: with a `cache`, one set per kind serves every rule of a file."""
    key = kind.name if kind is not None else ""
    if cache is not None and key in cache:
        return cache[key]
    fields = common_rule_fields()
    if kind is not None:
        fields = {k: f for k, f in fields.items() if k not in kind.unused_keys}
        fields.update(kind.params)
    if cache is not None:
        cache[key] = fields
    return fields


def rule_fields(kind: CheckKind) -> dict[str, Field]:
    """Public for `watchdog schema`: the keys a rule of this kind accepts."""
    return _fields_for(kind)

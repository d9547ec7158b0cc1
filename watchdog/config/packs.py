"""Rule packs: parametrized rule sets shipped in `watchdog/packs/NAME.yaml`, used by `include:`.

A pack's rules are YAML rule entries in which `@{param}` stands for a parameter. A scalar that is
exactly `@{param}` becomes the parameter's value as written (a list stays a list); inside longer
text only identifiers and numbers may be pasted (`@{schema}`, `@{max_age|seconds}`), so a pack's
SQL can never receive a free-form string. The expanded entries are rule nodes like any other:
the loader validates them with the file's own rules, at the include's place in the file.

    include:
      - pack: pg_cron
        target: main                      # default: the file's default target
        prefix: pg_cron                   # default: the pack's name; rules are PREFIX_NAME
        with: {max_runtime: 30m}          # the pack's parameters
        rules:                            # per rule, by its full name: keys that replace the pack's
          pg_cron_launcher_detached: {enabled: false}
          pg_cron_job_missed: {severity: critical}
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from watchdog.config.spec import RULE_NAME
from watchdog.errors import ConfigError, Location, Problem
from watchdog.model.durations import parse_duration
from watchdog.validation.fields import FIELD_TYPES, Ctx, Field, Raw, Str, check_mapping, unknown_key_message
from watchdog.validation.yamlsource import Node, parse

PACK_DIR = Path(__file__).resolve().parent.parent / "packs"
_REF = re.compile(r"@\{([a-z][a-z0-9_]*)(?:\|(seconds))?\}")
#: Parameter types whose values may be pasted inside longer text (SQL): they cannot carry quotes.
_PASTABLE = ("column", "integer", "number", "duration")
_PACK_FIELDS = {
    "description": Str(required=True), "grants": Str(required=True), "proven": Str(required=True),
    "params": Raw(), "rules": Raw(required=True),
}
_PARAM_FIELDS = {
    "type": Str(required=True), "doc": Str(required=True), "default": Raw(),
    "minimum": FIELD_TYPES["number"](), "maximum": FIELD_TYPES["number"](),
}
_INCLUDE_FIELDS = {
    "pack": Str(required=True, doc="The pack's name (`watchdog packs` lists them)."),
    "target": FIELD_TYPES["column"](doc="The target its rules probe (default: the file's default target)."),
    "prefix": Str(pattern=RULE_NAME, pattern_hint="is not a valid rule-name prefix", doc="Prefix of its rules' names (default: the pack's name)."),
    "with": Raw(doc="The pack's parameters."),
    "rules": Raw(doc="Per rule (full name): keys replacing the pack's, e.g. {enabled: false}."),
}


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    doc: str
    field: Field
    default: Node | None  # as written in the pack; None: the parameter has no default (empty)


@dataclass(frozen=True)
class Pack:
    name: str
    description: str
    grants: str
    proven: str
    params: dict[str, Param]
    rules: tuple[Node, ...]
    path: Path

    def fields(self) -> dict[str, Field]:
        return {name: p.field for name, p in self.params.items()}


def names() -> list[str]:
    """The packs shipped in the package, by name."""
    return sorted(p.stem for p in PACK_DIR.glob("*.yaml"))


@lru_cache(maxsize=None)
def load_pack(name: str) -> Pack:
    """The pack `name`; a broken shipped pack is a bug of ours, raised as ConfigError at its place."""
    path = PACK_DIR / f"{name}.yaml"
    root, problems = parse(path.read_text(encoding="utf-8"), str(path), {})
    ctx = Ctx(problems=list(problems))
    if root is None or not root.is_map:
        raise ConfigError([*problems, Problem(Location(str(path), 1, 1), "a pack must be a mapping")])
    spec = check_mapping(root, _PACK_FIELDS, ctx)
    params = {pname: _param(pname, pnode, ctx) for pname, pnode in (root.value["params"].value if "params" in root.value else {}).items()}
    rules = root.value["rules"]
    if not rules.is_list:
        ctx.add(rules.loc, "'rules' must be a list")
    for item in rules.value if rules.is_list else ():
        for match, node in _refs(item):
            _check_ref(match, node, params, ctx)
    if ctx.problems:
        raise ConfigError(ctx.problems)
    return Pack(name, spec["description"].strip(), spec["grants"].strip(), spec["proven"].strip(), params, tuple(rules.value), path)


def _param(name: str, node: Node, ctx: Ctx) -> Param:
    spec = check_mapping(node, _PARAM_FIELDS, ctx)
    factory = FIELD_TYPES[spec["type"]]
    bounds = {k: (int(spec[k]) if spec["type"] == "integer" else spec[k]) for k in ("minimum", "maximum") if k in spec}
    field = factory(doc=spec["doc"], **bounds)
    default = node.value.get("default")
    if default is not None:
        field.check(default, ctx)  # a default the pack's own type refuses is a bug of the pack
    return Param(name, spec["type"], spec["doc"], field, default)


def _refs(node: Node) -> list[tuple[re.Match[str], Node]]:
    if node.is_map:
        return [r for child in node.value.values() for r in _refs(child)]
    if node.is_list:
        return [r for child in node.value for r in _refs(child)]
    return [(m, node) for m in _REF.finditer(node.value)] if isinstance(node.value, str) else []


def _check_ref(match: re.Match[str], node: Node, params: dict[str, Param], ctx: Ctx) -> None:
    """A reference to a known parameter; inside text, only of a type that cannot carry quotes,
    and a duration only as `|seconds`."""
    param = params.get(match.group(1))
    if param is None:
        ctx.add(node.loc, f"unknown parameter '{match.group(1)}'")
    elif match.group(0) != node.value or match.group(2):
        if param.type not in _PASTABLE:
            ctx.add(node.loc, f"parameter '{param.name}' ({param.type}) cannot be pasted into text")
        elif (param.type == "duration") != (match.group(2) == "seconds"):
            ctx.add(node.loc, f"'|seconds' is for durations, and a duration in text needs it: @{{{param.name}|seconds}}")
        elif param.default is None:
            ctx.add(node.loc, f"parameter '{param.name}' is pasted into text, so it needs a default")


def expand_includes(node: Node | None, ctx: Ctx) -> list[Node]:
    """The rule entries of every `include:` item, with its parameters, prefix, target and
    overrides applied; every problem is reported at the include's own place in the file."""
    if node is None:
        return []
    if not node.is_list:
        ctx.add(node.loc, "'include' must be a list of {pack: NAME, with: {...}}")
        return []
    return [rule for item in node.value for rule in _include(item, ctx)]


def _include(item: Node, ctx: Ctx) -> list[Node]:
    if not item.is_map:
        ctx.add(item.loc, "each include must be a mapping with at least 'pack'")
        return []
    spec = check_mapping(item, _INCLUDE_FIELDS, ctx)
    name = spec.get("pack")
    if name is None:
        return []
    if name not in names():
        ctx.add(item.value["pack"].loc, unknown_key_message("pack", name, names()) + f" (packs: {', '.join(names())})")
        return []
    pack = load_pack(name)
    values = _values(pack, item.value.get("with"), item.loc, ctx)
    if values is None:
        return []
    rules = expand(pack, values, item.loc, spec.get("prefix") or pack.name)
    if "target" in item.value and spec.get("target") is not None:
        rules = [_with_key(rule, "target", item.value["target"]) for rule in rules]
    return _overridden(rules, item.value.get("rules"), pack, ctx)


def _values(pack: Pack, node: Node | None, at: Location, ctx: Ctx) -> dict[str, Node] | None:
    """The include's parameters as nodes (the user's, at their own place; defaults at `at`);
    None when one of them is bad (each reported at its place)."""
    given = node if node is not None and node.value is not None else Node({}, at)
    if not given.is_map:
        ctx.add(given.loc, f"'with' must be a mapping of {pack.name} parameters")
        return None
    local = Ctx()
    check_mapping(given, pack.fields(), local, unknown_what=f"{pack.name} parameter")
    for problem in local.problems:
        ctx.add(problem.location, f"pack '{pack.name}': {problem.message}")
    if local.problems:
        return None
    return {**defaults(pack, at), **given.value}


def defaults(pack: Pack, at: Location) -> dict[str, Node]:
    """The pack's default parameters, placed at `at`."""
    return {name: _relocated(p.default, at) for name, p in pack.params.items() if p.default is not None}


def expand(pack: Pack, values: dict[str, Node], at: Location, prefix: str) -> list[Node]:
    """The pack's rule entries with `values` substituted, named PREFIX_NAME and tagged with the
    pack's name; a rule whose `when:` parameter is empty is left out."""
    out = []
    for rule in pack.rules:
        when = rule.value.get("when")
        if when is not None and not _given(values.get(when.value)):
            continue
        entry = {k: _substituted(v, pack, values, at) for k, v in rule.value.items() if k != "when"}
        entry["name"] = Node(f"{prefix}_{rule.value['name'].value}", at, at)
        tags = entry["tags"].value if "tags" in entry else []
        entry["tags"] = Node([Node(pack.name, at), *tags], at, at)
        out.append(Node(entry, at, at))
    return out


def _given(node: Node | None) -> bool:
    return node is not None and node.value not in (None, "", [], {})


def _substituted(node: Node, pack: Pack, values: dict[str, Node], at: Location) -> Node:
    if node.is_map:
        return Node({k: _substituted(v, pack, values, at) for k, v in node.value.items()}, at, at)
    if node.is_list:
        return Node([_substituted(v, pack, values, at) for v in node.value], at, at)
    if not isinstance(node.value, str) or "@{" not in node.value:
        return Node(node.value, at, at)
    whole = _REF.fullmatch(node.value)
    if whole and whole.group(2) is None:
        value = values.get(whole.group(1))
        return Node(None, at, at) if value is None else Node(value.value, value.loc, at)
    return Node(_REF.sub(lambda m: _pasted(values[m.group(1)], m.group(2)), node.value), at, at)


def _pasted(value: Node, conversion: str | None) -> str:
    """A parameter's value inside text (its type was checked when the pack was loaded)."""
    return f"{parse_duration(str(value.value)):g}" if conversion == "seconds" else str(value.value)


def _relocated(node: Node, at: Location) -> Node:
    if node.is_map:
        return Node({k: _relocated(v, at) for k, v in node.value.items()}, at, at)
    if node.is_list:
        return Node([_relocated(v, at) for v in node.value], at, at)
    return Node(node.value, at, at)


def _with_key(rule: Node, key: str, value: Node) -> Node:
    return Node({**rule.value, key: value}, rule.loc, rule.key_loc)


def _overridden(rules: list[Node], node: Node | None, pack: Pack, ctx: Ctx) -> list[Node]:
    """`rules:` of an include: per rule (full name), keys that replace the pack's."""
    if node is None:
        return rules
    if not node.is_map:
        ctx.add(node.loc, "'rules' of an include must map rule names to the keys that replace the pack's")
        return rules
    by_name = {rule.value["name"].value: rule for rule in rules}
    for name, override in node.value.items():
        if name not in by_name:
            ctx.add(override.key_loc, f"pack '{pack.name}': " + unknown_key_message("rule", name, by_name))
        elif not override.is_map:
            ctx.add(override.loc, f"pack '{pack.name}': the override of '{name}' must be a mapping of rule keys")
        elif "name" in override.value:
            ctx.add(override.value["name"].key_loc, f"pack '{pack.name}': a pack rule cannot be renamed (use 'prefix')")
        else:
            rule = by_name[name]
            by_name[name] = Node({**rule.value, **override.value}, rule.loc, rule.key_loc)
    return list(by_name.values())

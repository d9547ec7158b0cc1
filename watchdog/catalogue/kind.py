"""A check kind: its SQL template and the parameter spec that sits beside it (`NAME.yaml`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from watchdog.validation.fields import FIELD_TYPES, Ctx, Field, Invalid, Obj, Raw, Sql, check_mapping
from watchdog.model.keys import DATA_KEYS, TABLE_KEYS
from watchdog.validation.yamlsource import Node, parse
from watchdog.errors import Location, Problem

#: rows: the query returns offending rows; aggregate: one row with `value` (and `violated`);
#: schedule: runs (and per-job schedules) that watchdog.schedules judges against each expected fire.
SHAPES = ("rows", "aggregate", "schedule")


@dataclass(frozen=True)
class CheckKind:
    """What the compiler and judge need to know about one kind."""

    name: str
    description: str
    shape: str
    uses: tuple[str, ...]
    requires: tuple[str, ...]
    params: dict[str, Field]
    template: str
    template_path: Path
    violations_doc: str = ""
    value_doc: str = ""
    seeds: tuple[str, ...] = field(default_factory=tuple)
    batch: bool = False
    builtin: bool = False

    @property
    def takes_raw_sql(self) -> bool:
        """User-written SQL reaches the database through this kind (a user kind, or a `sql` parameter)."""
        return not self.builtin or any(isinstance(f, Sql) for f in self.params.values())

    @cached_property
    def unused_keys(self) -> frozenset[str]:
        """Common rule keys this kind has no use for (a rule giving one is told so)."""
        unused = set(DATA_KEYS).difference(self.uses)
        if "table" not in self.uses:
            unused.update(TABLE_KEYS)
        return frozenset(unused)

    @property
    def judged_by_expect(self) -> bool:
        return "expect" in self.params


_SPEC_FIELDS = {
    "description": FIELD_TYPES["string"](required=True),
    "shape": FIELD_TYPES["string"](required=True),
    "uses": FIELD_TYPES["strings"](),
    "requires": FIELD_TYPES["strings"](),
    "violations": FIELD_TYPES["string"](),
    "value": FIELD_TYPES["string"](),
    "seeds": FIELD_TYPES["strings"](),
    "batch": FIELD_TYPES["boolean"](doc="Violations are the rows of `table` matching the template's where(): rules on one table can share a scan."),
    "params": Raw(),
}
_PARAM_FIELDS = {
    "type": FIELD_TYPES["string"](required=True),
    "required": FIELD_TYPES["boolean"](),
    "doc": FIELD_TYPES["string"](),
    "default": Raw(),
    "fields": Raw(),
    "minimum": FIELD_TYPES["number"](),
    "maximum": FIELD_TYPES["number"](),
}


def _param_field(node: Node, ctx: Ctx) -> Field | None:
    if not node.is_map:
        ctx.add(node.loc, "a parameter spec must be a mapping with at least 'type'")
        return None
    raw = {k: v for k, v in node.value.items() if k not in ("default", "fields")}
    spec = check_mapping(Node(raw, node.loc, node.key_loc), {k: f for k, f in _PARAM_FIELDS.items() if k not in ("default", "fields")}, ctx)
    kind = spec.get("type")
    if kind == "object":
        fields_node = node.value.get("fields")
        if fields_node is None or not fields_node.is_map:
            ctx.add(node.loc, "an object parameter needs 'fields'")
            return None
        sub = {k: _param_field(v, ctx) for k, v in fields_node.value.items()}
        if any(f is None for f in sub.values()):
            return None
        return Obj(doc=spec.get("doc", ""), required=bool(spec.get("required")), fields=sub)  # type: ignore[arg-type]
    factory = FIELD_TYPES.get(kind or "")
    if factory is None:
        ctx.add(node.value["type"].loc, f"unknown parameter type '{kind}' (one of {', '.join(sorted(FIELD_TYPES))}, object)")
        return None
    kwargs: dict[str, Any] = {"doc": spec.get("doc", ""), "required": bool(spec.get("required"))}
    for bound in ("minimum", "maximum"):
        if bound in spec:
            kwargs[bound] = int(spec[bound]) if kind == "integer" else spec[bound]
    built = factory(**kwargs)
    if "default" in node.value:
        try:
            built.default = built.convert(node.value["default"], ctx)
        except Invalid as exc:
            ctx.add(exc.loc or node.value["default"].loc, f"bad default: {exc}")
    return built


def load_kind(spec_path: Path, builtin: bool = False) -> tuple[CheckKind | None, list[Problem]]:
    """Read `NAME.yaml` and its template `NAME.sql` from the same folder."""
    name = spec_path.stem
    template_path = spec_path.with_suffix(".sql")
    where = Location(str(spec_path), 1, 1)
    try:
        text = spec_path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem(where, f"cannot read check spec: {exc.strerror}")]
    if not template_path.is_file():
        return None, [Problem(where, f"check '{name}' has no template {template_path.name} beside its spec")]
    root, problems = parse(text, str(spec_path), {})
    if root is None:
        return None, problems
    ctx = Ctx(problems=list(problems))
    if not root.is_map:
        ctx.add(root.loc, "a check spec must be a mapping")
        return None, ctx.problems
    spec = check_mapping(root, _SPEC_FIELDS, ctx)
    shape = spec.get("shape")
    if shape not in SHAPES:
        ctx.add(root.loc, f"shape must be one of {', '.join(SHAPES)}")
    uses = tuple(spec.get("uses") or ())
    for key in uses:
        if key not in DATA_KEYS:
            ctx.add(root.value["uses"].loc, f"'uses' names unknown key '{key}' (one of {', '.join(DATA_KEYS)})")
    params: dict[str, Field] = {}
    params_node = root.value.get("params")
    if params_node is not None:
        if not params_node.is_map:
            ctx.add(params_node.loc, "'params' must be a mapping")
        else:
            for pname, pnode in params_node.value.items():
                built = _param_field(pnode, ctx)
                if built is not None:
                    params[pname] = built
    if ctx.problems:
        return None, ctx.problems
    kind = CheckKind(
        name=name, description=spec["description"], shape=str(shape), uses=uses,
        requires=tuple(spec.get("requires") or ()), params=params,
        template=template_path.read_text(encoding="utf-8"), template_path=template_path,
        violations_doc=spec.get("violations", ""), value_doc=spec.get("value", ""),
        seeds=tuple(spec.get("seeds") or ()), batch=bool(spec.get("batch")), builtin=builtin,
    )
    return kind, []

"""Typed fields: one definition validates a YAML node and describes itself as JSON Schema.

The top-level file, the common rule keys and every check kind's parameters (from `checks/*.yaml`)
are all built from these, so `watchdog validate` and `watchdog schema` can never disagree.
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

from watchdog.model.conditions import Col, Compare, In, IsNull, Predicate
from watchdog.model.durations import format_duration, parse_duration
from watchdog.schedules.cron import parse as parse_schedule
from watchdog.model.values import ColumnPair, Duration as DurationValue, Expectation, Record
from watchdog.validation.sqltext import NotOneSelect, one_select
from watchdog.validation.yamlsource import Node
from watchdog.errors import Location, Problem

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
QUALIFIED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
OPS = ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null")
EXPECT = re.compile(r"\s*(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*")


class Invalid(Exception):
    """A field rejected its node; `loc` overrides the node's own location."""

    def __init__(self, message: str, loc: Location | None = None) -> None:
        super().__init__(message)
        self.loc = loc


@dataclass
class Ctx:
    """Collects problems while a whole file is checked, so all of them are reported in one run."""

    problems: list[Problem] = field(default_factory=list)
    rule: str | None = None
    settled: frozenset[Location] = frozenset()  # places whose first problem (an unset variable) causes the rest

    def add(self, loc: Location | None, message: str) -> None:
        self.problems.append(Problem(loc, message, self.rule))

    def reported(self) -> list[Problem]:
        """The problems to show: at a settled place only the first, not what its raw text led to."""
        shown: set[Location] = set()
        out = []
        for problem in self.problems:
            if problem.location in self.settled:
                if problem.location in shown:
                    continue
                shown.add(problem.location)
            out.append(problem)
        return out


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(type(value), type(value).__name__)


@dataclass
class Field:
    """Base: `convert` turns a node into a value or raises Invalid."""

    doc: str = ""
    required: bool = False
    default: Any = None

    def check(self, node: Node, ctx: Ctx) -> Any:
        try:
            return self.convert(node, ctx)
        except Invalid as exc:
            ctx.add(exc.loc or node.loc, str(exc))
            return None

    def convert(self, node: Node, ctx: Ctx) -> Any:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def described(self) -> dict[str, Any]:
        out = self.schema()
        if self.doc:
            out["description"] = self.doc
        if self.default is not None:
            out["default"] = self.written(self.default)
        return out

    def written(self, value: Any) -> Any:
        """`value` as a user would write it in YAML (for JSON Schema defaults)."""
        return value


def _want(node: Node, kinds: tuple[type, ...], what: str) -> Any:
    value = node.value
    if isinstance(value, bool) and bool not in kinds:
        raise Invalid(f"expected {what}, got {_type_name(value)}")
    if not isinstance(value, kinds):
        raise Invalid(f"expected {what}, got {_type_name(value)}")
    return value


@dataclass
class Raw(Field):
    """Taken as it is; a later step (rules, nested specs) validates it in its own way."""

    def convert(self, node: Node, ctx: Ctx) -> Any:
        return node.plain()

    def schema(self) -> dict[str, Any]:
        return {}


@dataclass
class Str(Field):
    pattern: str | None = None
    pattern_hint: str = ""

    def convert(self, node: Node, ctx: Ctx) -> str:
        value = _want(node, (str,), "a string")
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise Invalid(f"'{value}' {self.pattern_hint or 'does not match ' + self.pattern}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", **({"pattern": f"^{self.pattern}$"} if self.pattern else {})}


@dataclass
class Template(Str):
    """A jinja2 text (summary, description): syntax is checked at load time, not at 3 a.m."""

    def convert(self, node: Node, ctx: Ctx) -> str:
        value = super().convert(node, ctx)
        try:
            jinja2.Environment().parse(value)
        except jinja2.TemplateSyntaxError as exc:
            raise Invalid(f"bad template: {exc.message}") from None
        return value


@dataclass
class Int(Field):
    minimum: int | None = None
    maximum: int | None = None

    def convert(self, node: Node, ctx: Ctx) -> int:
        value = _want(node, (int,), "an integer")
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"must be at least {self.minimum}, got {value}")
        if self.maximum is not None and value > self.maximum:
            raise Invalid(f"must be at most {self.maximum}, got {value}")
        return value

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


@dataclass
class Number(Field):
    minimum: float | None = None

    def convert(self, node: Node, ctx: Ctx) -> float:
        value = _want(node, (int, float), "a number")
        if not math.isfinite(value):  # .nan compares false with everything: a rule that never fires
            raise Invalid(f"expected a finite number, got {value}")
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"must be at least {self.minimum:g}, got {value}")
        return float(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "number", **({"minimum": self.minimum} if self.minimum is not None else {})}


@dataclass
class Bool(Field):
    def convert(self, node: Node, ctx: Ctx) -> bool:
        return _want(node, (bool,), "true or false")

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


DURATION_PATTERN = r"^(0|(\d+(\.\d+)?(ms|s|m|h|d|w))+)$"


# Ten years: longer than any schedule or window means, short enough that now +/- it is a date.
MAX_DURATION = 3650 * 86400.0


@dataclass
class Duration(Field):
    """Seconds, written with a unit, within [minimum, maximum]: a duration out of range fails
    `validate`, not the scheduler (`interval: 0s` divides by zero, `99999999999d` overflows)."""

    minimum: float = 0.0
    maximum: float = MAX_DURATION

    def convert(self, node: Node, ctx: Ctx) -> DurationValue:
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool) and value == 0:
            seconds = 0.0
        elif not isinstance(value, str):
            raise Invalid(f"expected a duration such as 30s, 5m, 2h or 1d, got {_type_name(value)}")
        else:
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                raise Invalid(str(exc)) from None
        if seconds < self.minimum:
            raise Invalid(f"must be at least {format_duration(self.minimum)}, got {value}")
        if seconds > self.maximum:
            raise Invalid(f"must be at most {format_duration(self.maximum)}, got {value}")
        return DurationValue(seconds)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": DURATION_PATTERN}

    def written(self, value: Any) -> Any:
        return format_duration(value)


def check_identifier(value: Any, qualified: bool = False) -> str:
    pattern = QUALIFIED if qualified else IDENT
    if not isinstance(value, str):
        raise Invalid(f"expected an identifier, got {_type_name(value)}")
    if not pattern.fullmatch(value):
        what = "table name ([schema.]name)" if qualified else "column name"
        raise Invalid(f"'{value}' is not a valid {what}: use letters, digits and _ only")
    return value


@dataclass
class Identifier(Field):
    qualified: bool = False

    def convert(self, node: Node, ctx: Ctx) -> str:
        return check_identifier(node.value, self.qualified)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{(QUALIFIED if self.qualified else IDENT).pattern}$"}


@dataclass
class Identifiers(Field):
    """One column or a list of them."""

    def convert(self, node: Node, ctx: Ctx) -> tuple[str, ...]:
        items = node.value if node.is_list else [node.value] if isinstance(node.value, str) else None
        if items is None:
            raise Invalid(f"expected a column name or a list of them, got {_type_name(node.value)}")
        if not items:
            raise Invalid("expected at least one column")
        out = []
        for item in (node.value if node.is_list else [node]):
            try:
                out.append(check_identifier(item.plain() if isinstance(item, Node) else item))
            except Invalid as exc:
                raise Invalid(str(exc), item.loc if isinstance(item, Node) else None) from None
        return tuple(out)

    def schema(self) -> dict[str, Any]:
        ident = {"type": "string", "pattern": f"^{IDENT.pattern}$"}
        return {"anyOf": [ident, {"type": "array", "items": ident, "minItems": 1}]}


SCALAR_TYPES = (str, int, float, bool)
# PostgreSQL takes at most 65,535 parameters in a statement; an allowlist is far shorter.
MAX_VALUES = 1000


def _items(items: list[Node], kinds: tuple[type, ...], what: str) -> list[Any]:
    """The plain values of list items, each checked against `kinds` at its own location."""
    for item in items:
        if not isinstance(item.value, kinds):
            raise Invalid(f"expected {what}, got {_type_name(item.value)}", item.loc)
    return [item.value for item in items]


@dataclass
class Scalars(Field):
    """A list of plain values (allowlists); bound as parameters, never pasted into SQL."""

    def convert(self, node: Node, ctx: Ctx) -> list[Any]:
        if not node.is_list:
            raise Invalid(f"expected a list of values, got {_type_name(node.value)}")
        if len(node.value) > MAX_VALUES:
            raise Invalid(f"at most {MAX_VALUES} values, got {len(node.value)} (each is a bound parameter)")
        return _items(node.value, SCALAR_TYPES, "a plain value")

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": ["string", "number", "boolean"]}, "maxItems": MAX_VALUES}


@dataclass
class Filter(Field):
    """`where`: column: value | [values] | {op: value}; every value becomes a bound parameter."""

    def convert(self, node: Node, ctx: Ctx) -> tuple[Predicate, ...]:
        if not node.is_map:
            raise Invalid(f"expected a mapping of column: value, got {_type_name(node.value)}")
        out: list[Predicate] = []
        for column, vnode in node.value.items():  # every bad column reported, not just the first
            try:
                check_identifier(column)
            except Invalid as exc:
                ctx.add(vnode.key_loc, str(exc))
                continue
            try:
                out.extend(self._conditions(column, vnode))
            except Invalid as exc:
                ctx.add(exc.loc or vnode.loc, str(exc))
        return tuple(out)

    def _conditions(self, column: str, vnode: Node) -> list[Predicate]:
        if vnode.is_list:
            return [In(Col(column), tuple(Scalars().convert(vnode, Ctx())))]
        if vnode.is_map:
            conds = []
            for op, onode in vnode.value.items():
                if op not in OPS:
                    raise Invalid(unknown_key_message("operator", op, OPS), onode.key_loc)
                conds.append(self._operator(column, op, onode))
            return conds
        if vnode.value is None:
            return [IsNull(Col(column))]
        if not isinstance(vnode.value, SCALAR_TYPES):
            raise Invalid(f"expected a value for column '{column}'")
        return [Compare(Col(column), "=", vnode.value)]

    def _operator(self, column: str, op: str, onode: Node) -> Predicate:
        if op in ("in", "not_in"):
            return In(Col(column), tuple(Scalars().convert(onode, Ctx())), negated=op == "not_in")
        if op == "is_null":
            return IsNull(Col(column), negated=not Bool().convert(onode, Ctx()))
        if not isinstance(onode.value, SCALAR_TYPES):
            raise Invalid(f"expected a plain value for '{op}', got {_type_name(onode.value)}", onode.loc)
        return Compare(Col(column), op, onode.value)

    def schema(self) -> dict[str, Any]:
        scalar = {"type": ["string", "number", "boolean", "null"]}
        ops = {op: ({"type": "array"} if op in ("in", "not_in") else {"type": "boolean"} if op == "is_null" else scalar) for op in OPS}
        return {"type": "object", "additionalProperties": {"anyOf": [
            scalar, {"type": "array", "items": scalar}, {"type": "object", "properties": ops, "additionalProperties": False},
        ]}}


@dataclass
class Expect(Field):
    def convert(self, node: Node, ctx: Ctx) -> Expectation:
        value = node.value
        match = EXPECT.fullmatch(value) if isinstance(value, str) else None
        if not match:
            raise Invalid(f"bad expectation {value!r}: write an operator and a number, such as \"> 0\", \"== 0\" or \">= 2\"")
        return Expectation(match.group(1), float(match.group(2)))

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{EXPECT.pattern}$"}

    def written(self, value: Any) -> Any:
        return str(value)


@dataclass
class Sql(Field):
    """A read-only query, run inside a read-only transaction; one statement only."""

    def convert(self, node: Node, ctx: Ctx) -> str:
        try:
            return one_select(_want(node, (str,), "an SQL query"))
        except NotOneSelect as exc:
            raise Invalid(str(exc)) from None

    def schema(self) -> dict[str, Any]:
        return {"type": "string"}


@dataclass
class StrMap(Field):
    """labels: name -> string value."""

    def convert(self, node: Node, ctx: Ctx) -> dict[str, str]:
        if not node.is_map:
            raise Invalid(f"expected a mapping of name: value, got {_type_name(node.value)}")
        out = {}
        for key, vnode in node.value.items():
            if not IDENT.fullmatch(key):
                raise Invalid(f"'{key}' is not a valid label name", vnode.key_loc)
            if not isinstance(vnode.value, SCALAR_TYPES):
                raise Invalid(f"expected a plain value for label '{key}'", vnode.loc)
            out[key] = str(vnode.value)
        return out

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}


@dataclass
class StrList(Field):
    def convert(self, node: Node, ctx: Ctx) -> list[str]:
        items = node.value if node.is_list else [node] if isinstance(node.value, str) else None
        if items is None:
            raise Invalid(f"expected a list of strings, got {_type_name(node.value)}")
        return _items(items, (str,), "a string")

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


@dataclass
class Enum(Field):
    choices: tuple[str, ...] = ()

    def convert(self, node: Node, ctx: Ctx) -> str:
        value = node.value
        if value not in self.choices:
            raise Invalid(f"'{value}' is not one of {', '.join(self.choices)}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


@dataclass
class JoinOn(Field):
    """`on`: a column present on both sides, or parent_column: child_column pairs."""

    def convert(self, node: Node, ctx: Ctx) -> tuple[ColumnPair, ...]:
        if isinstance(node.value, str):
            column = check_identifier(node.value)
            return (ColumnPair(column, column),)
        if node.is_map and node.value:
            return tuple(ColumnPair(check_identifier(k), check_identifier(v.value)) for k, v in node.value.items())
        raise Invalid("expected a column name, or a mapping of parent_column: child_column")

    def schema(self) -> dict[str, Any]:
        ident = {"type": "string", "pattern": f"^{IDENT.pattern}$"}
        return {"anyOf": [ident, {"type": "object", "additionalProperties": ident, "minProperties": 1}]}


def unknown_key_message(what: str, key: str, known: Any) -> str:
    close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.7)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {what} '{key}'{hint}"


@dataclass
class Obj(Field):
    """A closed mapping: unknown keys are errors with a did-you-mean."""

    fields: dict[str, Field] = field(default_factory=dict)

    def convert(self, node: Node, ctx: Ctx) -> Record:
        if not node.is_map:
            raise Invalid(f"expected a mapping, got {_type_name(node.value)}")
        values = check_mapping(node, self.fields, ctx)
        return Record({name: values.get(name) for name in self.fields})

    def schema(self) -> dict[str, Any]:
        return object_schema(self.fields)


@dataclass
class MapOf(Field):
    item: Field = field(default_factory=Field)
    key_pattern: re.Pattern[str] = IDENT

    def convert(self, node: Node, ctx: Ctx) -> dict[str, Any]:
        if not node.is_map:
            raise Invalid(f"expected a mapping, got {_type_name(node.value)}")
        out = {}
        for key, vnode in node.value.items():
            if not self.key_pattern.fullmatch(key):
                ctx.add(vnode.key_loc, f"'{key}' is not a valid name: use letters, digits and _")
                continue
            out[key] = self.item.check(vnode, ctx)
        return out

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": self.item.described()}


def check_mapping(node: Node, fields: Mapping[str, Field], ctx: Ctx, unknown_what: str = "key") -> dict[str, Any]:
    """Every known key converted, defaults filled, unknown and missing keys reported."""
    out: dict[str, Any] = {}
    misspelled: set[str] = set()
    for key, vnode in node.value.items():
        spec = fields.get(key)
        if spec is None:
            ctx.add(vnode.key_loc, unknown_key_message(unknown_what, key, fields))
            misspelled.update(difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.7))
            continue
        out[key] = spec.check(vnode, ctx)
    for key, spec in fields.items():
        if key not in out and key not in misspelled:
            if spec.required:
                ctx.add(node.loc, f"missing required key '{key}'")
            elif spec.default is not None:
                out[key] = spec.default
    return out


def object_schema(fields: Mapping[str, Field]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {k: f.described() for k, f in fields.items()},
        "required": [k for k, f in fields.items() if f.required],
        "additionalProperties": False,
    }


@dataclass
class GroupValues(Field):
    """`expect_groups`: the groups that must be present, as values (one group column) or lists of
    values (several, in `group_by` order)."""

    def convert(self, node: Node, ctx: Ctx) -> tuple[tuple[Any, ...], ...]:
        if not node.is_list:
            raise Invalid(f"expected a list of groups, got {_type_name(node.value)}")
        groups = []
        for item in node.value:
            values = _items(item.value, SCALAR_TYPES, "a plain value") if item.is_list else _items([item], SCALAR_TYPES, "a plain value")
            groups.append(tuple(values))
        return tuple(groups)

    def schema(self) -> dict[str, Any]:
        scalar = {"type": ["string", "number", "boolean"]}
        return {"type": "array", "items": {"anyOf": [scalar, {"type": "array", "items": scalar}]}}


@dataclass
class CronField(Str):
    """A schedule as crontab and pg_cron write it (`0 3 * * 1-5`, `@daily`, `30 seconds`)."""

    def convert(self, node: Node, ctx: Ctx) -> str:
        value = super().convert(node, ctx)
        try:
            parse_schedule(value)
        except ValueError as exc:
            raise Invalid(f"bad cron schedule: {exc}") from None
        return value


@dataclass
class TimeZoneField(Str):
    """An IANA time zone name (`America/New_York`); checked against the zone database at load."""

    def convert(self, node: Node, ctx: Ctx) -> str:
        value = super().convert(node, ctx)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"unknown time zone '{value}' (use an IANA name such as America/New_York or UTC)") from None
        return value


FIELD_TYPES: dict[str, Callable[..., Field]] = {
    "string": Str, "template": Template, "integer": Int, "number": Number, "boolean": Bool,
    "duration": Duration, "column": Identifier, "columns": Identifiers,
    "table": lambda **kw: Identifier(qualified=True, **kw), "values": Scalars, "filter": Filter,
    "expect": Expect, "sql": Sql, "labels": StrMap, "strings": StrList, "join_on": JoinOn,
    "cron": CronField, "timezone": TimeZoneField,
}

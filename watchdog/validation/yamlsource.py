"""YAML parsed into nodes that remember their 1-based line and column.

PyYAML's composer keeps a mark on every node; we convert that tree into `Node`s so every later
validation error can point at the exact key or value the operator has to fix.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from watchdog.validation.envexpand import MissingVariable, expand
from watchdog.errors import Location, Problem


@dataclass
class Node:
    """A parsed value: dict[str, Node] for mappings, list[Node] for sequences, else a scalar."""

    value: Any
    loc: Location
    key_loc: Location | None = None

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The Python value without locations."""
        if self.is_map:
            return {k: v.plain() for k, v in self.value.items()}
        if self.is_list:
            return [v.plain() for v in self.value]
        return self.value

    def where(self) -> Location:
        """Where a problem with this entry is best shown: its key when it has one."""
        return self.key_loc or self.loc


def _loc(path: str, mark: yaml.Mark) -> Location:
    return Location(path, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, path: str, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env
        self.problems: list[Problem] = []
        self._scalars = yaml.SafeLoader("")

    def build(self, node: yaml.Node, key_loc: Location | None = None) -> Node:
        loc = _loc(self.path, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Node] = {}
            for key_node, value_node in node.value:
                kloc = _loc(self.path, key_node.start_mark)
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.problems.append(Problem(kloc, "YAML merge keys ('<<') are not supported"))
                    continue
                # Keys are taken as written: YAML 1.1 would turn `on:` (orphan's child join) into True.
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(self._scalar(key_node))
                if key in out:
                    self.problems.append(Problem(kloc, f"duplicate key '{key}'"))
                out[key] = self.build(value_node, kloc)
            return Node(out, loc, key_loc)
        if isinstance(node, yaml.SequenceNode):
            return Node([self.build(item) for item in node.value], loc, key_loc)
        value = self._scalar(node)
        if isinstance(value, str) and "$" in value:
            try:
                value = expand(value, self.env)
            except MissingVariable as exc:
                self.problems.append(Problem(loc, str(exc)))
        return Node(value, loc, key_loc)

    def _scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            return None
        return self._scalars.construct_object(node, deep=True)


# libyaml's parser when PyYAML was built with it (the wheels are): ten times faster on a rule file
# of a thousand rules, with the same nodes and marks. A file it rejects is parsed again by the
# pure-Python parser, whose syntax errors say more ("expected X, but found Y").
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=yaml.SafeLoader)


def parse(text: str, path: str, env: Mapping[str, str]) -> tuple[Node | None, list[Problem]]:
    """The document's root node (a null one for an empty file) and the problems met on the way
    (syntax, duplicate keys, variables); no node when the YAML cannot be parsed."""
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _loc(path, mark) if mark else Location(path, 1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(where, f"YAML syntax error: {reason}")]
    except yaml.YAMLError as exc:
        return None, [Problem(Location(path, 1, 1), f"YAML error: {exc}")]
    if root is None:
        return Node(None, Location(path, 1, 1)), []
    builder = _Builder(path, env)
    return builder.build(root), builder.problems

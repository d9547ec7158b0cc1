"""YAML parsed into nodes that remember their 1-based line and column.

Every PyYAML event carries a mark; we compose `Node`s from the events so every later validation
error can point at the exact key or value the operator has to fix, and so that nesting and alias
expansion are bounded while the file is read (a hostile file is refused at a place, not run).
"""
from __future__ import annotations

import os

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from watchdog.validation.envexpand import UnresolvedReference, expand
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


# Bounds that keep a hostile file from exhausting memory, time or the stack: a rule file nests a
# handful of levels and repeats a `where` or `labels` block by alias at most a few thousand times.
MAX_DEPTH = 64
MAX_ALIASED = 100_000  # values that aliases may add to the document, all aliases together
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_TOO_DEEP = f"YAML nesting deeper than {MAX_DEPTH} levels: refused"


class _Refused(Exception):
    """The document cannot be taken further (a limit crossed, a second document, a bad alias)."""

    def __init__(self, loc: Location, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(loc, message)


@dataclass
class _Open:
    """A mapping or sequence being composed: its items so far and how many values it holds."""

    items: dict[str, Node] | list[Node]
    loc: Location
    key_loc: Location | None
    anchor: str | None
    size: int = 1
    key: tuple[str, Location] | None = None  # a mapping's key waiting for its value
    skip: bool = False  # the key was refused: its value is dropped


class _Composer:
    """Nodes from PyYAML's event stream, without recursion, within MAX_DEPTH and MAX_ALIASED.

    PyYAML's own composer recurses (a deep file ends in RecursionError) and leaves aliases shared,
    to be expanded by whoever walks the tree (a billion-laughs file then takes gigabytes); here an
    alias costs the size of what it names, counted as it is met.
    """

    def __init__(self, path: str, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env
        self.problems: list[Problem] = []
        self.expanded: set[str] = set()
        self.from_files: list[str] = []  # values read by ${file:PATH}: secrets
        self._scalars = yaml.SafeLoader("")
        self._anchors: dict[str, tuple[Node, int, str | None]] = {}  # node, size, raw text of a scalar
        self._open: list[_Open] = []
        self._aliased = 0
        self._root: Node | None = None
        self._documents = 0

    def run(self, parser: yaml.SafeLoader) -> Node | None:
        """Compose the events of `parser` (a loader made on the text), then dispose of it."""
        try:
            while (event := parser.get_event()) is not None:
                self._event(event)
        finally:
            parser.dispose()
        return self._root

    def _event(self, event: yaml.Event) -> None:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            loc = _loc(self.path, event.start_mark)
            tag = event.tag
            if tag is None or tag == "!":
                tag = self._scalars.resolve(yaml.ScalarNode, event.value, event.implicit) if event.implicit[0] else _STR
            node = Node(self._scalar(event, tag, loc), loc, self._key_loc())
            self._done(node, 1, event.anchor, event.value, merge=tag == _MERGE)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            loc = _loc(self.path, event.start_mark)
            if len(self._open) >= MAX_DEPTH:
                raise _Refused(loc, _TOO_DEEP)
            items: dict[str, Node] | list[Node] = {} if kind is yaml.MappingStartEvent else []
            self._open.append(_Open(items, loc, self._key_loc(), event.anchor))
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            done = self._open.pop()
            self._done(Node(done.items, done.loc, done.key_loc), done.size, done.anchor, None)
        elif kind is yaml.AliasEvent:
            self._alias(event.anchor, _loc(self.path, event.start_mark))
        elif kind is yaml.DocumentStartEvent:
            self._documents += 1
            if self._documents > 1:
                raise _Refused(_loc(self.path, event.start_mark), "YAML syntax error: expected a single document in the stream")

    def _key_loc(self) -> Location | None:
        """The location of the key the next value belongs to, if it is a mapping's value."""
        top = self._open[-1] if self._open else None
        return top.key[1] if top is not None and top.key is not None else None

    def _alias(self, anchor: str, loc: Location) -> None:
        if any(frame.anchor == anchor for frame in self._open):
            raise _Refused(loc, f"YAML alias '*{anchor}' refers to a value that contains it")
        if anchor not in self._anchors:
            raise _Refused(loc, f"YAML syntax error: found undefined alias '{anchor}'")
        node, size, raw = self._anchors[anchor]
        self._aliased += size
        if self._aliased > MAX_ALIASED:
            raise _Refused(loc, f"YAML aliases expand to more than {MAX_ALIASED} values: refused (is this a 'billion laughs' file?)")
        self._done(Node(node.value, node.loc, self._key_loc()), size, None, raw)

    def _done(self, node: Node, size: int, anchor: str | None, raw: str | None, merge: bool = False) -> None:
        """Place a finished value: as the root, a list item, a mapping's key or its value."""
        if anchor is not None:
            self._anchors[anchor] = (node, size, raw)
        if not self._open:
            self._root = node
            return
        top = self._open[-1]
        top.size += size
        if isinstance(top.items, list):
            top.items.append(node)
        elif top.key is None:
            self._key(top, node, raw, merge)
        else:
            key, kloc = top.key
            if not top.skip:
                if key in top.items:
                    self.problems.append(Problem(kloc, f"duplicate key '{key}'"))
                top.items[key] = node
            top.key, top.skip = None, False

    def _key(self, top: _Open, node: Node, raw: str | None, merge: bool) -> None:
        # Keys are taken as written: YAML 1.1 would turn `on:` (orphan's child join) into True.
        top.key = (raw if raw is not None else "", node.loc)
        if raw is None:
            self.problems.append(Problem(node.loc, "a key must be plain text, not a list or a mapping"))
            top.skip = True
        elif merge:
            self.problems.append(Problem(node.loc, "YAML merge keys ('<<') are not supported"))
            top.skip = True

    def _scalar(self, event: yaml.ScalarEvent, tag: str, loc: Location) -> Any:
        if tag in (_STR, _MERGE):  # `<<` is text where it is not a key
            value: Any = event.value
        else:
            value = self._typed(event, tag, loc)
        if isinstance(value, str) and "$" in value:
            try:
                expanded = expand(value, self.env, os.path.dirname(os.path.abspath(self.path)), self.from_files)
            except UnresolvedReference as exc:
                self.problems.append(Problem(loc, str(exc)))
            else:
                if expanded != value:
                    self.expanded.add(expanded)
                value = expanded
        return value

    def _typed(self, event: yaml.ScalarEvent, tag: str, loc: Location) -> Any:
        """A scalar of another type than text (number, boolean, null, timestamp), as PyYAML's safe
        constructor makes it; an unsupported tag or a bad value is a problem, not an exception."""
        try:
            return self._scalars.construct_object(yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style))
        except yaml.constructor.ConstructorError:
            self.problems.append(Problem(loc, f"YAML tag '{tag}' is not supported"))
            return None
        except Exception:  # noqa: BLE001 - PyYAML's constructors raise what bad text makes them (IndexError for
            # `!!int ''`, AttributeError for `!!timestamp x`): any of it is a problem with this value
            self.problems.append(Problem(loc, f"not a valid !!{tag.rsplit(':', 1)[-1]} value: '{event.value}'"))
            return None


# libyaml's parser when PyYAML was built with it (the wheels are): ten times faster on a rule file
# of a thousand rules, with the same events and marks. A file it rejects is parsed again by the
# pure-Python parser, whose syntax errors say more ("expected X, but found Y").
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Parsed:
    """A document's root (None when it could not be composed), its problems, and every string
    a `${VAR}` reference was expanded in (values to keep out of output)."""

    root: Node | None
    problems: list[Problem]
    expanded: frozenset[str] = frozenset()
    file_secrets: frozenset[str] = frozenset()


def parse_document(text: str, path: str, env: Mapping[str, str]) -> Parsed:
    """The document's root node (a null one for an empty file) and the problems met on the way
    (syntax, limits, duplicate keys, variables); no node when the YAML cannot be taken."""
    composer = _Composer(path, env)
    try:
        try:
            root = composer.run(FAST_LOADER(text))
        except yaml.MarkedYAMLError as exc:
            if "maximum nesting depth" in str(exc.problem):  # libyaml's own bound (1000 levels)
                raise _Refused(_loc(path, exc.problem_mark), _TOO_DEEP) from None
            composer = _Composer(path, env)
            root = composer.run(yaml.SafeLoader(text))
    except _Refused as exc:
        return Parsed(None, [*composer.problems, exc.problem])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _loc(path, mark) if mark else Location(path, 1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        return Parsed(None, [Problem(where, f"YAML syntax error: {reason}")])
    except yaml.reader.ReaderError as exc:
        before = text[:exc.position]
        where = Location(path, before.count("\n") + 1, len(before) - before.rfind("\n"))
        return Parsed(None, [Problem(where, f"YAML error: {exc.reason} (#x{exc.character:04x})")])
    except yaml.YAMLError as exc:
        return Parsed(None, [Problem(Location(path, 1, 1), f"YAML error: {str(exc).splitlines()[0]}")])
    if root is None:
        return Parsed(Node(None, Location(path, 1, 1)), composer.problems, frozenset(composer.expanded),
                      frozenset(composer.from_files))
    return Parsed(root, composer.problems, frozenset(composer.expanded), frozenset(composer.from_files))


def parse(text: str, path: str, env: Mapping[str, str]) -> tuple[Node | None, list[Problem]]:
    """parse_document's root and problems."""
    parsed = parse_document(text, path, env)
    return parsed.root, parsed.problems

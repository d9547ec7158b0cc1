"""The one place that lists kinds: every `NAME.yaml` + `NAME.sql` pair in the catalogue folders."""
from __future__ import annotations

import importlib.resources
from collections.abc import Iterable
from pathlib import Path

from watchdog.catalogue.kind import CheckKind, load_kind
from watchdog.errors import Location, Problem


def builtin_dir() -> Path:
    """The catalogue shipped with the package (the repository's top-level `checks/`)."""
    return Path(str(importlib.resources.files("watchdog.checks")))


class Registry:
    """Kinds by name; a user folder may add kinds but not silently replace a built-in one."""

    def __init__(self, kinds: dict[str, CheckKind]) -> None:
        self.kinds = kinds

    def get(self, name: str) -> CheckKind | None:
        return self.kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self.kinds)


def load_registry(extra_dirs: Iterable[Path] = (), origin: Location | None = None) -> tuple[Registry, list[Problem]]:
    kinds: dict[str, CheckKind] = {}
    problems: list[Problem] = []
    for index, folder in enumerate([builtin_dir(), *extra_dirs]):
        if not folder.is_dir():
            problems.append(Problem(origin, f"check_paths: '{folder}' is not a folder"))
            continue
        for spec_path in sorted(folder.glob("*.yaml")):
            kind, found = load_kind(spec_path, builtin=index == 0)
            problems.extend(found)
            if kind is None:
                continue
            if kind.name in kinds and index > 0:
                problems.append(Problem(Location(str(spec_path), 1, 1), f"check '{kind.name}' is already defined by {kinds[kind.name].template_path}"))
                continue
            kinds[kind.name] = kind
    return Registry(kinds), problems

"""`${VAR}` and `${VAR:-default}` in rule-file strings; `$${` writes a literal `${`."""
from __future__ import annotations

import re
from collections.abc import Mapping

_REF = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


class MissingVariable(ValueError):
    """A referenced variable is unset and has no default."""

    def __init__(self, name: str) -> None:
        super().__init__(f"environment variable '{name}' is not set (give a default with ${{{name}:-value}})")
        self.name = name


def expand(text: str, env: Mapping[str, str]) -> str:
    """`text` with every reference replaced; raises MissingVariable for the first unset one."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, has_default, default = match.group(1), match.group(2), match.group(3)
        if name in env:
            return env[name]
        if has_default is not None:
            return default
        raise MissingVariable(name)

    return _REF.sub(repl, text)


def references(text: str) -> set[str]:
    """Names of the variables `text` refers to (used to keep their values out of output)."""
    return {m.group(1) for m in _REF.finditer(text) if m.group(1)}

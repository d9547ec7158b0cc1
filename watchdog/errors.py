"""Exit codes and located configuration problems: the parts of the contract every command shares."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class ExitCode(IntEnum):
    """The verdict a command returns; CI pipelines branch on these numbers."""

    OK = 0
    VIOLATED = 1
    USAGE = 2
    PROBE_ERROR = 3
    INTERNAL = 4  # a bug of watchdog's own: never mistaken for a database problem (3)


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based place in a file, so an editor can jump to it."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


# Control characters (and the others str.splitlines breaks at) shown as escapes: a problem is one line,
# whatever a hostile file put in a key or a value it quotes.
_VISIBLE = {c: f"\\x{c:02x}" for c in [*range(32), 0x7F, 0x85]} | {c: f"\\u{c:04x}" for c in (0x2028, 0x2029)}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the rule file, reported as FILE:LINE:COL: rule 'NAME': message."""

    location: Location | None
    message: str
    rule: str | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        who = f"rule '{self.rule}': " if self.rule else ""
        return f"{where}{who}{self.message}".translate(_VISIBLE)


@dataclass(frozen=True, order=True)
class Notice:
    """A valid rule file that is probably not what was meant: printed by `validate`, never fatal.
    Shown as FILE:LINE:COL: SUBJECT: warning: message."""

    location: Location | None
    subject: str
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.subject}: warning: {self.message}".translate(_VISIBLE)


@dataclass
class ConfigError(Exception):
    """Every problem found in one pass over the input; nothing runs when this is raised."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class UsageError(Exception):
    """A command-line mistake that is not about the rule file (exit 2)."""

"""`${VAR}`, `${VAR:-default}` and `${file:PATH}` in rule-file strings; `$${` writes a literal `${`.

`${file:PATH}` reads a secret from a file, as Kubernetes mounts Secrets and systemd passes
credentials (`LoadCredential=`, read from `$CREDENTIALS_DIRECTORY`): the file's text without its
trailing newline. A relative PATH is read from the rule file's folder. Its value is a secret like a
variable's: never shown in output.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping

_REF = re.compile(r"\$\$\{|\$\{file:(?P<file>[^}]+)\}|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<fallback>:-(?P<default>[^}]*))?\}")
MAX_SECRET_FILE = 64 * 1024


class UnresolvedReference(ValueError):
    """A reference that cannot be expanded; the message says which and how to fix it."""


class MissingVariable(UnresolvedReference):
    """A referenced variable is unset and has no default."""

    def __init__(self, name: str) -> None:
        super().__init__(f"environment variable '{name}' is not set (give a default with ${{{name}:-value}})")
        self.name = name


class UnreadableFile(UnresolvedReference):
    """A `${file:PATH}` whose file cannot be read (or is too large to be a secret)."""


def expand(text: str, env: Mapping[str, str], base: str | None = None, read: list[str] | None = None) -> str:
    """`text` with every reference replaced; raises UnresolvedReference for the first that cannot be.
    `read` collects the values taken from files (secrets the caller keeps out of output)."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        if match.group("file") is not None:
            value = read_secret(match.group("file"), base)
            if read is not None:
                read.append(value)
            return value
        name = match.group("name")
        if name in env:
            return env[name]
        if match.group("fallback") is not None:
            return match.group("default")
        raise MissingVariable(name)

    return _REF.sub(repl, text)


def read_secret(path: str, base: str | None) -> str:
    """The text of a secret file, less one trailing newline (as `echo secret > file` leaves it)."""
    full = os.path.join(base, path) if base and not os.path.isabs(path) else path
    try:
        if os.path.getsize(full) > MAX_SECRET_FILE:
            raise UnreadableFile(f"secret file '{path}' is larger than {MAX_SECRET_FILE // 1024} KiB")
        with open(full, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise UnreadableFile(f"cannot read secret file '{path}': {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UnreadableFile(f"secret file '{path}' is not UTF-8 text") from None
    return text[:-1] if text.endswith("\n") else text


def references(text: str) -> set[str]:
    """Names of the variables `text` refers to (used to keep their values out of output)."""
    return {m.group("name") for m in _REF.finditer(text) if m.group("name")}

"""DSNs: which driver they need, and how to show them without their secrets."""
from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from watchdog.compiler.dialect import DIALECTS, Dialect

_SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}


class DsnError(ValueError):
    """The DSN names no driver we have."""


def dialect_of(dsn: str) -> Dialect:
    scheme = dsn.split(":", 1)[0].lower() if ":" in dsn else ""
    if scheme not in _SCHEMES:
        raise DsnError(f"unsupported DSN '{redact(dsn)}': use postgresql://... or sqlite:///path")
    return DIALECTS[_SCHEMES[scheme]]


def sqlite_path(dsn: str) -> str:
    """sqlite:///relative.db -> relative.db, sqlite:////abs/file.db -> /abs/file.db."""
    rest = dsn.split(":", 1)[1]
    if not rest.startswith("///"):
        raise DsnError("an SQLite DSN looks like sqlite:///relative/path.db or sqlite:////absolute/path.db")
    path = rest[3:].split("?", 1)[0]
    if not path:
        raise DsnError("the SQLite DSN names no file")
    return path


def redact(dsn: str) -> str:
    """The DSN with any password replaced by ***, in the URL or as a password= keyword."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        if parts.password:
            host = parts.hostname or ""
            netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
            dsn = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return re.sub(r"(password=)[^&\s]+", r"\1***", dsn, flags=re.IGNORECASE)


def secrets_of(dsn: str) -> set[str]:
    found = set()
    if "://" in dsn:
        password = urlsplit(dsn).password
        if password:
            found.add(password)
    found.update(m.group(1) for m in re.finditer(r"password=([^&\s]+)", dsn, flags=re.IGNORECASE))
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by ***: error messages may echo a DSN or a URL."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text

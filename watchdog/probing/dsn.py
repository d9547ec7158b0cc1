"""DSNs: which driver they need, and how to show them without their secrets."""
from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

from watchdog.dialects import DIALECTS, Dialect

_SCHEMES = {
    "postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite",
    "mysql": "mysql", "mariadb": "mysql", "duckdb": "duckdb",
}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,30}):(//)?")
# The password of a URL as urllib splits one (user up to the first ':', host after the last '@'),
# matched rather than parsed so that a malformed URL ("[bad") cannot make hiding it fail.
_URL_PASSWORD = re.compile(r"://[^/?#:]*:([^/?#]*)@[^/?#@]*")
# What a mistyped URL may hold as a password: everything between the user's ':' and the last '@'
# ('/', '?' and '#' included, which a URL would have to escape).
_LOOSE_PASSWORD = re.compile(r"^[^:]*:/*[^/?#:@]*:(.*)@[^@]*$", re.DOTALL)
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s]+)", re.IGNORECASE)
_EXPECTED = "use postgresql://..., mysql://..., mariadb://..., sqlite:///path or duckdb://"


class DsnError(ValueError):
    """The DSN names no driver we have, or not in a form it takes. The message never holds the
    DSN itself: a mistyped one is exactly the one whose password we cannot find to hide."""


def dialect_of(dsn: str) -> Dialect:
    match = _SCHEME.match(dsn)
    if match is None:
        raise DsnError(f"not a DSN URL: {_EXPECTED}")
    scheme = match.group(1).lower()
    if scheme not in _SCHEMES:
        raise DsnError(f"unsupported DSN scheme '{match.group(1)}': {_EXPECTED}")
    if scheme == "sqlite":
        sqlite_path(dsn)
    elif scheme == "duckdb":
        check_duckdb(dsn)
    elif _SCHEMES[scheme] == "mysql":
        mysql_params(dsn)
    elif not match.group(2):
        raise DsnError(f"a PostgreSQL DSN starts with {scheme}:// ({_EXPECTED})")
    return DIALECTS[_SCHEMES[scheme]]


def mysql_params(dsn: str) -> dict[str, Any]:
    """mysql://user:password@host:port/database (or mariadb://) as PyMySQL's connect() arguments."""
    try:
        url = urllib.parse.urlsplit(dsn)
        port = url.port
    except ValueError:  # urllib's message quotes the part it took for a port: maybe the password
        raise DsnError("bad MySQL DSN: it looks like mysql://user:password@host:3306/database") from None
    if not url.hostname:
        raise DsnError("a MySQL DSN looks like mysql://user:password@host:3306/database")
    params: dict[str, Any] = {"host": url.hostname, "port": port or 3306}
    if url.username:
        params["user"] = urllib.parse.unquote(url.username)
    if url.password:
        params["password"] = urllib.parse.unquote(url.password)
    database = url.path.lstrip("/")
    if database:
        params["database"] = urllib.parse.unquote(database)
    return params


def check_duckdb(dsn: str) -> None:
    """The DuckDB target is an in-memory database over the files its `tables:` name: no path."""
    if dsn.split(":", 1)[1] not in ("//", "//:memory:"):
        raise DsnError("a DuckDB target is written dsn: duckdb:// (in memory; its files go under 'tables:')")


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
    match = _URL_PASSWORD.search(dsn)
    if match and match.group(1):
        dsn = dsn[:match.start(1)] + "***" + dsn[match.end(1):]
    return _KEYWORD_PASSWORD.sub(r"\1***", dsn)


def secrets_of(dsn: str) -> set[str]:
    """Every string of `dsn` that may be its password, to scrub from messages that echo it."""
    found = {m.group(2) for m in _KEYWORD_PASSWORD.finditer(dsn)}
    found |= {value.strip("'") for value in found}
    for pattern in (_URL_PASSWORD, _LOOSE_PASSWORD):
        match = pattern.search(dsn)
        if match and match.group(1):
            found.add(match.group(1))
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by ***: error messages may echo a DSN or a URL."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text

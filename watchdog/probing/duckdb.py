"""Run-history files as tables: an in-memory DuckDB whose tables are views over globs of files.

Read-only by three locks: no database file (`:memory:`, no spilling to a temporary directory),
file access limited to the directories the globs name and then locked (`allowed_directories`,
`enable_external_access=false`, `lock_configuration=true`), and every statement checked by DuckDB's
own parser to be a SELECT (a COPY ... TO would otherwise write into those directories). DuckDB has
no statement_timeout: a timer interrupts the connection when the probe's time is up.
"""
from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from watchdog.model.values import TableSource
from watchdog.dialects.duckdb import DUCKDB
from watchdog.probing.connection import ProbeFailure, _one_line

_READERS = {
    "jsonl": "read_json_auto({glob}, format = 'newline_delimited', filename = true)",
    "csv": "read_csv_auto({glob}, filename = true, union_by_name = true)",
    "parquet": "read_parquet({glob}, filename = true, union_by_name = true)",
}
_PLAN = DUCKDB.plan_request("")
_WILDCARDS = re.compile(r"[*?\[{]")
# DuckDB's own error texts (not SQL): which file it could not open or parse.
_CANNOT_OPEN = re.compile(r'Cannot open file "([^"]+)": No such file or directory')
_MALFORMED = re.compile(r'Malformed JSON in file "([^"]+)", at byte \d+ in line (\d+): ([^.]*)')
_NO_FILES = re.compile(r'No files found that match the pattern "([^"]+)"')
_NO_TABLE = re.compile(r"Table with name (\S+) does not exist")


def directory_of(glob: str) -> str:
    """The directory a glob reads below: its path up to the first part with a wildcard."""
    head = _WILDCARDS.split(glob, 1)[0]
    return head if head.endswith("/") and head != glob else os.path.dirname(head) + "/"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBConnection:
    """One in-memory DuckDB; a view per table, (re)created on demand while its glob matches nothing."""

    broken = False
    skew = 0.0  # files on this host: their times are written by its clock

    def __init__(self, tables: Mapping[str, TableSource], statement_timeout: float = 5.0) -> None:
        try:
            import duckdb
        except ImportError:
            raise ProbeFailure("duckdb:// targets need DuckDB: pip install 'scheduler-watchdog[files]'") from None
        if not tables:
            raise ProbeFailure("a duckdb:// target needs 'tables:' naming its files")
        self._duckdb = duckdb
        self._globs = {name: os.path.abspath(source.path) for name, source in tables.items()}
        self._views = {name: f"CREATE OR REPLACE VIEW {DUCKDB.quote_part(name)} AS SELECT * FROM "
                             + _READERS[source.format].format(glob=_literal(self._globs[name]))
                       for name, source in tables.items()}
        self._missing: dict[str, str] = dict.fromkeys(tables, "")
        self._timeout = statement_timeout
        directories = sorted({directory_of(glob) for glob in self._globs.values()})
        self._conn = duckdb.connect(":memory:", config={
            "autoinstall_known_extensions": False, "autoload_known_extensions": False,
        })
        try:
            for statement in (
                "SET TimeZone = 'UTC'",
                "SET temp_directory = ''",
                f"SET allowed_directories = [{', '.join(map(_literal, directories))}]",
                "SET enable_external_access = false",
                "SET lock_configuration = true",
            ):
                self._conn.execute(statement)
        except duckdb.Error as exc:
            self._conn.close()
            raise ProbeFailure(f"cannot lock DuckDB down: {_one_line(exc)}") from None

    def query(self, sql: str, params: dict[str, Any], timeout: float, guarded: bool = True) -> list[dict[str, Any]]:
        duckdb = self._duckdb
        try:
            named = self._read_only(sql)
            timer = threading.Timer(timeout, self._conn.interrupt)
            timer.start()
            try:
                self._create_views()
                cursor = self._conn.execute(sql, {k: v for k, v in params.items() if k in named})
                columns = [d[0] for d in cursor.description or ()]
                return [dict(zip(columns, row)) for row in cursor.fetchall()]
            finally:
                timer.cancel()
        except duckdb.InterruptException:
            raise ProbeFailure(f"timeout: the probe ran longer than its statement_timeout ({timeout:g}s)", "timeout") from None
        except duckdb.Error as exc:
            raise ProbeFailure(self._explained(exc)) from None

    def _read_only(self, sql: str) -> set[str]:
        """The parameters `sql` names, once DuckDB's parser has shown it is one SELECT (or our plan request)."""
        statements = self._conn.extract_statements(sql)
        kinds = self._duckdb.StatementType
        if len(statements) == 1 and statements[0].type == kinds.EXPLAIN and sql.startswith(_PLAN):
            inner = self._conn.extract_statements(sql[len(_PLAN):])
            if len(inner) == 1 and inner[0].type == kinds.SELECT:
                return set(statements[0].named_parameters)
        if len(statements) != 1 or statements[0].type != kinds.SELECT:
            found = ", ".join(s.type.name for s in statements) or "nothing"
            raise ProbeFailure(f"read-only target: only a single SELECT may run on DuckDB (got {found})")
        return set(statements[0].named_parameters)

    def _create_views(self) -> None:
        """Views whose glob matched nothing so far are tried again: the files may have appeared."""
        for name in list(self._missing):
            try:
                self._conn.execute(self._views[name])
                del self._missing[name]
            except self._duckdb.Error as exc:
                self._missing[name] = self._explained(exc)

    def _explained(self, exc: BaseException) -> str:
        """DuckDB's message made one line that names the file, the line or the glob at fault."""
        text = str(exc)
        if match := _NO_FILES.search(text):
            tables = [name for name, glob in self._globs.items() if glob == match.group(1)]
            return f"no file matches {match.group(1)} (table {', '.join(tables) or '?'})"
        if match := _CANNOT_OPEN.search(text):
            return (f"file {match.group(1)} disappeared while it was read (rotated or deleted?); "
                    "the next evaluation reads the files present then")
        if match := _MALFORMED.search(text):
            path = match.group(1)
            line = bad_json_line(path, int(match.group(2)))
            where = f"line {line}" if line else "a line DuckDB could not parse"
            return f"malformed JSON in {path} {where}: {match.group(3).strip()}"
        if (match := _NO_TABLE.search(text)) and self._missing.get(match.group(1)):
            return self._missing[match.group(1)]
        kind = "SQL error" if isinstance(exc, (self._duckdb.ParserException, self._duckdb.BinderException,
                                               self._duckdb.CatalogException)) else "DuckDB error"
        return f"{kind}: {_one_line(exc)}"

    def cancel(self) -> None:
        self._conn.interrupt()

    def abort(self) -> None:
        self._conn.interrupt()

    def close(self) -> None:
        self._conn.close()


def bad_json_line(path: str, reported: int) -> int | None:
    """The 1-based number of the first line of `path` that is not JSON. DuckDB's own number is one
    past it in the versions we know, so the lines it points at are tried first, then every line."""
    for number, text in _lines(path):
        if number >= reported - 1 and not _is_json(text):
            return number
        if number >= reported:
            break
    return next((number for number, text in _lines(path) if not _is_json(text)), None)


def _lines(path: str) -> Iterator[tuple[int, bytes]]:
    """The file's non-blank lines with their numbers; none if it cannot be read (any more)."""
    try:
        with open(path, "rb") as handle:
            for number, text in enumerate(handle, start=1):
                if text.strip():
                    yield number, text
    except OSError:
        return


def _is_json(text: bytes) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True

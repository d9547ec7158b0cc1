"""Whether a target's role could write despite the read-only transaction every probe runs in.

Read-only transactions stop INSERT, UPDATE, DELETE and DDL, not a superuser's dblink_exec,
lo_export or COPY ... TO PROGRAM, nor a role that may write server files. Watchdog needs SELECT
only: these checks turn a role with more into a warning on stderr, once per target.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager

from watchdog.compiler.probe import Probe
from watchdog.config.model import Rule
from watchdog.probing.connection import Connection, ProbeFailure

ROLE_SQL = """
SELECT current_user AS role, r.rolsuper AS superuser,
       pg_has_role(current_user, 'pg_write_server_files', 'MEMBER')
       OR pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER') AS server_files,
       ARRAY(SELECT t FROM unnest(CAST(%(tables)s AS text[])) AS t
             WHERE has_table_privilege(to_regclass(t), 'INSERT, UPDATE, DELETE, TRUNCATE')) AS writable
FROM pg_roles r WHERE r.rolname = current_user
"""


def watched_tables(rule: Rule) -> set[str]:
    """The tables a rule reads: its own, and a nested one (orphan's child)."""
    nested = {v["table"] for v in rule.params.values() if isinstance(v, Mapping) and isinstance(v.get("table"), str)}
    return ({rule.table} if rule.table else set()) | nested


def write_risks(conn: Connection, tables: Iterable[str]) -> list[str]:
    """What the connection's role could write with, in words; empty for a read-only role."""
    # Quoted as the compiler quotes them, so to_regclass finds the same (case-sensitive) table.
    quoted = {".".join(f'"{part}"' for part in table.split(".")): table for table in tables}
    row = conn.query(ROLE_SQL, {"tables": sorted(quoted)}, 5.0, guarded=False)[0]
    role = row["role"]
    if row["superuser"]:
        return [f"role '{role}' is a superuser: dblink_exec, lo_export or COPY ... TO PROGRAM can write "
                "despite the read-only transaction"]
    risks = []
    if row["server_files"]:
        risks.append(f"role '{role}' may write server files or run programs (pg_write_server_files, pg_execute_server_program)")
    if row["writable"]:
        risks.append(f"role '{role}' may write to {', '.join(quoted[t] for t in row['writable'])}")
    return risks


def role_warnings(probes: Iterable[Probe], session: Callable[[str], AbstractContextManager[Connection]]) -> Iterator[str]:
    """One warning per PostgreSQL target whose role could write; `session(target)` lends one of
    the target's connections (Evaluator.session: the one the probes then reuse). A target that
    cannot be reached is left to its probes, which report it as an error."""
    tables: dict[str, set[str]] = {}
    for probe in probes:
        if probe.dialect.name == "postgresql":
            tables.setdefault(probe.rule.target, set()).update(watched_tables(probe.rule))
    for name, watched in tables.items():
        try:
            with session(name) as conn:
                risks = write_risks(conn, watched)
        except ProbeFailure:
            continue
        for risk in risks:
            yield f"watchdog: warning: target '{name}': {risk}; use a role that can only SELECT (README, Safety)"

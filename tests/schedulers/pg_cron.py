"""pg_cron driven through its own functions (cron.schedule, cron.alter_job), and its tables read
back with plain SQL, the way a watchdog probe would read them."""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from schedulers.polling import wait_until

# The database the launcher runs in: cron.database_name, where CREATE EXTENSION pg_cron must run.
CRON_DATABASE = "postgres"
SERVER_SETTINGS = {"shared_preload_libraries": "pg_cron", "cron.database_name": CRON_DATABASE}
# pg_cron fires `* * * * *` jobs at the start of each minute (1.4 has no 'N seconds' schedules):
# a wait for the next run may take a whole minute, plus slack for a loaded machine.
NEXT_MINUTE = 75.0
# What pg_stat_activity shows for the launcher: backend_type (visible to superusers and members of
# pg_read_all_stats only) and application_name (visible to every role).
LAUNCHER_BACKEND_TYPE = "pg_cron launcher"
LAUNCHER_APPLICATION_NAME = "pg_cron scheduler"

EVERY_MINUTE = "* * * * *"
# The scheduler tests' jobs (name, schedule, command), one per fault; `never_active` is deactivated
# in the transaction that schedules them all.
JOBS = [
    ("healthy", EVERY_MINUTE, "SELECT 1"),
    ("failing", EVERY_MINUTE, "SELECT 1/0"),
    ("long", EVERY_MINUTE, "SELECT pg_sleep(600)"),
    # One command scheduled twice, spelt two ways: the duplicate entries of seed 003.
    ("twice_star", EVERY_MINUTE, "SELECT 2"),
    ("twice_step", "*/1 * * * *", "SELECT 2"),
    ("never_active", EVERY_MINUTE, "SELECT 3"),
    ("stopped", EVERY_MINUTE, "SELECT 4"),
]
INACTIVE = ["never_active"]

Row = dict[str, Any]


def installed_library() -> Path | None:
    """pg_cron's shared library for the server whose initdb the throwaway clusters use, or None:
    a server started with it in shared_preload_libraries but without the file refuses to start."""
    initdb = shutil.which("initdb")
    if not initdb:
        return None
    pg_config = Path(initdb).resolve().parent / "pg_config"
    if not pg_config.exists():
        return None
    libdir = subprocess.run([str(pg_config), "--pkglibdir"], check=True, capture_output=True, text=True).stdout.strip()
    library = Path(libdir) / "pg_cron.so"
    return library if library.exists() else None


@dataclass(frozen=True)
class PgCron:
    """A server running pg_cron's launcher, reached as the superuser `postgres` through `dsn`."""

    dsn: str

    def connect(self, **conninfo: str) -> psycopg.Connection[Row]:
        """An autocommit connection to the cron database; `conninfo` overrides parts of the DSN
        (user="reader", options="-crow_security=off")."""
        return psycopg.connect(make_conninfo(self.dsn, **conninfo), autocommit=True, row_factory=dict_row)

    def query(self, sql: str, params: Sequence[Any] = (), **conninfo: str) -> list[Row]:
        with self.connect(**conninfo) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, statement: str) -> None:
        """A statement that returns no rows (CREATE ROLE, ALTER ROLE), as the superuser."""
        with self.connect() as conn:
            conn.execute(statement)

    def schedule(self, jobs: Sequence[tuple[str, str, str]], inactive: Sequence[str] = ()) -> dict[str, int]:
        """Schedule (name, schedule, command) jobs in one transaction and deactivate those named in
        `inactive` in the same one, so the launcher never sees them active; their job ids by name.
        A name already scheduled by the same user is updated in place (pg_cron's upsert), so two
        entries of one command need two names."""
        with self.connect() as conn, conn.transaction():
            ids = {name: conn.execute("SELECT cron.schedule(%s, %s, %s) AS jobid", (name, schedule, command)).fetchone()["jobid"]
                   for name, schedule, command in jobs}
            for name in inactive:
                self.deactivate(ids[name], conn)
        return ids

    def deactivate(self, jobid: int, conn: psycopg.Connection[Row] | None = None) -> None:
        """Stop a job the way operators do: cron.alter_job(active := false) keeps its row."""
        if conn is None:
            with self.connect() as own:
                self.deactivate(jobid, own)
            return
        conn.execute("SELECT cron.alter_job(%s, active := false)", (jobid,))

    def runs(self, jobid: int) -> list[Row]:
        """The job's rows in cron.job_run_details, oldest first."""
        return self.query("SELECT * FROM cron.job_run_details WHERE jobid = %s ORDER BY runid", (jobid,))

    def wait_for_runs(self, jobid: int, count: int, statuses: Sequence[str], timeout: float = NEXT_MINUTE) -> list[Row]:
        """Wait until the job has `count` runs in one of `statuses`; those runs."""
        def settled() -> list[Row]:
            matching = [run for run in self.runs(jobid) if run["status"] in statuses]
            return matching if len(matching) >= count else []
        return wait_until(settled, timeout, f"{count} run(s) of job {jobid} in {list(statuses)}", interval=0.25)

    def launcher(self, **conninfo: str) -> list[Row]:
        """pg_stat_activity's rows for the launcher, found by application_name (which every role
        can read), with what the connecting role sees of backend_type and datname."""
        return self.query("SELECT pid, backend_type, application_name, datname FROM pg_stat_activity"
                          " WHERE application_name = %s", (LAUNCHER_APPLICATION_NAME,), **conninfo)

    def create_reader(self, role: str) -> None:
        """A login role with the grants a read-only monitor is usually given on pg_cron: USAGE on
        the schema and SELECT on its tables, nothing else (no BYPASSRLS)."""
        name = sql.Identifier(role)
        with self.connect() as conn:
            for statement in ("CREATE ROLE {} LOGIN", "GRANT USAGE ON SCHEMA cron TO {}", "GRANT SELECT ON ALL TABLES IN SCHEMA cron TO {}"):
                conn.execute(sql.SQL(statement).format(name))


def start(start_cluster: Callable[[dict[str, str]], tuple[str, Callable[[], None]] | None]) -> tuple[PgCron, Callable[[], None]] | None:
    """A throwaway cluster with pg_cron preloaded and the extension created; None if none starts."""
    started = start_cluster(SERVER_SETTINGS)
    if started is None:
        return None
    dsn, stop = started
    cron = PgCron(make_conninfo(dsn, dbname=CRON_DATABASE))
    try:
        with cron.connect() as conn:
            conn.execute("CREATE EXTENSION pg_cron")
    except BaseException:
        stop()
        raise
    return cron, stop

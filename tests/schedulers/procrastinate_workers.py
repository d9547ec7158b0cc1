"""Real `procrastinate worker` processes, and the procrastinate tables read back with plain SQL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import procrastinate
import psycopg
from psycopg.rows import dict_row

from schedulers import procrastinate_app
from schedulers.polling import wait_until

TESTS_DIR = Path(__file__).resolve().parents[1]
# A worker process imports procrastinate and the app, connects and registers: a second or two,
# more on a loaded machine.
STARTUP = 30.0

Row = dict[str, Any]


@dataclass
class Procrastinate:
    """A schema holding procrastinate's tables (applied by procrastinate itself) and the worker
    processes started on it, all killed by `close`."""

    dsn: str
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @contextmanager
    def app(self) -> Iterator[procrastinate.App]:
        """The tests' app, opened on a synchronous connection to this schema (its own connector
        reads $WATCHDOG_PROCRASTINATE_DSN, which only the workers have)."""
        connector = procrastinate.SyncPsycopgConnector(conninfo=self.dsn)
        with procrastinate_app.app.replace_connector(connector) as app, app.open():
            yield app

    def apply_schema(self) -> None:
        with self.app() as app:
            app.schema_manager.apply_schema()

    def defer(self, task: str, queue: str | None = None, **args: Any) -> int:
        """Defer `task` with `args` (on `queue` instead of the task's own); the job id."""
        with self.app() as app:
            deferrer = app.configure_task(task, queue=queue) if queue else app.configure_task(task)
            return deferrer.defer(**args)

    def start_worker(self, name: str, queues: Sequence[str] = (), app: str = "app") -> subprocess.Popen[bytes]:
        """A `procrastinate worker` process on `queues` (all if empty), its output in logs/NAME.log;
        returns once it has registered (a new row in procrastinate_workers)."""
        known = {row["id"] for row in self.workers()}
        env = {**os.environ, "WATCHDOG_PROCRASTINATE_DSN": self.dsn,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")]))}
        argv = [sys.executable, "-m", "procrastinate", f"--app=schedulers.procrastinate_app.{app}", "--log-level=info",
                "worker", f"--name={name}", f"--queues={','.join(queues)}"]
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)

        def registered() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"worker {name} exited {process.returncode}: {(self.logs / f'{name}.log').read_text()}")
            return bool({row["id"] for row in self.workers()} - known)
        wait_until(registered, STARTUP, f"worker {name} to register")
        return process

    def stop_worker(self, process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        """Send `sig` (SIGKILL: a crash; SIGTERM: a graceful stop) and wait for the process to end."""
        process.send_signal(sig)
        process.wait(timeout=STARTUP)

    def close(self) -> None:
        """Kill every worker still running."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=STARTUP)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row) as conn:
            return conn.execute(sql, params).fetchall()

    def workers(self) -> list[Row]:
        """procrastinate_workers, with each heartbeat's age by the database's clock."""
        return self.query("SELECT id, last_heartbeat, EXTRACT(EPOCH FROM now() - last_heartbeat) AS age"
                          " FROM procrastinate_workers ORDER BY id")

    def job(self, job_id: int) -> Row:
        return self.query("SELECT * FROM procrastinate_jobs WHERE id = %s", (job_id,))[0]

    def events(self, job_id: int) -> list[str]:
        """The job's event types, in order."""
        return [row["type"] for row in self.query("SELECT type::text FROM procrastinate_events WHERE job_id = %s ORDER BY id", (job_id,))]

    def wait_for_status(self, job_id: int, status: str, timeout: float = STARTUP) -> Row:
        """The job's row once it has `status`; a timeout names the status it had instead."""
        try:
            return wait_until(lambda: (job := self.job(job_id))["status"] == status and job, timeout,
                              f"job {job_id} to be {status}")
        except AssertionError as timed_out:
            raise AssertionError(f"{timed_out}: it is {self.job(job_id)['status']}") from None

"""The procrastinate apps the real `procrastinate worker` processes of the tests import
(`--app=schedulers.procrastinate_app.app`, or `.clock_app` for the periodic task).

Workers read their database from $WATCHDOG_PROCRASTINATE_DSN; the test process defers through
`App.with_connector`. Heartbeats every half second and a 3 s stall timeout (defaults: 10 s and
30 s) let a test see a dead worker's row go stale, and be pruned, within seconds.
"""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import procrastinate

WORKER_DEFAULTS = {"update_heartbeat_interval": 0.5, "stalled_worker_timeout": 3.0, "fetch_job_polling_interval": 0.5}


def _app() -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(conninfo=os.environ.get("WATCHDOG_PROCRASTINATE_DSN", ""))
    return procrastinate.App(connector=connector, worker_defaults=WORKER_DEFAULTS)


app = _app()
# A separate app for the periodic task: every worker of an app runs its periodic deferrer,
# whatever queues it listens on, so this keeps ticks out of the other tests' tables.
clock_app = _app()


@app.task(name="block", queue="work")
async def block(gate: str) -> None:
    """Runs until the file `gate` exists: a job a test holds in `doing` as long as it needs."""
    while not Path(gate).exists():
        await asyncio.sleep(0.05)


@app.task(name="explode", queue="work")
def explode(item: int) -> None:
    """Always fails, so its jobs end `failed`."""
    raise RuntimeError(f"item {item} exploded")


@app.task(name="noop", queue="work")
def noop(item: int) -> None:
    """Succeeds at once."""


@clock_app.periodic(cron="* * * * * *")  # a sixth field, seconds: deferred every second
@clock_app.task(name="tick", queue="clock")
def tick(timestamp: int) -> None:
    """The periodic task: procrastinate passes the tick's epoch second as `timestamp`."""

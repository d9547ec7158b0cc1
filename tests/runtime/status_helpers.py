"""A running Watchdog with a firing alert, for the status page's HTTP and browser tests: a real
SQLite scheduler database with one job stuck, a real HTTP listener on a free port, a webhook receiver."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from runtime_helpers import sql

from artifacts.servers import Receiver, eventually
from jobs_rule import JOBS_STUCK
from watchdog import Watchdog

TOKEN = "status-page-token-1234"
STATUS_RULES = """
version: 1
targets:
  main: {{dsn: "sqlite:///{db}"}}
  gone: {{dsn: "sqlite:///{db}.missing"}}
defaults: {{interval: 1s}}
{api}
notify:
  webhook: {{url: "{hook}"}}
rules:
""" + JOBS_STUCK + """    severity: critical
    runbook_url: https://example.org/runbooks/jobs-stuck
  - name: jobs_counted
    check: count
    table: jobs
  - name: never_runs
    check: count
    target: gone
    table: jobs
"""
STUCK = "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))"


def status_rules(db: Path, hook: str, token: str | None = TOKEN, extra: str = "") -> str:
    """The rule file; `extra`: more top-level keys (silences), as written."""
    return STATUS_RULES.format(db=db, hook=hook, api=f'api: {{token: "{token}"}}' if token else "") + extra


def firing(make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver, token: str | None = TOKEN,
           extra: str = "", **options: Any) -> tuple[Watchdog, str]:
    """A started Watchdog whose jobs_stuck fires; returns it and its base URL."""
    sql(jobs_db, STUCK)
    watchdog = make_watchdog(status_rules(jobs_db, f"{receiver.url}/hook", token, extra), listen="127.0.0.1:0", **options)
    watchdog.start()
    base = f"http://{watchdog.address}"

    def fired() -> bool:
        document = requests.get(f"{base}/api/v1/status", timeout=5).json()
        return any(a["rule"] == "jobs_stuck" and a["state"] == "firing" for a in document["alerts"]) and \
            all(r["state"] != "unknown" for r in document["rules"])

    eventually(fired, "jobs_stuck to fire and every rule to be evaluated", timeout=20, every=0.1)
    return watchdog, base

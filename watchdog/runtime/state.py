"""Alert state in the `--state` SQLite file, so a restart neither pages again nor forgets an alert.

One table, `alert_state`, beside the outbox's `notify_outbox` in the same file (each keeps to its
own table). Every change is written through at once: the state file is the truth after a crash.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from watchdog.results.model import Result
from watchdog.runtime.alerts import Alert

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_state (
    fingerprint TEXT PRIMARY KEY,
    alertname TEXT NOT NULL,
    rule TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'firing')),
    since TEXT NOT NULL,
    evidence TEXT,
    error TEXT,
    sent TEXT NOT NULL
);
"""


class StateError(Exception):
    """The state file cannot be opened or read; the message names the file."""


def result_to_json(result: Result) -> str:
    return json.dumps(result.to_dict(), sort_keys=True)


def result_from_json(text: str) -> Result:
    data: dict[str, Any] = json.loads(text)
    return Result(
        rule=data["rule"], target=data["target"], check=data["check"], status=data["status"],
        severity=data["severity"], evaluated_at=datetime.fromisoformat(data["evaluated_at"]),
        violations=data["violations"], value=data["value"], samples=tuple(data["samples"]),
        duration_seconds=data["duration_seconds"], error=data["error"],
    )


class StateStore:
    """Active alerts by fingerprint; safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StateError(f"cannot use state file {self.path}: {exc}") from None

    def load(self) -> list[Alert]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT alertname, rule, target, state, since, evidence, error, sent FROM alert_state ORDER BY since"
            ).fetchall()
        return [
            Alert(alertname, rule, target, state, datetime.fromisoformat(since),
                  result_from_json(evidence) if evidence else None, error,
                  {name: datetime.fromisoformat(at) for name, at in json.loads(sent).items()})
            for alertname, rule, target, state, since, evidence, error, sent in rows
        ]

    def save(self, alerts: list[Alert], deleted: list[str]) -> None:
        """Write alerts and forget fingerprints in one transaction."""
        if not alerts and not deleted:
            return
        rows = [(a.fingerprint, a.alertname, a.rule, a.target, a.state, a.since.isoformat(),
                 result_to_json(a.evidence) if a.evidence else None, a.error,
                 json.dumps({name: at.isoformat() for name, at in a.sent.items()}, sort_keys=True)) for a in alerts]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany("DELETE FROM alert_state WHERE fingerprint = ?", [(f,) for f in deleted])
                self._conn.executemany("INSERT OR REPLACE INTO alert_state VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

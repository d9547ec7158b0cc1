"""Alert state in the `--state` file, so a restart neither pages again nor forgets an alert.

One table, `alert_state`, on the state file's one connection (watchdog.statefile), beside the
outbox's `notify_outbox`. Changes are staged in memory and written by the runtime in the same
transaction as the notifications they queue; a change that could not be written stays staged
(the latest version of each alert) until a write succeeds.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from watchdog.results.model import Result
from watchdog.runtime.acks import Ack
from watchdog.runtime.alerts import Alert
from watchdog.statefile import StateDatabase, StateError

__all__ = ["StateError", "StateStore"]

SCHEMA = {"": """
CREATE TABLE IF NOT EXISTS alert_state (
    fingerprint TEXT PRIMARY KEY,
    alertname TEXT NOT NULL,
    rule TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'firing')),
    since TEXT NOT NULL,
    evidence TEXT,
    error TEXT,
    sent TEXT NOT NULL,
    ack TEXT
);
"""}
# A state written before acknowledgements existed has no `ack` column: added at start.
ADD_ACK = {"": "ALTER TABLE alert_state ADD COLUMN ack TEXT",
           "postgresql": "ALTER TABLE alert_state ADD COLUMN IF NOT EXISTS ack TEXT"}
COLUMNS = ("fingerprint", "alertname", "rule", "target", "state", "since", "evidence", "error", "sent", "ack")
UPSERT = (f"INSERT INTO alert_state ({', '.join(COLUMNS)}) VALUES ({', '.join(['{p}'] * len(COLUMNS))}) "
          "ON CONFLICT (fingerprint) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:]))


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


def _row(alert: Alert) -> tuple[object, ...]:
    return (alert.fingerprint, alert.alertname, alert.rule, alert.target, alert.state, alert.since.isoformat(),
            result_to_json(alert.evidence) if alert.evidence else None, alert.error,
            json.dumps({name: at.isoformat() for name, at in alert.sent.items()}, sort_keys=True),
            json.dumps(alert.ack.to_state(), sort_keys=True) if alert.ack else None)


class StateStore:
    """Active alerts by fingerprint. Guarded by the state file's lock."""

    def __init__(self, db: StateDatabase) -> None:
        db.schema(SCHEMA)
        self._db = db
        self._add_ack_column()
        self._staged: dict[str, Alert | None] = {}  # fingerprint -> its latest version (None: forget it)

    @property
    def path(self) -> str:
        return self._db.path

    def _add_ack_column(self) -> None:
        try:
            self._db.read("SELECT ack FROM alert_state WHERE 1 = 0")
        except self._db.Error:
            self._db.schema(ADD_ACK)

    def load(self) -> list[Alert]:
        """The alerts of the last run; a file that cannot be read is a StateError naming it."""
        try:
            rows = self._db.read(f"SELECT {', '.join(COLUMNS[1:])} FROM alert_state ORDER BY since")
            return [
                Alert(str(alertname), str(rule), str(target), str(state), datetime.fromisoformat(str(since)),
                      result_from_json(str(evidence)) if evidence else None, None if error is None else str(error),
                      {name: datetime.fromisoformat(at) for name, at in json.loads(str(sent)).items()},
                      Ack.from_state(json.loads(str(ack))) if ack else None)
                for alertname, rule, target, state, since, evidence, error, sent, ack in rows
            ]
        except (self._db.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateError(f"state {self.path} cannot be read ({type(exc).__name__}: {exc}); "
                             "move it aside to start afresh") from None

    def stage(self, alerts: list[Alert], deleted: list[str]) -> None:
        """Keep changes for the next write (the state file's lock held)."""
        self._staged.update((fingerprint, None) for fingerprint in deleted)
        self._staged.update((alert.fingerprint, alert) for alert in alerts)

    @property
    def unsynced(self) -> int:
        return len(self._staged)

    def write(self, conn: Any) -> None:
        """Inside the caller's transaction: write every staged change."""
        gone = [(f,) for f, alert in self._staged.items() if alert is None]
        rows = [_row(alert) for alert in self._staged.values() if alert is not None]
        if gone:
            conn.cursor().executemany(self._db.sql("DELETE FROM alert_state WHERE fingerprint = {p}"), gone)
        if rows:
            conn.cursor().executemany(self._db.sql(UPSERT), rows)

    def written(self) -> None:
        self._staged.clear()
